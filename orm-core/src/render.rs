//! Rendering: one walk over a query appends SQL text and pushes bound values
//! together, so they cannot get out of step. Values never enter the text;
//! identifiers are quoted by [`quote`] alone.

use std::fmt::Write;

use rusqlite::types::Value;

use crate::error::{Error, Result};
use crate::meta::{FieldMeta, ModelMeta};
use crate::query::{check_depth, Lookup, Op, Path, Rhs, Spec, Step, Subquery, Q};

/// Quotes an SQL identifier: `"name"`, with inner quotes doubled. The only
/// place identifiers are written.
pub fn quote(ident: &str) -> String {
    let mut s = String::with_capacity(ident.len() + 2);
    push_quoted(&mut s, ident);
    s
}

fn push_quoted(s: &mut String, ident: &str) {
    s.push('"');
    for c in ident.chars() {
        if c == '"' {
            s.push('"');
        }
        s.push(c);
    }
    s.push('"');
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
    on: String,
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
                on: String::new(),
            }],
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
                    let mut on = String::new();
                    col_into(&mut on, &self.nodes[at].alias, link.column);
                    on.push_str(" = ");
                    col_into(&mut on, &alias, parent.pk_field().column);
                    let left = self.nodes[at].left;
                    self.nodes.push(Join {
                        parent: at,
                        edge: Edge::Ancestor,
                        model: parent,
                        alias,
                        left,
                        on,
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
        let mut on = String::new();
        match step {
            Step::Forward { field, .. } => {
                let to = field.target_field().unwrap_or_else(|| target.pk_field());
                col_into(&mut on, &self.nodes[from].alias, field.column);
                on.push_str(" = ");
                col_into(&mut on, &alias, to.column);
            }
            Step::Reverse { rel, .. } => {
                let to = rel
                    .field
                    .target_field()
                    .unwrap_or_else(|| rel.target.pk_field());
                col_into(&mut on, &self.nodes[from].alias, to.column);
                on.push_str(" = ");
                col_into(&mut on, &alias, rel.field.column);
            }
        }
        let left = left || self.nodes[from].left || step.nullable();
        self.nodes.push(Join {
            parent: from,
            edge,
            model: target,
            alias,
            left,
            on,
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

    fn render_from(&self, out: &mut String) {
        push_quoted(out, self.nodes[0].model.table);
        if self.nodes[0].alias != self.nodes[0].model.table {
            out.push(' ');
            push_quoted(out, &self.nodes[0].alias);
        }
        for n in &self.nodes[1..] {
            out.push_str(if n.left {
                " LEFT OUTER JOIN "
            } else {
                " INNER JOIN "
            });
            push_quoted(out, n.model.table);
            if n.alias != n.model.table {
                out.push(' ');
                push_quoted(out, &n.alias);
            }
            out.push_str(" ON (");
            out.push_str(&n.on);
            out.push(')');
        }
    }
}

fn col_into(out: &mut String, alias: &str, column: &str) {
    push_quoted(out, alias);
    out.push('.');
    push_quoted(out, column);
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
    cols: &mut String,
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
            if !cols.is_empty() {
                cols.push_str(", ");
            }
            col_into(cols, &alias, f.column);
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
    cols: &mut String,
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

/// Renders a SELECT of `model` for `spec`.
///
/// # Errors
///
/// [`Error::Field`] when a name does not resolve.
pub fn select(model: &'static ModelMeta, spec: &Spec) -> Result<Select> {
    let mut joins = Joins::new(model);
    let mut cols = String::new();
    let mut plan = select_model(&mut joins, 0, model, &mut cols, None);
    for r in &spec.related {
        let path = r.resolve(model, "select_related")?;
        add_related(&mut joins, &mut plan, 0, &path.steps, &mut cols);
    }
    let mut w = Where::new(joins);
    let tail = w.tail(model, spec)?;
    let mut sql = String::with_capacity(64 + cols.len() + tail.len());
    sql.push_str("SELECT ");
    sql.push_str(&cols);
    sql.push_str(" FROM ");
    w.joins.render_from(&mut sql);
    sql.push_str(&tail);
    Ok(Select {
        sql,
        params: w.params,
        plan,
    })
}

/// Renders `SELECT COUNT(*)` or `SELECT 1 ... LIMIT 1` (exists) for `spec`.
pub(crate) fn aggregate(
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
    let tail = w.tail(model, &spec)?;
    let mut from = String::new();
    w.joins.render_from(&mut from);
    let sql = if exists {
        format!("SELECT 1 AS \"a\" FROM {from}{tail}")
    } else if limited {
        format!("SELECT COUNT(*) FROM (SELECT 1 FROM {from}{tail})")
    } else {
        format!("SELECT COUNT(*) FROM {from}{tail}")
    };
    Ok((sql, w.params))
}

/// Renders `SELECT <pk> FROM ... WHERE ...` for the keys matched by `spec`
/// (used by bulk update and delete).
pub(crate) fn keys_subquery(
    model: &'static ModelMeta,
    spec: &Spec,
) -> Result<(String, Vec<Value>)> {
    let mut w = Where::new(Joins::new(model));
    let mut spec = spec.clone();
    spec.order.clear();
    let tail = w.tail(model, &spec)?;
    let mut sql = String::from("SELECT ");
    col_into(&mut sql, model.table, model.pk_field().column);
    sql.push_str(" FROM ");
    w.joins.render_from(&mut sql);
    sql.push_str(&tail);
    Ok((sql, w.params))
}

/// WHERE / ORDER BY / LIMIT rendering with its join tree.
struct Where {
    joins: Joins,
    params: Vec<Value>,
}

impl Where {
    fn new(joins: Joins) -> Where {
        Where {
            joins,
            params: Vec::new(),
        }
    }

    fn tail(&mut self, model: &'static ModelMeta, spec: &Spec) -> Result<String> {
        let mut out = String::new();
        if let Some(q) = &spec.filter {
            check_depth(q)?;
            let mut cond = String::new();
            if self.q(model, q, &mut cond, false)?.is_some() {
                out.push_str(" WHERE ");
                out.push_str(&cond);
            }
        }
        if !spec.order.is_empty() {
            out.push_str(" ORDER BY ");
            for (i, o) in spec.order.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let (path, depth, field) = o.target.resolve(model)?;
                self.column(&path, depth, field, true, &mut out);
                out.push_str(if o.desc { " DESC" } else { " ASC" });
            }
        }
        // LIMIT/OFFSET are literals: a bound LIMIT makes SQLite re-prepare.
        // SQLite takes signed 64-bit numbers; no table holds more rows, so a
        // larger limit or offset means the same as i64::MAX.
        let clamp = |n: u64| n.min(i64::MAX as u64);
        match (spec.limit.map(clamp), spec.offset.map(clamp)) {
            (Some(l), Some(o)) => {
                let _ = write!(out, " LIMIT {l} OFFSET {o}");
            }
            (Some(l), None) => {
                let _ = write!(out, " LIMIT {l}");
            }
            (None, Some(o)) => {
                let _ = write!(out, " LIMIT -1 OFFSET {o}");
            }
            (None, None) => {}
        }
        Ok(out)
    }

    fn column(
        &mut self,
        path: &Path,
        depth: usize,
        field: &FieldMeta,
        left: bool,
        out: &mut String,
    ) {
        let node = self.joins.walk(path, left);
        let node = self.joins.ancestor(node, depth);
        col_into(out, &self.joins.nodes[node].alias, field.column);
    }

    /// Renders `q` into `out`. Returns `None` when `q` is always true (nothing
    /// written; values of the subtree are not kept), else whether the written
    /// condition can evaluate to NULL (SQL's UNKNOWN).
    ///
    /// Filters follow Django's two-valued rule: a lookup on a NULL column or a
    /// missing related row is false, and its negation true, so `filter(q)`
    /// and `exclude(q)` partition the table. A negation of something that can
    /// be NULL is therefore written `(...) IS NOT TRUE`, never `NOT (...)`.
    fn q(
        &mut self,
        model: &'static ModelMeta,
        q: &Q,
        out: &mut String,
        loose: bool,
    ) -> Result<Option<bool>> {
        match q {
            Q::All => Ok(None),
            Q::Leaf(l) => self.lookup(model, l, out, loose).map(Some),
            Q::And(children) | Q::Or(children) => {
                let is_or = matches!(q, Q::Or(_));
                let loose = loose || is_or;
                let mark = self.params.len();
                let mut parts = Vec::with_capacity(children.len());
                let mut nullable = false;
                for c in children {
                    let mut s = String::new();
                    match self.q(model, c, &mut s, loose)? {
                        Some(n) => {
                            nullable |= n;
                            parts.push(s);
                        }
                        // One always-true alternative makes the OR always
                        // true: drop what its siblings bound.
                        None if is_or => {
                            self.params.truncate(mark);
                            return Ok(None);
                        }
                        None => {}
                    }
                }
                if parts.is_empty() {
                    // An empty OR is false (Django: an empty Q() | nothing).
                    if is_or && children.is_empty() {
                        out.push_str("0 = 1");
                        return Ok(Some(false));
                    }
                    return Ok(None);
                }
                join_balanced(out, &parts, if is_or { " OR " } else { " AND " });
                Ok(Some(nullable))
            }
            Q::Not(inner) => {
                let mut s = String::new();
                match self.q(model, inner, &mut s, true)? {
                    Some(true) => {
                        out.push('(');
                        out.push_str(&s);
                        out.push_str(") IS NOT TRUE");
                    }
                    Some(false) => {
                        out.push_str("NOT (");
                        out.push_str(&s);
                        out.push(')');
                    }
                    None => out.push_str("0 = 1"),
                }
                Ok(Some(false))
            }
        }
    }

    /// Renders one lookup; returns whether it can evaluate to NULL.
    fn lookup(
        &mut self,
        model: &'static ModelMeta,
        l: &Lookup,
        out: &mut String,
        loose: bool,
    ) -> Result<bool> {
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
        let mut col = String::new();
        self.column(&path, depth, field, left, &mut col);
        // The column can be NULL when it is nullable or reached through a
        // relation that may be missing.
        let mut nullable = field.null || path.steps.iter().any(Step::nullable);
        if let Some(null) = is_null_test {
            out.push_str(&col);
            out.push_str(if null { " IS NULL" } else { " IS NOT NULL" });
            return Ok(false);
        }
        let one = |this: &mut Where, out: &mut String, v: &Value| {
            out.push('?');
            this.params.push(v.clone());
        };
        match (&l.op, &l.rhs) {
            (Op::Exact, Rhs::Value(v)) => {
                out.push_str(&col);
                out.push_str(" = ");
                one(self, out, v);
            }
            (Op::Lt | Op::Lte | Op::Gt | Op::Gte, Rhs::Value(v)) => {
                out.push_str(&col);
                out.push_str(match l.op {
                    Op::Lt => " < ",
                    Op::Lte => " <= ",
                    Op::Gt => " > ",
                    _ => " >= ",
                });
                one(self, out, v);
            }
            (Op::IExact, Rhs::Value(v)) => {
                // `lower()` folds ASCII only, as SQLite's LIKE does, and unlike
                // LIKE it compares every byte (LIKE stops at a NUL).
                let _ = write!(out, "lower({col}) = ?");
                self.params
                    .push(Value::Text(value_text(v).to_ascii_lowercase()));
            }
            (
                Op::Contains
                | Op::IContains
                | Op::StartsWith
                | Op::IStartsWith
                | Op::EndsWith
                | Op::IEndsWith,
                Rhs::Value(v),
            ) => {
                // `substr` of an empty BLOB is NULL even for a column that
                // is not: negations must be NULL-safe.
                nullable = true;
                self.pattern(out, &col, l.op, v)
            }
            (Op::In, Rhs::List(vs)) => {
                // Django drops None from `in` lists: `x IN (NULL, ...)` is
                // never true for NULL and would make a negation unknown.
                let kept: Vec<Value>;
                let vs = if vs.iter().any(|v| matches!(v, Value::Null)) {
                    kept = vs
                        .iter()
                        .filter(|v| !matches!(v, Value::Null))
                        .cloned()
                        .collect();
                    &kept
                } else {
                    vs
                };
                if vs.is_empty() {
                    out.push_str("0 = 1");
                    return Ok(false);
                }
                out.push_str(&col);
                if vs.len() > LONG_IN {
                    // One bound JSON array instead of one value each: any
                    // length fits SQLite's limit on bound values, and the
                    // statement text stays the same for every length.
                    out.push_str(" IN (SELECT ");
                    if matches!(vs[0], Value::Blob(_)) {
                        out.push_str("unhex(\"value\")");
                    } else {
                        out.push_str("\"value\"");
                    }
                    out.push_str(" FROM json_each(?))");
                    let json = json_array(vs).map_err(|reason| {
                        invalid(format!("a list of {} values", vs.len()), reason)
                    })?;
                    self.params.push(Value::Text(json));
                } else {
                    out.push_str(" IN (");
                    for (i, v) in vs.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        one(self, out, v);
                    }
                    out.push(')');
                }
            }
            (Op::In, Rhs::Subquery(sq)) => {
                // The subquery's column may hold NULLs.
                nullable = true;
                out.push_str(&col);
                out.push_str(" IN (");
                let (sql, params) = subquery(sq)?;
                out.push_str(&sql);
                self.params.extend(params);
                out.push(')');
            }
            (Op::Range, Rhs::List(vs)) if vs.len() == 2 => {
                out.push_str(&col);
                out.push_str(" BETWEEN ? AND ?");
                self.params.extend(vs.iter().cloned());
            }
            (op, rhs) => {
                return Err(invalid(
                    format!("{rhs:?}"),
                    format!("not a valid right-hand side for {op:?}"),
                ))
            }
        }
        Ok(nullable)
    }

    /// `contains`, `startswith`, `endswith` and their case-insensitive forms,
    /// exact for every byte. SQLite's GLOB and LIKE stop at the first NUL of
    /// the pattern and of the value, so they are used only where that cannot
    /// change the answer (a prefix test with a needle free of NUL, which an
    /// index can serve); elsewhere the test compares bytes (`instr` and
    /// `substr` over BLOBs). The `i` forms fold ASCII case, as LIKE does.
    fn pattern(&mut self, out: &mut String, col: &str, op: Op, v: &Value) {
        let insensitive = matches!(op, Op::IContains | Op::IStartsWith | Op::IEndsWith);
        let text = value_text(v);
        let needle = if insensitive {
            text.to_ascii_lowercase()
        } else {
            text
        };
        if needle.is_empty() {
            // Every text contains, starts and ends with "" (`instr` with an
            // empty BLOB needle answers NULL, so it is not asked).
            let _ = write!(out, "{col} IS NOT NULL");
            return;
        }
        let has_nul = needle.contains('\0');
        let hay = if insensitive {
            format!("CAST(lower({col}) AS BLOB)")
        } else {
            format!("CAST({col} AS BLOB)")
        };
        match op {
            Op::StartsWith if !has_nul => {
                let _ = write!(out, "{col} GLOB ?");
                let mut p = String::with_capacity(needle.len() + 1);
                for c in needle.chars() {
                    match c {
                        '*' => p.push_str("[*]"),
                        '?' => p.push_str("[?]"),
                        '[' => p.push_str("[[]"),
                        c => p.push(c),
                    }
                }
                p.push('*');
                self.params.push(Value::Text(p));
            }
            Op::IStartsWith if !has_nul => {
                let _ = write!(out, "{col} LIKE ? ESCAPE '\\'");
                self.params
                    .push(like_pattern(&Value::Text(needle), "", "%"));
            }
            Op::StartsWith | Op::IStartsWith => {
                let _ = write!(out, "instr({hay}, ?) = 1");
                self.params.push(Value::Blob(needle.into_bytes()));
            }
            Op::Contains | Op::IContains => {
                let _ = write!(out, "instr({hay}, ?) > 0");
                self.params.push(Value::Blob(needle.into_bytes()));
            }
            _ => {
                // endswith: the last len(needle) bytes equal the needle.
                // A value shorter than the needle yields fewer bytes, so
                // never equals it.
                let _ = write!(out, "substr({hay}, -?) = ?");
                self.params.push(Value::Integer(needle.len() as i64));
                self.params.push(Value::Blob(needle.into_bytes()));
            }
        }
    }
}

/// Lists longer than this are bound as one JSON array (`json_each`).
const LONG_IN: usize = 64;

/// Writes `parts` joined by `sep` in parentheses, nested as a balanced tree
/// when there are many: SQLite parses `a OR b OR c ...` into a chain as deep
/// as it is long and refuses depth beyond 1,000.
fn join_balanced(out: &mut String, parts: &[String], sep: &str) {
    if parts.len() == 1 {
        out.push_str(&parts[0]);
        return;
    }
    out.push('(');
    if parts.len() <= 8 {
        out.push_str(&parts.join(sep));
    } else {
        let (a, b) = parts.split_at(parts.len() / 2);
        join_balanced(out, a, sep);
        out.push_str(sep);
        join_balanced(out, b, sep);
    }
    out.push(')');
}

/// A JSON array of the values, for `json_each`. Blobs are written as hex
/// (read back with `unhex`), so a list is all blobs or none.
fn json_array(vs: &[Value]) -> std::result::Result<String, String> {
    // Cannot panic: only called for lists longer than `LONG_IN`.
    let blobs = matches!(vs[0], Value::Blob(_));
    let mut s = String::with_capacity(vs.len() * 8);
    s.push('[');
    for (i, v) in vs.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        match v {
            Value::Blob(b) if blobs => {
                s.push('"');
                for byte in b {
                    let _ = write!(s, "{byte:02x}");
                }
                s.push('"');
            }
            Value::Null if !blobs => s.push_str("null"),
            Value::Integer(n) if !blobs => {
                let _ = write!(s, "{n}");
            }
            Value::Real(r) if !blobs && r.is_finite() => {
                let _ = write!(s, "{r:?}");
            }
            Value::Text(t) if !blobs => {
                s.push('"');
                for c in t.chars() {
                    match c {
                        '"' => s.push_str("\\\""),
                        '\\' => s.push_str("\\\\"),
                        c if (c as u32) < 0x20 => {
                            let _ = write!(s, "\\u{:04x}", c as u32);
                        }
                        c => s.push(c),
                    }
                }
                s.push('"');
            }
            Value::Real(r) if !blobs => return Err(format!("{r} cannot be compared in a list")),
            _ => return Err("a list mixes byte strings with other values".into()),
        }
    }
    s.push(']');
    Ok(s)
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

fn like_pattern(v: &Value, pre: &str, post: &str) -> Value {
    let text = value_text(v);
    let mut p = String::with_capacity(text.len() + 2);
    p.push_str(pre);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push_str(post);
    Value::Text(p)
}

fn subquery(sq: &Subquery) -> Result<(String, Vec<Value>)> {
    let mut w = Where::new(Joins::new(sq.model));
    let mut spec = sq.spec.clone();
    spec.related.clear();
    let tail = w.tail(sq.model, &spec)?;
    let mut col = String::new();
    match &sq.column {
        Some(t) => {
            let (path, depth, field) = t.resolve(sq.model)?;
            w.column(&path, depth, field, false, &mut col);
        }
        None => col_into(&mut col, sq.model.table, sq.model.pk_field().column),
    }
    let mut sql = format!("SELECT {col} FROM ");
    w.joins.render_from(&mut sql);
    sql.push_str(&tail);
    Ok((sql, w.params))
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
            like_pattern(&Value::Text("50%_off\\".into()), "%", "%"),
            Value::Text("%50\\%\\_off\\\\%".into())
        );
    }
}
