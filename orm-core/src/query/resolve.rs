//! The resolve pass: a query (model + [`Spec`]) becomes a [`Plan`] once —
//! the join tree (keyed by how each table was reached, INNER or LEFT by
//! Django's rule), the filter as conditions over resolved columns (with
//! Django's two-valued NULL rule), ordering, limits, the load plan and every
//! column read. Rendering (`sql`), count/exists, bulk update, the delete
//! collector, prefetch and validation all consume plans; none resolves a
//! lookup string itself.

use rusqlite::types::Value;

use crate::error::{Error, Result};
use crate::meta::types::ColumnType;
use crate::meta::{FieldMeta, ModelMeta};
use crate::query::{check_depth, Lookup, Op, Order, Path, Rhs, Spec, Step, Subquery, Transform, Q};

/// A column of a table in the plan, by the alias the plan gave the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColRef {
    pub(crate) table: String,
    pub(crate) column: &'static str,
    /// Transforms applied to the column, innermost first (`year`, a JSON
    /// key path); empty for the column itself.
    pub(crate) func: Vec<Transform>,
}

/// A table of the plan, with its alias when it differs from its name.
#[derive(Debug, Clone)]
pub(crate) struct Table {
    pub(crate) name: &'static str,
    pub(crate) alias: Option<String>,
}

/// One join: the table, INNER or LEFT, and the two columns it matches.
#[derive(Debug, Clone)]
pub(crate) struct JoinRef {
    pub(crate) table: Table,
    pub(crate) left: bool,
    pub(crate) on: (ColRef, ColRef),
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Lt,
    Lte,
    Gt,
    Gte,
}

/// A text pattern test (Django's `contains`, `startswith`, `endswith`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PatternKind {
    Contains,
    StartsWith,
    EndsWith,
}

/// A resolved filter condition.
#[derive(Debug, Clone)]
pub(crate) enum Cond {
    /// Never holds.
    False,
    And(Vec<Cond>),
    Or(Vec<Cond>),
    /// The negation of a condition that is never NULL.
    Not(Box<Cond>),
    /// The negation of a condition that may be NULL: true when it is not
    /// true (Django's rule: a lookup on NULL is false, its negation true).
    NotNullSafe(Box<Cond>),
    IsNull(ColRef, bool),
    Cmp(ColRef, Cmp, Value),
    In(ColRef, Vec<Value>),
    InPlan(ColRef, Box<Plan>),
    Between(ColRef, Value, Value),
    /// A byte-exact pattern test with a non-empty needle.
    Pattern {
        col: ColRef,
        kind: PatternKind,
        insensitive: bool,
        needle: String,
    },
    /// ASCII-case-insensitive equality, every byte compared.
    IExact(ColRef, String),
    /// The JSON key path at the end of the column's transforms is present.
    HasKey(ColRef),
    /// The JSON key path at the end of the column's transforms holds null.
    JsonNull(ColRef),
    /// A JSON key compared with a JSON document (`json_extract(?, '$')`).
    CmpJson(ColRef, Cmp, String),
}

/// A resolved query: what to select from which tables, filtered, ordered and
/// limited, and how to decode the rows.
#[derive(Debug, Clone, Default)]
pub(crate) struct Plan {
    pub(crate) root: Option<Table>,
    pub(crate) joins: Vec<JoinRef>,
    pub(crate) columns: Vec<ColRef>,
    pub(crate) filter: Option<Cond>,
    pub(crate) order: Vec<(ColRef, bool)>,
    pub(crate) limit: Option<i64>,
    pub(crate) offset: Option<i64>,
    /// Every column the statement reads, by table (the delete collector
    /// orders its statements by them).
    pub(crate) reads: Vec<(&'static ModelMeta, &'static str)>,
}

/// Lists longer than this are passed as one value by the dialect.
pub(crate) const LONG_IN: usize = 64;

/// Checks that a long list can be passed as one JSON array (the form
/// dialects use for long lists): all byte strings or none, finite reals.
fn json_list(vs: &[Value]) -> std::result::Result<(), String> {
    let blobs = matches!(vs.first(), Some(Value::Blob(_)));
    for v in vs {
        match v {
            Value::Blob(_) if blobs => {}
            Value::Real(r) if !blobs && !r.is_finite() => {
                return Err(format!("{r} cannot be compared in a list"))
            }
            Value::Blob(_) => return Err("a list mixes byte strings with other values".into()),
            _ if blobs => return Err("a list mixes byte strings with other values".into()),
            _ => {}
        }
    }
    Ok(())
}

/// Resolves a SELECT of every column of `model` (ancestors joined) and of
/// the `select_related` objects of `spec`, with its decode plan.
pub(crate) fn resolve_select(model: &'static ModelMeta, spec: &Spec) -> Result<(Plan, LoadPlan)> {
    let mut joins = Joins::new(model);
    let mut cols = Vec::new();
    let mut load = select_model(&mut joins, 0, model, &mut cols, None);
    for r in &spec.related {
        let path = r.resolve(model, "select_related")?;
        add_related(&mut joins, &mut load, 0, &path.steps, &mut cols);
    }
    let mut w = Where::new(joins);
    let with_default;
    let spec = match default_ordering(model, spec)? {
        Some(s) => {
            with_default = s;
            &with_default
        }
        None => spec,
    };
    let mut plan = w.tail(model, spec)?;
    plan.columns = cols;
    w.finish(&mut plan);
    Ok((plan, load))
}

/// `spec` with the model's default ordering (Django's `Meta.ordering`, the
/// nearest ancestor's on a multi-table child) when it has no `order_by`;
/// `None` when that changes nothing. A term naming no field is an
/// [`Error::Field`] naming the model and the term.
fn default_ordering(model: &'static ModelMeta, spec: &Spec) -> Result<Option<Spec>> {
    let terms = model.ordering();
    if !spec.order.is_empty() || spec.unordered || terms.is_empty() {
        return Ok(None);
    }
    let mut spec = spec.clone();
    for term in terms {
        let o = Order::by(term);
        if let Err(e) = o.target.resolve(model) {
            return Err(Error::Field {
                message: format!(
                    "{}: 'ordering' refers to the nonexistent field, related field, or lookup '{}' ({e})",
                    model.name,
                    term.trim_start_matches('-')
                ),
            });
        }
        spec.order.push(o);
    }
    Ok(Some(spec))
}

/// Resolves the filter, order and limits of `spec` with no columns (the
/// caller picks them: `COUNT(*)`, `1`, the key).
pub(crate) fn resolve_filter(model: &'static ModelMeta, spec: &Spec) -> Result<Plan> {
    let mut w = Where::new(Joins::new(model));
    let mut plan = w.tail(model, spec)?;
    w.finish(&mut plan);
    Ok(plan)
}

/// Resolves the keys `spec` matches: `SELECT <pk>` (no ordering).
pub(crate) fn resolve_keys(model: &'static ModelMeta, spec: &Spec) -> Result<Plan> {
    let mut spec = spec.clone();
    spec.order.clear();
    let mut w = Where::new(Joins::new(model));
    let mut plan = w.tail(model, &spec)?;
    plan.columns = vec![col(model.table, model.pk_field().column)];
    w.joins.reads.push((model, model.pk_field().column));
    w.finish(&mut plan);
    Ok(plan)
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
    on: Option<(ColRef, ColRef)>,
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
                    let on = (
                        col(&self.nodes[at].alias, link.column),
                        col(&alias, parent.pk_field().column),
                    );
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
                (
                    col(&self.nodes[from].alias, field.column),
                    col(&alias, to.column),
                )
            }
            Step::Reverse { rel, .. } => {
                let to = rel
                    .field
                    .target_field()
                    .unwrap_or_else(|| rel.target.pk_field());
                self.reads.push((self.nodes[from].model, to.column));
                self.reads.push((target, rel.field.column));
                (
                    col(&self.nodes[from].alias, to.column),
                    col(&alias, rel.field.column),
                )
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

    /// The tables of the statement: the root, then each join.
    fn tables(&self) -> (Table, Vec<JoinRef>) {
        let alias_of = |n: &Join| (n.alias != n.model.table).then(|| n.alias.clone());
        let root = Table {
            name: self.nodes[0].model.table,
            alias: alias_of(&self.nodes[0]),
        };
        let joins = self.nodes[1..]
            .iter()
            .filter_map(|n| {
                let on = n.on.clone()?;
                Some(JoinRef {
                    table: Table {
                        name: n.model.table,
                        alias: alias_of(n),
                    },
                    left: n.left,
                    on,
                })
            })
            .collect();
        (root, joins)
    }
}

fn col(alias: &str, column: &'static str) -> ColRef {
    ColRef {
        table: alias.to_string(),
        column,
        func: Vec::new(),
    }
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

impl LoadPlan {
    /// Columns read by this object and its nested `select_related` objects.
    pub fn total_width(&self) -> usize {
        self.width
            + self
                .children
                .iter()
                .map(LoadPlan::total_width)
                .sum::<usize>()
    }
}

/// Appends the columns of `model` at join node `at` (ancestors first) and
/// returns the plan entry.
fn select_model(
    joins: &mut Joins,
    at: usize,
    model: &'static ModelMeta,
    cols: &mut Vec<ColRef>,
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
    cols: &mut Vec<ColRef>,
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

/// WHERE / ORDER BY / LIMIT with its join tree.
struct Where {
    joins: Joins,
}

impl Where {
    fn new(joins: Joins) -> Where {
        Where { joins }
    }

    /// Adds the tables and the columns read, once the joins are complete.
    fn finish(&mut self, plan: &mut Plan) {
        let (root, joins) = self.joins.tables();
        plan.root = Some(root);
        plan.joins = joins;
        plan.reads = std::mem::take(&mut self.joins.reads);
    }

    /// A plan with the filter, order and limits of `spec` (no columns or
    /// tables yet: the caller adds them once the joins are complete).
    fn tail(&mut self, model: &'static ModelMeta, spec: &Spec) -> Result<Plan> {
        let mut sel = Plan::default();
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

    fn column(
        &mut self,
        path: &Path,
        depth: usize,
        field: &'static FieldMeta,
        left: bool,
    ) -> ColRef {
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
    fn q(&mut self, model: &'static ModelMeta, q: &Q, loose: bool) -> Result<Option<(Cond, bool)>> {
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
                        return Ok(Some((Cond::False, false)));
                    }
                    return Ok(None);
                }
                let e = match (parts.len(), is_or) {
                    (1, _) => parts.pop(),
                    (_, true) => Some(Cond::Or(parts)),
                    (_, false) => Some(Cond::And(parts)),
                };
                Ok(e.map(|e| (e, nullable)))
            }
            Q::Not(inner) => Ok(Some((
                match self.q(model, inner, true)? {
                    Some((e, true)) => Cond::NotNullSafe(Box::new(e)),
                    Some((e, false)) => Cond::Not(Box::new(e)),
                    None => Cond::False,
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
    ) -> Result<(Cond, bool)> {
        let (path, depth, field, func) = l.target.resolve_with(model)?;
        let invalid = |value: String, reason: String| Error::InvalidValue {
            model: path.end().ancestor(depth).name,
            field: field.name,
            value,
            reason,
        };
        if let Rhs::Invalid { value, reason } = &l.rhs {
            return Err(invalid(value.clone(), reason.clone()));
        }
        let json = func.iter().fold(field.ty, |ty, t| t.output(ty)) == ColumnType::Json;
        if l.op == Op::HasKey || (json && matches!(l.op, Op::Contains)) {
            return self.json_lookup(&path, depth, field, func, l, json);
        }
        if let Rhs::Json(text) = &l.rhs {
            if json && matches!(func.last(), Some(Transform::Key(_))) {
                // Django's KeyTransformExact: the value compares as JSON
                // (`json_extract(?, '$')`), and a JSON null matches a key
                // holding null.
                let cmp = match l.op {
                    Op::Exact => Cmp::Eq,
                    Op::Lt => Cmp::Lt,
                    Op::Lte => Cmp::Lte,
                    Op::Gt => Cmp::Gt,
                    Op::Gte => Cmp::Gte,
                    op => {
                        return Err(invalid(
                            text.clone(),
                            format!("a JSON value cannot be the right-hand side of {op:?}"),
                        ))
                    }
                };
                let mut c = self.column(&path, depth, field, loose);
                c.func = func;
                if text == "null" && cmp == Cmp::Eq {
                    return Ok((Cond::JsonNull(c), false));
                }
                return Ok((Cond::CmpJson(c, cmp, text.clone()), true));
            }
            // Elsewhere a JSON document compares as its text.
            let as_text = Lookup {
                target: l.target.clone(),
                op: l.op,
                rhs: Rhs::Value(Value::Text(text.clone())),
            };
            return self.lookup(model, &as_text, loose);
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
        if let (true, Some(Transform::Key(_)), Some(null), Op::IsNull) =
            (json, func.last(), is_null_test, l.op)
        {
            // Django's `data__key__isnull=True`: the key is missing (a key
            // holding JSON null is present).
            let mut c = self.column(&path, depth, field, loose || null);
            c.func = func;
            let has = Cond::HasKey(c);
            return Ok(if null {
                (Cond::Not(Box::new(has)), false)
            } else {
                (has, false)
            });
        }
        let left = loose || is_null_test == Some(true);
        let mut c = self.column(&path, depth, field, left);
        // A JSON key that is absent reads as NULL, as Django's `isnull` on a
        // key means "the key is missing".
        let keyed = !func.is_empty();
        c.func = func;
        // The column can be NULL when it is nullable or reached through a
        // relation that may be missing.
        let nullable = keyed || field.null || path.steps.iter().any(Step::nullable);
        if let Some(null) = is_null_test {
            return Ok((Cond::IsNull(c, null), false));
        }
        let cmp = |op| match &l.rhs {
            Rhs::Value(v) => Ok(Cond::Cmp(c.clone(), op, v.clone())),
            rhs => Err(invalid(
                format!("{rhs:?}"),
                format!("not a valid right-hand side for {:?}", l.op),
            )),
        };
        Ok(match (&l.op, &l.rhs) {
            (Op::Exact, _) => (cmp(Cmp::Eq)?, nullable),
            (Op::Lt, _) => (cmp(Cmp::Lt)?, nullable),
            (Op::Lte, _) => (cmp(Cmp::Lte)?, nullable),
            (Op::Gt, _) => (cmp(Cmp::Gt)?, nullable),
            (Op::Gte, _) => (cmp(Cmp::Gte)?, nullable),
            // `lower()` folds ASCII only, as SQLite's LIKE does, and unlike
            // LIKE it compares every byte (LIKE stops at a NUL).
            (Op::IExact, Rhs::Value(v)) => (Cond::IExact(c, value_text(v)), nullable),
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
                    return Ok((Cond::IsNull(c, false), false));
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
                let e = Cond::Pattern {
                    col: c,
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
                    return Ok((Cond::False, false));
                }
                if vs.len() > LONG_IN {
                    json_list(&vs).map_err(|reason| {
                        invalid(format!("a list of {} values", vs.len()), reason)
                    })?;
                }
                (Cond::In(c, vs), nullable)
            }
            // The subquery's column may hold NULLs.
            (Op::In, Rhs::Subquery(sq)) => {
                let plan = subquery(sq)?;
                self.joins.reads.extend(plan.reads.iter().copied());
                (Cond::InPlan(c, Box::new(plan)), true)
            }
            (Op::Range, Rhs::List(vs)) if vs.len() == 2 => {
                (Cond::Between(c, vs[0].clone(), vs[1].clone()), nullable)
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

impl Where {
    /// `has_key` and `contains` on a JSON column.
    fn json_lookup(
        &mut self,
        path: &Path,
        depth: usize,
        field: &'static FieldMeta,
        mut func: Vec<Transform>,
        l: &Lookup,
        json: bool,
    ) -> Result<(Cond, bool)> {
        let invalid = |reason: String| Error::Field { message: reason };
        if !json {
            return Err(invalid(format!(
                "Unsupported lookup 'has_key' for {}",
                field.ty.django_class()
            )));
        }
        if l.op == Op::Contains {
            // As Django: SQLite has no JSON containment.
            return Err(invalid(
                "contains lookup is not supported on this database backend.".into(),
            ));
        }
        let key = match &l.rhs {
            Rhs::Value(Value::Text(k)) => k.clone(),
            rhs => return Err(invalid(format!("has_key takes a key, not {rhs:?}"))),
        };
        Transform::push(&mut func, Transform::Key(vec![key]));
        let mut c = self.column(path, depth, field, false);
        c.func = func;
        Ok((Cond::HasKey(c), false))
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

fn subquery(sq: &Subquery) -> Result<Plan> {
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
    sel.columns = vec![c];
    w.finish(&mut sel);
    Ok(sel)
}
