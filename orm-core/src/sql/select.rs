//! From a query to a statement tree: the join tree (keyed by how each table
//! was reached, INNER or LEFT by Django's rule), the filter as expressions
//! over resolved columns, ordering and limits, and the load plan. The tree is
//! written by `crate::sql` through the handle's dialect, so values never enter
//! the text and identifiers are quoted in one place.

use rusqlite::types::Value;

use crate::error::{Error, Result};
use crate::meta::{FieldMeta, ModelMeta};
use crate::query::{check_depth, Lookup, Op, Path, Rhs, Spec, Step, Subquery, Q};
use crate::sql::{self, Dialect, Expr, PatternKind};

/// Quotes an SQL identifier as SQLite (and PostgreSQL) do: `"name"`, with
/// inner quotes doubled.
pub fn quote(ident: &str) -> String {
    let mut s = String::with_capacity(ident.len() + 2);
    sql::Sqlite.quote(&mut s, ident);
    s
}

/// How a join node was reached from its parent.
#[derive(Debug, Clone, Copy)]
enum Edge {
    Root,
    /// The parent link from a multi-table child to its parent table.
    Ancestor,
    Rel(Step),
}

#[derive(Debug)]
struct Join {
    parent: usize,
    edge: Edge,
    model: &'static ModelMeta,
    alias: String,
    left: bool,
    on: Option<Expr>,
}

/// The FROM clause being built: a tree of joins keyed by how each was reached.
#[derive(Debug)]
pub(crate) struct Joins {
    /// Never empty (node 0 is the root) and never shrunk: every index used
    /// (`parent`, `at`, what `find`/`step`/`walk`/`ancestor` return) comes
    /// from a push or a search of this vector, so indexing cannot panic. (The
    /// root's `parent`, `usize::MAX`, is never followed: only the parents of
    /// nodes reached by an edge are.)
    nodes: Vec<Join>,
    /// Every column the statement reads (joins and filters), by table: what
    /// the delete collector needs to order its statements, found by the same
    /// resolution that writes the SQL.
    reads: Vec<(&'static ModelMeta, &'static str)>,
}

impl Joins {
    fn new(root: &'static ModelMeta) -> Joins {
        Joins {
            nodes: vec![Join {
                parent: usize::MAX,
                edge: Edge::Root,
                model: root,
                alias: root.table.to_string(),
                left: false,
                on: None,
            }],
            reads: Vec::new(),
        }
    }

    fn alias_for(&self, table: &str) -> String {
        if self.nodes.iter().any(|n| n.alias == table) {
            format!("T{}", self.nodes.len() + 1)
        } else {
            table.to_string()
        }
    }

    fn find(&self, parent: usize, edge: &Edge) -> Option<usize> {
        self.nodes.iter().position(|n| {
            n.parent == parent
                && match (&n.edge, edge) {
                    (Edge::Ancestor, Edge::Ancestor) => true,
                    (Edge::Rel(a), Edge::Rel(b)) => a.same(b),
                    _ => false,
                }
        })
    }

    /// The node of the ancestor table at `depth` above node `at`.
    fn ancestor(&mut self, mut at: usize, depth: usize) -> usize {
        for _ in 0..depth {
            let model = self.nodes[at].model;
            let Some(parent) = model.parent() else { break };
            at = match self.find(at, &Edge::Ancestor) {
                Some(i) => i,
                None => {
                    let alias = self.alias_for(parent.table);
                    let link = model.pk_field();
                    self.reads.push((model, link.column));
                    self.reads.push((parent, parent.pk_field().column));
                    let on = col(&self.nodes[at].alias, link.column)
                        .eq(col(&alias, parent.pk_field().column));
                    let left = self.nodes[at].left;
                    self.nodes.push(Join {
                        parent: at,
                        edge: Edge::Ancestor,
                        model: parent,
                        alias,
                        left,
                        on: Some(on),
                    });
                    self.nodes.len() - 1
                }
            }
        }
        at
    }

    /// Like [`Joins::ancestor`], for loading columns only: a child reached
    /// from its parent through the reverse parent link (`select_related` of
    /// `place.restaurant`) reads the parent's columns from the node it came
    /// from, the same row, instead of joining the parent table again. (Filters
    /// keep the join, so a missing child row still reads as NULL.)
    fn load_ancestor(&mut self, at: usize, depth: usize) -> usize {
        if depth > 0 {
            if let Edge::Rel(Step::Reverse { rel, .. }) = self.nodes[at].edge {
                let from = self.nodes[at].parent;
                if rel.rel.parent_link && self.nodes[from].model.is(rel.target) {
                    return self.load_ancestor(from, depth - 1);
                }
            }
        }
        self.ancestor(at, depth)
    }

    /// The node reached from `at` by `step`; `left` asks for a LEFT JOIN.
    fn step(&mut self, at: usize, step: Step, left: bool) -> usize {
        let (depth, target) = match step {
            Step::Forward { depth, .. } | Step::Reverse { depth, .. } => (depth, step.target()),
        };
        let from = self.ancestor(at, depth);
        let edge = Edge::Rel(step);
        if let Some(i) = self.find(from, &edge) {
            if left && !self.nodes[i].left {
                self.make_left(i);
            }
            return i;
        }
        let alias = self.alias_for(target.table);
        let on = match step {
            Step::Forward { field, .. } => {
                let to = field.target_field().unwrap_or_else(|| target.pk_field());
                self.reads.push((self.nodes[from].model, field.column));
                self.reads.push((target, to.column));
                col(&self.nodes[from].alias, field.column).eq(col(&alias, to.column))
            }
            Step::Reverse { rel, .. } => {
                let to = rel
                    .field
                    .target_field()
                    .unwrap_or_else(|| rel.target.pk_field());
                self.reads.push((self.nodes[from].model, to.column));
                self.reads.push((target, rel.field.column));
                col(&self.nodes[from].alias, to.column).eq(col(&alias, rel.field.column))
            }
        };
        let left = left || self.nodes[from].left || step.nullable();
        self.nodes.push(Join {
            parent: from,
            edge,
            model: target,
            alias,
            left,
            on: Some(on),
        });
        self.nodes.len() - 1
    }

    fn make_left(&mut self, i: usize) {
        self.nodes[i].left = true;
        for j in 0..self.nodes.len() {
            if self.nodes[j].parent == i && !self.nodes[j].left {
                self.make_left(j);
            }
        }
    }

    /// Follows `path` from the root; `left` forces LEFT JOINs (isnull, OR, NOT,
    /// select_related, order_by). Required forward hops stay INNER.
    fn walk(&mut self, path: &Path, left: bool) -> usize {
        let mut at = 0;
        for step in &path.steps {
            let want_left = match step {
                Step::Forward { field, .. } => left && field.null,
                Step::Reverse { .. } => left,
            };
            at = self.step(at, *step, want_left);
            if !want_left && matches!(step, Step::Reverse { .. }) {
                // A reverse hop used to compare a value: INNER is enough.
                self.nodes[at].left = self.nodes[self.nodes[at].parent].left;
            }
        }
        at
    }

    /// The FROM clause of the tree.
    fn from(&self) -> sql::From {
        let alias_of = |n: &Join| (n.alias != n.model.table).then(|| n.alias.clone().into());
        sql::From {
            source: sql::Source::table(self.nodes[0].model.table),
            alias: alias_of(&self.nodes[0]),
            joins: self.nodes[1..]
                .iter()
                .map(|n| sql::Join {
                    left: n.left,
                    source: sql::Source::table(n.model.table),
                    alias: alias_of(n),
                    on: n.on.clone().unwrap_or(Expr::False),
                })
                .collect(),
        }
    }
}

fn col(alias: &str, column: &'static str) -> Expr {
    Expr::col(alias.to_string(), column)
}

/// How the columns of one loaded object sit in a result row.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// The relation followed to reach this object (None for the queried model).
    pub step: Option<Step>,
    /// The model loaded.
    pub model: &'static ModelMeta,
    /// How many columns its `from_row` reads.
    pub width: usize,
    /// Offset (relative to its first column) of its own primary key, to detect
    /// a missing LEFT JOIN row.
    pub pk_offset: usize,
    /// Nested `select_related` objects, whose columns follow.
    pub children: Vec<LoadPlan>,
}

/// A rendered SELECT.
#[derive(Debug)]
pub struct Select {
    /// SQL text.
    pub sql: String,
    /// Bound values, in order.
    pub params: Vec<Value>,
    /// The decode plan.
    pub plan: LoadPlan,
}

/// Appends the columns of `model` at join node `at` (ancestors first) and
/// returns the plan entry.
fn select_model(
    joins: &mut Joins,
    at: usize,
    model: &'static ModelMeta,
    cols: &mut Vec<Expr>,
    step: Option<Step>,
) -> LoadPlan {
    let mut levels: Vec<(usize, &'static ModelMeta)> = model.chain().enumerate().collect();
    levels.reverse();
    let mut width = 0;
    let mut pk_offset = 0;
    for (depth, m) in levels {
        let node = joins.load_ancestor(at, depth);
        let alias = joins.nodes[node].alias.clone();
        for (i, f) in m.fields.iter().enumerate() {
            if depth == 0 && i == model.pk {
                pk_offset = width;
            }
            cols.push(col(&alias, f.column));
            width += 1;
        }
    }
    LoadPlan {
        step,
        model,
        width,
        pk_offset,
        children: Vec::new(),
    }
}

fn add_related(
    joins: &mut Joins,
    plan: &mut LoadPlan,
    at: usize,
    steps: &[Step],
    cols: &mut Vec<Expr>,
) {
    let Some((first, rest)) = steps.split_first() else {
        return;
    };
    let node = joins.step(at, *first, matches!(first, Step::Reverse { .. }));
    let idx = match plan
        .children
        .iter()
        .position(|c| c.step.is_some_and(|s| s.same(first)))
    {
        Some(i) => i,
        None => {
            let child = select_model(joins, node, first.target(), cols, Some(*first));
            plan.children.push(child);
            plan.children.len() - 1
        }
    };
    add_related(joins, &mut plan.children[idx], node, rest, cols);
}

/// A SELECT of every column of `model` (ancestors joined) and of the
/// `select_related` objects of `spec`, with its decode plan.
pub(crate) fn select_tree(
    model: &'static ModelMeta,
    spec: &Spec,
) -> Result<(sql::Select, LoadPlan)> {
    let mut joins = Joins::new(model);
    let mut cols = Vec::new();
    let mut plan = select_model(&mut joins, 0, model, &mut cols, None);
    for r in &spec.related {
        let path = r.resolve(model, "select_related")?;
        add_related(&mut joins, &mut plan, 0, &path.steps, &mut cols);
    }
    let mut w = Where::new(joins);
    let mut sel = w.tail(model, spec)?;
    sel.columns = cols.into_iter().map(|c| (c, None)).collect();
    sel.from = Some(w.joins.from());
    Ok((sel, plan))
}

/// Renders `q` with `dialect`; a value the dialect cannot pass is an
/// [`Error::InvalidValue`] naming `model`.
pub(crate) fn write(
    dialect: &dyn Dialect,
    model: &'static ModelMeta,
    s: &sql::Statement,
) -> Result<(String, Vec<Value>)> {
    let (text, params) =
        sql::render(dialect, s).map_err(|sql::Unwritable(reason)| Error::InvalidValue {
            model: model.name,
            field: "?",
            value: "a list of values".into(),
            reason,
        })?;
    if params.len() > dialect.param_limit() {
        return Err(Error::Limit {
            message: format!(
                "a statement on {} binds {} values; the database allows {} \
                 (pass long lists to is_in, which binds one value)",
                model.name,
                params.len(),
                dialect.param_limit()
            ),
        });
    }
    Ok((text, params))
}

/// Renders a SELECT of `model` for `spec` as SQLite text.
///
/// # Errors
///
/// [`Error::Field`] when a name does not resolve.
pub fn select(model: &'static ModelMeta, spec: &Spec) -> Result<Select> {
    select_with(&sql::Sqlite, model, spec)
}

/// [`select`] with a dialect.
pub(crate) fn select_with(
    dialect: &dyn Dialect,
    model: &'static ModelMeta,
    spec: &Spec,
) -> Result<Select> {
    let (sel, plan) = select_tree(model, spec)?;
    let (sql, params) = write(dialect, model, &sql::Statement::Query(None, sel.into()))?;
    Ok(Select { sql, params, plan })
}

/// `SELECT COUNT(*)` or `SELECT 1 ... LIMIT 1` (exists) for `spec`.
pub(crate) fn aggregate(
    dialect: &dyn Dialect,
    model: &'static ModelMeta,
    spec: &Spec,
    exists: bool,
) -> Result<(String, Vec<Value>)> {
    let mut w = Where::new(Joins::new(model));
    let mut spec = spec.clone();
    spec.order.clear();
    let limited = spec.limit.is_some() || spec.offset.is_some();
    if exists {
        spec.limit = Some(1);
    }
    let mut sel = w.tail(model, &spec)?;
    sel.from = Some(w.joins.from());
    let q = if exists {
        sel.columns = vec![(Expr::Int(1), Some("a".into()))];
        sel
    } else if limited {
        sel.columns = vec![(Expr::Int(1), None)];
        sql::Select {
            columns: vec![(Expr::CountStar, None)],
            from: Some(sql::From {
                source: sql::Source::Query(Box::new(sel.into())),
                alias: None,
                joins: Vec::new(),
            }),
            ..sql::Select::default()
        }
    } else {
        sel.columns = vec![(Expr::CountStar, None)];
        sel
    };
    write(dialect, model, &sql::Statement::Query(None, q.into()))
}

/// `SELECT <pk> FROM ... WHERE ...`: the keys matched by `spec`, as a tree
/// (bulk update and delete embed it).
pub(crate) fn keys_query(model: &'static ModelMeta, spec: &Spec) -> Result<sql::Query> {
    Ok(keys_query_reads(model, spec)?.0)
}

/// [`keys_query`] with every column it reads, by table (the delete
/// collector orders its statements by them).
pub(crate) fn keys_query_reads(
    model: &'static ModelMeta,
    spec: &Spec,
) -> Result<(sql::Query, Vec<(&'static ModelMeta, &'static str)>)> {
    let mut w = Where::new(Joins::new(model));
    let mut spec = spec.clone();
    spec.order.clear();
    let mut sel = w.tail(model, &spec)?;
    sel.columns = vec![(col(model.table, model.pk_field().column), None)];
    sel.from = Some(w.joins.from());
    Ok((sel.into(), w.joins.reads))
}

/// WHERE / ORDER BY / LIMIT with its join tree.
struct Where {
    joins: Joins,
}

impl Where {
    fn new(joins: Joins) -> Where {
        Where { joins }
    }

    /// A SELECT with the filter, order and limits of `spec` (no columns or
    /// FROM yet: the caller adds them once the joins are complete).
    fn tail(&mut self, model: &'static ModelMeta, spec: &Spec) -> Result<sql::Select> {
        let mut sel = sql::Select::default();
        if let Some(q) = &spec.filter {
            check_depth(q)?;
            sel.filter = self.q(model, q, false)?.map(|(e, _)| e);
        }
        for o in &spec.order {
            let (path, depth, field) = o.target.resolve(model)?;
            sel.order
                .push((self.column(&path, depth, field, true), o.desc));
        }
        // SQLite takes signed 64-bit numbers; no table holds more rows, so a
        // larger limit or offset means the same as i64::MAX.
        let clamp = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        sel.limit = spec.limit.map(clamp);
        sel.offset = spec.offset.map(clamp);
        Ok(sel)
    }

    fn column(&mut self, path: &Path, depth: usize, field: &'static FieldMeta, left: bool) -> Expr {
        let node = self.joins.walk(path, left);
        let node = self.joins.ancestor(node, depth);
        self.joins
            .reads
            .push((self.joins.nodes[node].model, field.column));
        col(&self.joins.nodes[node].alias, field.column)
    }

    /// The condition of `q`: `None` when it is always true, else the
    /// expression and whether it can evaluate to NULL (SQL's UNKNOWN).
    ///
    /// Filters follow Django's two-valued rule: a lookup on a NULL column or a
    /// missing related row is false, and its negation true, so `filter(q)`
    /// and `exclude(q)` partition the table. A negation of something that can
    /// be NULL is therefore written `(...) IS NOT TRUE`, never `NOT (...)`.
    /// Values live in the tree, so a subtree that simplifies away takes its
    /// values with it.
    fn q(&mut self, model: &'static ModelMeta, q: &Q, loose: bool) -> Result<Option<(Expr, bool)>> {
        match q {
            Q::All => Ok(None),
            Q::Leaf(l) => self.lookup(model, l, loose).map(Some),
            Q::And(children) | Q::Or(children) => {
                let is_or = matches!(q, Q::Or(_));
                let loose = loose || is_or;
                let mut parts = Vec::with_capacity(children.len());
                let mut nullable = false;
                for c in children {
                    match self.q(model, c, loose)? {
                        Some((e, n)) => {
                            nullable |= n;
                            parts.push(e);
                        }
                        // One always-true alternative makes the OR always true.
                        None if is_or => return Ok(None),
                        None => {}
                    }
                }
                if parts.is_empty() {
                    // An empty OR is false (no alternative holds).
                    if is_or && children.is_empty() {
                        return Ok(Some((Expr::False, false)));
                    }
                    return Ok(None);
                }
                let e = if is_or {
                    Expr::any(parts)
                } else {
                    Expr::all(parts)
                };
                Ok(e.map(|e| (e, nullable)))
            }
            Q::Not(inner) => Ok(Some((
                match self.q(model, inner, true)? {
                    Some((e, true)) => Expr::IsNotTrue(Box::new(e)),
                    Some((e, false)) => Expr::Not(Box::new(e)),
                    None => Expr::False,
                },
                false,
            ))),
        }
    }

    /// One lookup, and whether it can evaluate to NULL.
    fn lookup(
        &mut self,
        model: &'static ModelMeta,
        l: &Lookup,
        loose: bool,
    ) -> Result<(Expr, bool)> {
        let (path, depth, field) = l.target.resolve(model)?;
        let invalid = |value: String, reason: String| Error::InvalidValue {
            model: path.end().ancestor(depth).name,
            field: field.name,
            value,
            reason,
        };
        if let Rhs::Invalid { value, reason } = &l.rhs {
            return Err(invalid(value.clone(), reason.clone()));
        }
        let is_null_test = match (&l.op, &l.rhs) {
            (Op::IsNull, Rhs::Value(Value::Integer(i))) => Some(*i != 0),
            (Op::IsNull, _) => {
                return Err(invalid(
                    format!("{:?}", l.rhs),
                    "isnull takes true or false".into(),
                ))
            }
            // Django: `exact=None` and `iexact=None` are `isnull=True`.
            (Op::Exact | Op::IExact, Rhs::Value(Value::Null)) => Some(true),
            // Any other lookup with None is refused, as Django does.
            (_, Rhs::Value(Value::Null)) => {
                return Err(invalid(
                    "None".into(),
                    "Cannot use None as a query value".into(),
                ))
            }
            (Op::Range, Rhs::List(vs)) if vs.iter().any(|v| matches!(v, Value::Null)) => {
                return Err(invalid(
                    "None".into(),
                    "Cannot use None as a query value".into(),
                ))
            }
            _ => None,
        };
        let left = loose || is_null_test == Some(true);
        let c = Box::new(self.column(&path, depth, field, left));
        // The column can be NULL when it is nullable or reached through a
        // relation that may be missing.
        let nullable = field.null || path.steps.iter().any(Step::nullable);
        if let Some(null) = is_null_test {
            return Ok((Expr::IsNull(c, null), false));
        }
        let cmp = |op| match &l.rhs {
            Rhs::Value(v) => Ok(Expr::Cmp(c.clone(), op, Box::new(Expr::Param(v.clone())))),
            rhs => Err(invalid(
                format!("{rhs:?}"),
                format!("not a valid right-hand side for {:?}", l.op),
            )),
        };
        Ok(match (&l.op, &l.rhs) {
            (Op::Exact, _) => (cmp(sql::Cmp::Eq)?, nullable),
            (Op::Lt, _) => (cmp(sql::Cmp::Lt)?, nullable),
            (Op::Lte, _) => (cmp(sql::Cmp::Lte)?, nullable),
            (Op::Gt, _) => (cmp(sql::Cmp::Gt)?, nullable),
            (Op::Gte, _) => (cmp(sql::Cmp::Gte)?, nullable),
            // `lower()` folds ASCII only, as SQLite's LIKE does, and unlike
            // LIKE it compares every byte (LIKE stops at a NUL).
            (Op::IExact, Rhs::Value(v)) => (Expr::IExact(c, value_text(v)), nullable),
            (
                Op::Contains
                | Op::IContains
                | Op::StartsWith
                | Op::IStartsWith
                | Op::EndsWith
                | Op::IEndsWith,
                Rhs::Value(v),
            ) => {
                let needle = value_text(v);
                if needle.is_empty() {
                    // Every text contains, starts and ends with "".
                    return Ok((Expr::IsNull(c, false), false));
                }
                let (kind, insensitive) = match l.op {
                    Op::Contains => (PatternKind::Contains, false),
                    Op::IContains => (PatternKind::Contains, true),
                    Op::StartsWith => (PatternKind::StartsWith, false),
                    Op::IStartsWith => (PatternKind::StartsWith, true),
                    Op::EndsWith => (PatternKind::EndsWith, false),
                    _ => (PatternKind::EndsWith, true),
                };
                // Byte comparisons may be NULL even for a column that is
                // not (`substr` of an empty BLOB): negations stay NULL-safe.
                let e = Expr::Pattern {
                    expr: c,
                    kind,
                    insensitive,
                    needle,
                };
                (e, true)
            }
            (Op::In, Rhs::List(vs)) => {
                // Django drops None from `in` lists: `x IN (NULL, ...)` is
                // never true and would make a negation unknown.
                let vs: Vec<Value> = vs
                    .iter()
                    .filter(|v| !matches!(v, Value::Null))
                    .cloned()
                    .collect();
                if vs.is_empty() {
                    return Ok((Expr::False, false));
                }
                if vs.len() > sql::LONG_IN {
                    sql::dialect::json_array(&vs).map_err(|reason| {
                        invalid(format!("a list of {} values", vs.len()), reason)
                    })?;
                }
                (Expr::In(c, vs), nullable)
            }
            // The subquery's column may hold NULLs.
            (Op::In, Rhs::Subquery(sq)) => {
                let (q, reads) = subquery(sq)?;
                self.joins.reads.extend(reads);
                (Expr::InQuery(c, Box::new(q)), true)
            }
            (Op::Range, Rhs::List(vs)) if vs.len() == 2 => {
                (Expr::Between(c, vs[0].clone(), vs[1].clone()), nullable)
            }
            (op, rhs) => {
                return Err(invalid(
                    format!("{rhs:?}"),
                    format!("not a valid right-hand side for {op:?}"),
                ))
            }
        })
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::Text(s) => s.clone(),
        Value::Integer(i) => i.to_string(),
        Value::Real(r) => r.to_string(),
        Value::Blob(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Null => String::new(),
    }
}

fn subquery(sq: &Subquery) -> Result<(sql::Query, Vec<(&'static ModelMeta, &'static str)>)> {
    let mut w = Where::new(Joins::new(sq.model));
    let mut spec = sq.spec.clone();
    spec.related.clear();
    let mut sel = w.tail(sq.model, &spec)?;
    let c = match &sq.column {
        Some(t) => {
            let (path, depth, field) = t.resolve(sq.model)?;
            w.column(&path, depth, field, false)
        }
        None => col(sq.model.table, sq.model.pk_field().column),
    };
    sel.columns = vec![(c, None)];
    sel.from = Some(w.joins.from());
    Ok((sel.into(), w.joins.reads))
}

impl<M: crate::meta::Metadata> crate::query::QuerySet<M> {
    /// The SQL text and bound values this query runs (as SQLite text).
    ///
    /// # Examples
    ///
    /// ```
    /// use orm_core::prelude::*;
    ///
    /// #[derive(Model, Debug, Clone)]
    /// #[model(app = "docs")]
    /// pub struct Writer {
    ///     pub id: Option<i64>,
    ///     #[field(max_length = 50)]
    ///     pub name: String,
    /// }
    ///
    /// let qs = Writer::objects()
    ///     .filter(Writer::name().starts_with("Ann"))
    ///     .order_by(Writer::name().desc())
    ///     .limit(10);
    /// let (sql, params) = qs.to_sql()?;
    /// assert_eq!(
    ///     sql,
    ///     r#"SELECT "docs_writer"."id", "docs_writer"."name" FROM "docs_writer" WHERE "docs_writer"."name" GLOB ? ORDER BY "docs_writer"."name" DESC LIMIT 10"#
    /// );
    /// assert_eq!(params, vec![Value::Text("Ann*".into())]);
    /// # Ok::<(), orm_core::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Field`] when a lookup does not resolve.
    pub fn to_sql(&self) -> Result<(String, Vec<Value>)> {
        self.spec.check()?;
        let plan = select(M::__META, &self.spec)?;
        Ok((plan.sql, plan.params))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_doubles_inner_quotes() {
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote("; DROP TABLE x"), "\"; DROP TABLE x\"");
    }

    #[test]
    fn like_escapes_wildcards() {
        assert_eq!(
            sql::dialect::like_escape("50%_off\\", "%", "%"),
            "%50\\%\\_off\\\\%"
        );
    }
}
