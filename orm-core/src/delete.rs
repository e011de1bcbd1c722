//! The deletion collector (Django's `Collector`): collect -> check -> order ->
//! execute, in one transaction.
//!
//! Django collects *instances*; this collector collects *key sets* written as
//! SQL subqueries, so a delete runs a number of statements that depends on the
//! models involved, never on the number of rows.
//!
//! * **collect** (`Collector`) walks the relations from the root model with
//!   Django's rules: CASCADE recurses, a multi-table child takes its parent
//!   rows along (unless `keep_parents`), relations pointing at an ancestor
//!   apply to the child's keys, deleting a parent cascades to its children
//!   through the parent link. Each table's keys are a union of *components*
//!   (`Comp`): "the `Page` rows whose `profile_id` is among the deleted
//!   `PageOwnerProfile` keys" is one, the rows the delete starts from another.
//!   Components are tagged with the top-level relation they were reached
//!   through, so a PROTECT found deep down is reported under the cascading
//!   field of the top level, as Django does.
//! * **check** runs one SELECT per PROTECT relation and one per RESTRICT
//!   relation, before anything is written. RESTRICT is resolved against the
//!   complete collected sets: a restricted row is allowed when it is itself
//!   deleted.
//! * **order** puts the statements (SET_NULL/SET_DEFAULT/SET updates first,
//!   then the deletes, dependents first) in an order where every statement runs
//!   while the tables its subqueries read still hold their rows. Foreign keys
//!   are `DEFERRABLE INITIALLY DEFERRED`, so their order does not matter inside
//!   the transaction. Where no such order exists (a cycle), or a relation
//!   refers to its own model (a recursive key set), keys are *materialized*
//!   into a temporary table first (one `WITH RECURSIVE` statement computes
//!   the fixpoint of a recursive set inside SQLite). The table,
//!   `temp.orm_delete_keys`, is created once per connection; a delete removes
//!   its own rows before it commits. A statement that would bind more than
//!   999 values reads the root keys from that table too.
//! * **execute** loads the rows of models with delete hooks (one SELECT per
//!   model), calls `pre_delete`, runs the statements, calls `post_delete`
//!   after each model's DELETE, all inside [`Db::atomic`].

use std::cell::Cell;
use std::collections::HashSet;

use rusqlite::types::Value;

use crate::db::Db;
use crate::error::{Blocker, Error, Result};
use crate::exec::bind_all;
use crate::meta::{FieldMeta, ModelMeta, OnDelete};
use crate::model::{DynModel, Model};
use crate::query::{Rhs, Spec, Step, Q};
use crate::registry::{registry, ReverseRelation};
use crate::render::quote;

/// What a delete removed: the total and the count per model label, in the
/// order the models were deleted, models with nothing deleted left out
/// (Django's `(2, {"app.Profile": 1, "auth.User": 1})`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deleted {
    /// Rows deleted in all tables.
    pub total: u64,
    /// `(label, rows)` per model.
    pub per_model: Vec<(String, u64)>,
}

impl Deleted {
    /// Rows deleted for one model label (`"app.Profile"`), 0 when absent.
    pub fn count(&self, label: &str) -> u64 {
        self.per_model
            .iter()
            .find(|(l, _)| l == label)
            .map_or(0, |(_, n)| *n)
    }
}

impl std::fmt::Display for Deleted {
    /// Django's tuple: `(2, {"app.Profile": 1, "auth.User": 1})`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "({}, {{", self.total)?;
        for (i, (label, n)) in self.per_model.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "\"{label}\": {n}")?;
        }
        f.write_str("})")
    }
}

/// Deletes one instance (and what its relations' `on_delete` reach).
pub(crate) fn delete_instance<M: Model>(
    db: &Db,
    obj: &mut M,
    keep_parents: bool,
) -> Result<Deleted> {
    let pk = obj.pk().ok_or(Error::DeleteUnsaved {
        model: M::META.name,
        pk: M::META.pk_field().name,
    })?;
    let deleted = collect_and_delete(db, M::META, Root::Keys(vec![pk]), keep_parents)?;
    obj.set_pk(None);
    Ok(deleted)
}

/// Deletes every row a query matches.
pub(crate) fn delete_query(db: &Db, model: &'static ModelMeta, spec: &Spec) -> Result<Deleted> {
    collect_and_delete(db, model, Root::Query(spec.clone()), false)
}

/// The rows a delete starts from.
pub(crate) enum Root {
    Keys(Vec<Value>),
    Query(Spec),
}

fn collect_and_delete(
    db: &Db,
    model: &'static ModelMeta,
    root: Root,
    keep_parents: bool,
) -> Result<Deleted> {
    let atom = match root {
        Root::Keys(keys) => Atom::Values(keys),
        Root::Query(spec) => Atom::Query(RootQuery::new(model, &spec)?),
    };
    let collector = Collector::collect(model, atom, keep_parents);
    let nesting = Nesting::enter(db);
    let mut plan = Plan::new(&collector, nesting.base());
    if plan.is_empty() {
        return Ok(Deleted::default());
    }
    for s in &plan.stmts {
        db.before_write(s.table)?;
    }
    let rendered = plan.render_within_limits();
    db.atomic(|db| plan.execute(db, &rendered))
}

/// A key rendered for messages: `5`, `'abc'`.
pub(crate) fn display_value(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Integer(i) => i.to_string(),
        Value::Real(r) => r.to_string(),
        Value::Text(s) => format!("'{s}'"),
        Value::Blob(b) => format!("{b:?}"),
    }
}

/// A primary key as Django's `str(obj)` shows it: `Guarded object (5)`.
fn pk_text(v: &Value) -> String {
    match v {
        Value::Text(s) => s.clone(),
        other => display_value(other),
    }
}

// ---------------------------------------------------------------------------
// Collect
// ---------------------------------------------------------------------------

// Component kinds, as bit flags so that a `KeySet` can select several.

/// The rows the delete starts from.
const ROOT: u8 = 1;
/// Multi-table children of deleted rows, reached through their parent link.
const LINKED: u8 = 2;
/// Rows reached through any other CASCADE relation.
const OWN: u8 = 4;
/// Parent rows of deleted multi-table children (Django collects them with
/// `collect_related=False`: their relations are handled from the child).
const UP: u8 = 8;
/// Rows collected with their relations (Django's `collect_related=True`).
const COLLECTED: u8 = ROOT | LINKED | OWN;
/// Every row deleted from a table.
const ANY: u8 = COLLECTED | UP;

/// One way a table's rows are reached: the union of its atoms. `tag` is 0 for
/// the root level and `i + 1` for rows reached through `Collector::tops[i]`.
struct Comp {
    table: &'static ModelMeta,
    kind: u8,
    tag: u32,
    atoms: Vec<Atom>,
    /// Leaves the root keys out, in a delete that keeps the roots' parents:
    /// an OWN or UP component of the root table or of a child table. Django
    /// collects a row once, so a root row, or a child row already taken
    /// along through the parent link, reached again (a CASCADE cycle, the
    /// parent row of a child) does not take its parent rows along, and the
    /// relations pointing at those are not applied.
    minus_root: bool,
}

/// A key source; each renders as a condition on a key column, or as a SELECT of keys.
enum Atom {
    /// Bound keys (the instance being deleted).
    Values(Vec<Value>),
    /// The keys a query matches.
    Query(RootQuery),
    /// The `rel.source` rows whose key column points at a key of `from`.
    Via { rel: ReverseRelation, from: KeySet },
    /// The keys of `from` (multi-table children), as keys of the parent table.
    Up(KeySet),
}

/// The keys of `table` held by the components of the given kinds (and tag;
/// `None` is every tag).
#[derive(Clone, Copy)]
struct KeySet {
    table: &'static ModelMeta,
    tag: Option<u32>,
    kinds: u8,
}

impl KeySet {
    fn all(table: &'static ModelMeta) -> KeySet {
        KeySet {
            table,
            tag: None,
            kinds: ANY,
        }
    }

    fn selects(&self, c: &Comp) -> bool {
        c.table.is(self.table) && c.kind & self.kinds != 0 && self.tag.is_none_or(|t| t == c.tag)
    }
}

/// The rendered `SELECT pk FROM ... WHERE ...` of a `QuerySet::delete`.
struct RootQuery {
    sql: Sql,
    /// No filter: every row.
    everything: bool,
    /// The filter can match nothing (`pk__in=[]`).
    nothing: bool,
    reads: Reads,
}

impl RootQuery {
    fn new(model: &'static ModelMeta, spec: &Spec) -> Result<RootQuery> {
        let (text, params) = crate::render::keys_subquery(model, spec)?;
        let (plain, _) = crate::render::keys_subquery(model, &Spec::default())?;
        let mut reads = Reads::default();
        for m in model.chain() {
            reads.add(m, m.pk_field().column);
        }
        if let Some(q) = &spec.filter {
            q_reads(model, q, &mut reads);
        }
        Ok(RootQuery {
            everything: params.is_empty() && text == plain,
            nothing: text.ends_with(" WHERE 0 = 1"),
            sql: Sql { text, params },
            reads,
        })
    }
}

/// Adds the columns a filter reads (the root query's columns, for ordering).
fn q_reads(model: &'static ModelMeta, q: &Q, out: &mut Reads) {
    match q {
        Q::All => {}
        Q::Leaf(l) => {
            if matches!(l.rhs, Rhs::Subquery(_)) {
                out.any = true;
            }
            let Ok((path, depth, field)) = l.target.resolve(model) else {
                out.any = true;
                return;
            };
            let mut at = model;
            for step in &path.steps {
                out.chain_keys(at);
                match step {
                    Step::Forward { depth, field, .. } => {
                        out.add(at.ancestor(*depth), field.column);
                        if let Some(tf) = field.target_field() {
                            out.add(step.target(), tf.column);
                        }
                    }
                    Step::Reverse { depth, rel } => {
                        let to = rel
                            .field
                            .target_field()
                            .unwrap_or_else(|| rel.target.pk_field());
                        out.add(at.ancestor(*depth), to.column);
                        out.add(rel.source, rel.field.column);
                    }
                }
                at = step.target();
            }
            out.chain_keys(at);
            out.add(at.ancestor(depth), field.column);
        }
        Q::And(children) | Q::Or(children) => {
            for c in children {
                q_reads(model, c, out);
            }
        }
        Q::Not(inner) => q_reads(model, inner, out),
    }
}

/// A PROTECT, RESTRICT or SET_* relation met while collecting, with the keys
/// it applies to and the top-level relation it was reached through.
struct Rule {
    rel: ReverseRelation,
    from: KeySet,
    top: usize,
}

/// Collection: the components of every table and the rules met, built from
/// the metadata alone (no SQL runs here).
struct Collector {
    top: &'static ModelMeta,
    keep_parents: bool,
    /// The root keys, with `keep_parents` (an instance delete).
    kept: Vec<Value>,
    comps: Vec<Comp>,
    /// The relations met at the root level, in order; a component's tag
    /// `i + 1` names the one it was reached through.
    tops: Vec<ReverseRelation>,
    related_done: HashSet<(usize, u32)>,
    up_done: HashSet<(usize, u32)>,
    protect: Vec<Rule>,
    restrict: Vec<Rule>,
    update: Vec<Rule>,
}

fn addr(m: &ModelMeta) -> usize {
    m as *const ModelMeta as usize
}

impl Collector {
    fn collect(model: &'static ModelMeta, root: Atom, keep_parents: bool) -> Collector {
        let kept = match &root {
            Atom::Values(keys) if keep_parents => keys.clone(),
            _ => Vec::new(),
        };
        let mut c = Collector {
            top: model,
            keep_parents,
            kept,
            comps: Vec::new(),
            tops: Vec::new(),
            related_done: HashSet::new(),
            up_done: HashSet::new(),
            protect: Vec::new(),
            restrict: Vec::new(),
            update: Vec::new(),
        };
        c.add(model, ROOT, 0, root);
        c
    }

    /// Adds an atom to a component, visiting the component when it is new
    /// (depth first, like Django's recursive `collect`).
    fn add(&mut self, table: &'static ModelMeta, kind: u8, tag: u32, atom: Atom) {
        if let Some(c) = self
            .comps
            .iter_mut()
            .find(|c| c.table.is(table) && c.kind == kind && c.tag == tag)
        {
            c.atoms.push(atom);
            return;
        }
        self.comps.push(Comp {
            table,
            kind,
            tag,
            atoms: vec![atom],
            minus_root: !self.kept.is_empty()
                && kind & (OWN | UP) != 0
                && table.chain().any(|a| a.is(self.top)),
        });
        self.visit(table, kind, tag);
    }

    /// Django's `collect` for a new component: the relations pointing at the
    /// table and at its ancestors, then the parent rows.
    fn visit(&mut self, table: &'static ModelMeta, kind: u8, tag: u32) {
        // `keep_parents` concerns the root rows only (nested collects get False).
        let root = if self.keep_parents { 0 } else { ROOT };
        if kind & COLLECTED != 0 && self.related_done.insert((addr(table), tag)) {
            let own = KeySet {
                table,
                tag: Some(tag),
                kinds: COLLECTED,
            };
            for r in registry().reverse_of(table) {
                self.dispatch(*r, own, tag);
            }
            // Relations pointing at ancestors apply to the child's keys, except
            // parent links (siblings, and the link back to this table). The
            // rows of a LINKED component are its parent's rows, whose relations
            // the parent handles. Django checks PROTECT again from the child,
            // which only shows when the parent is a root row: the blocker is
            // then reported under the parent link's key too. Not above a
            // root whose parents are kept: those rows stay, and so do the
            // rows pointing at them (Django re-applies their relations from
            // the grandchild, to rows it does not delete).
            // Cannot panic: a tag > 0 is `i + 1` for `tops[i]` (see `dispatch`).
            let linked_top = tag > 0 && {
                let t = self.tops[tag as usize - 1];
                t.rel.parent_link && t.source.is(table)
            };
            for ancestor in table.chain().skip(1) {
                let kept = self.keep_parents && self.top.chain().skip(1).any(|a| a.is(ancestor));
                for r in registry()
                    .reverse_of(ancestor)
                    .iter()
                    .filter(|r| !r.rel.parent_link)
                {
                    let kinds = match r.rel.on_delete {
                        OnDelete::Protect if linked_top && !kept => root | LINKED | OWN,
                        _ => root | OWN,
                    };
                    let from = KeySet {
                        table,
                        tag: Some(tag),
                        kinds,
                    };
                    self.dispatch(*r, from, tag);
                }
            }
        }
        // The parent rows: the same keys in the parent table. LINKED rows came
        // down from the parent, so they are its rows already.
        let up = root | OWN | UP;
        if kind & up != 0 {
            if let Some(parent) = table.parent() {
                if self.up_done.insert((addr(table), tag)) {
                    let from = KeySet {
                        table,
                        tag: Some(tag),
                        kinds: up,
                    };
                    self.add(parent, UP, tag, Atom::Up(from));
                }
            }
        }
    }

    /// Applies `rel`'s `on_delete` to the keys `from` (Django's handlers).
    fn dispatch(&mut self, rel: ReverseRelation, from: KeySet, tag: u32) {
        if matches!(rel.rel.on_delete, OnDelete::DoNothing) {
            return;
        }
        let top = if tag == 0 {
            self.tops.push(rel);
            self.tops.len() - 1
        } else {
            tag as usize - 1
        };
        match rel.rel.on_delete {
            OnDelete::Cascade => {
                let kind = if rel.rel.parent_link { LINKED } else { OWN };
                self.add(rel.source, kind, top as u32 + 1, Atom::Via { rel, from });
            }
            OnDelete::Protect => self.protect.push(Rule { rel, from, top }),
            OnDelete::Restrict => self.restrict.push(Rule { rel, from, top }),
            OnDelete::SetNull | OnDelete::SetDefault | OnDelete::Set(_) => {
                self.update.push(Rule { rel, from, top })
            }
            OnDelete::DoNothing => {}
        }
    }
}

// ---------------------------------------------------------------------------
// SQL fragments and the columns they read
// ---------------------------------------------------------------------------

/// SQL text with its bound values, in order.
#[derive(Debug, Clone, Default)]
struct Sql {
    text: String,
    params: Vec<Value>,
}

impl Sql {
    fn new(text: impl Into<String>) -> Sql {
        Sql {
            text: text.into(),
            params: Vec::new(),
        }
    }

    fn push(&mut self, s: &str) -> &mut Sql {
        self.text.push_str(s);
        self
    }

    fn bind(&mut self, v: Value) -> &mut Sql {
        self.text.push('?');
        self.params.push(v);
        self
    }

    fn append(&mut self, other: &Sql) -> &mut Sql {
        self.text.push_str(&other.text);
        self.params.extend(other.params.iter().cloned());
        self
    }

    /// `(a OR b ...)`; `None` for no part.
    fn any_of(mut parts: Vec<Sql>) -> Option<Sql> {
        match parts.len() {
            0 => None,
            1 => parts.pop(),
            _ => {
                let mut s = Sql::new("(");
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        s.push(" OR ");
                    }
                    s.append(p);
                }
                s.push(")");
                Some(s)
            }
        }
    }

    /// `a UNION ALL b ...`.
    fn union(parts: &[Sql]) -> Sql {
        let mut s = Sql::default();
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                s.push(" UNION ALL ");
            }
            s.append(p);
        }
        s
    }
}

fn qcol(table: &str, column: &str) -> String {
    format!("{}.{}", quote(table), quote(column))
}

fn temp_table() -> String {
    format!("{}.{}", quote("temp"), quote("orm_delete_keys"))
}

/// The table materialized keys go to, one per connection: `n` names the
/// component, `k` is a key.
fn create_temp_sql() -> String {
    format!(
        "CREATE TEMP TABLE IF NOT EXISTS {} ({} integer NOT NULL, {} NOT NULL, PRIMARY KEY ({}, {}))",
        quote("orm_delete_keys"),
        quote("n"),
        quote("k"),
        quote("n"),
        quote("k")
    )
}

/// The referenced column of a relation with a `to_field` other than the key.
fn to_field(rel: &ReverseRelation) -> Option<&'static FieldMeta> {
    rel.field
        .target_field()
        .filter(|tf| !std::ptr::eq(*tf, rel.target.pk_field()))
}

/// Columns an expression reads; `None` for a column is "any column".
#[derive(Debug, Clone, Default)]
struct Reads {
    /// Reads tables it cannot name (a subquery in the root filter).
    any: bool,
    cols: Vec<(&'static ModelMeta, Option<&'static str>)>,
}

impl Reads {
    fn add(&mut self, table: &'static ModelMeta, col: &'static str) {
        let entry = (table, Some(col));
        if !self.cols.iter().any(|(t, c)| t.is(table) && *c == entry.1) {
            self.cols.push(entry);
        }
    }

    fn chain_keys(&mut self, m: &'static ModelMeta) {
        for a in m.chain() {
            self.add(a, a.pk_field().column);
        }
    }

    fn extend(&mut self, other: &Reads) {
        self.any |= other.any;
        for (t, c) in &other.cols {
            if !self.cols.iter().any(|(u, d)| u.is(t) && d == c) {
                self.cols.push((t, *c));
            }
        }
    }

    fn is_empty(&self) -> bool {
        !self.any && self.cols.is_empty()
    }

    /// True when a write to `table` (`col`, or whole rows for `None`) can
    /// change what was read.
    fn hit(&self, table: &ModelMeta, col: Option<&str>) -> bool {
        self.any
            || self
                .cols
                .iter()
                .any(|(t, c)| t.is(table) && (col.is_none() || c.is_none() || *c == col))
    }
}

// ---------------------------------------------------------------------------
// Plan: liveness, recursion, statements, order, materialization
// ---------------------------------------------------------------------------

/// A write: an UPDATE of one relation's column, or the DELETE of one table.
struct Stmt {
    table: &'static ModelMeta,
    update: Option<Update>,
}

struct Update {
    rel: ReverseRelation,
    from: Vec<KeySet>,
    value: Value,
}

impl Stmt {
    fn written_column(&self) -> Option<&'static str> {
        self.update.as_ref().map(|u| u.rel.field.column)
    }
}

/// SQLite's historical bound-parameter limit; a statement that would exceed it
/// reads its keys from the temporary table instead.
const MAX_PARAMS: usize = 999;

/// Rows of materialized keys inserted per `INSERT ... VALUES` statement.
const VALUES_PER_INSERT: usize = 400;

/// Indexing: `live`, `mat` and `scc_of` have one entry per component
/// (`c.comps.len()`) and are indexed by component numbers (`0..n`, `members`,
/// `sccs`); `recursive` has one entry per set of `sccs`; statement indices
/// (`order`, `hard`/`soft` edges) are `0..stmts.len()`. None of these
/// vectors shrinks after `Plan::new`, so the indexing cannot panic.
struct Plan<'c> {
    c: &'c Collector,
    /// Components that hold keys (a component can be empty, e.g. a recursion
    /// with no start, or kinds excluded by `keep_parents`).
    live: Vec<bool>,
    /// Components whose keys go to the temporary table before any write.
    mat: Vec<bool>,
    /// Component `i` is stored as `n = base + i`.
    base: i64,
    /// Live components by strongly connected set, dependencies first.
    sccs: Vec<Vec<usize>>,
    /// Per component, the index of its set in `sccs`.
    scc_of: Vec<usize>,
    recursive: Vec<bool>,
    /// While rendering the start of a recursive set, its own components read
    /// as empty.
    hidden: Cell<Option<usize>>,
    stmts: Vec<Stmt>,
    order: Vec<usize>,
}

impl<'c> Plan<'c> {
    fn new(c: &'c Collector, base: i64) -> Plan<'c> {
        let n = c.comps.len();
        let mut plan = Plan {
            c,
            live: vec![false; n],
            mat: vec![false; n],
            base,
            sccs: Vec::new(),
            scc_of: vec![usize::MAX; n],
            recursive: Vec::new(),
            hidden: Cell::new(None),
            stmts: Vec::new(),
            order: Vec::new(),
        };
        plan.liveness();
        if plan.is_empty() {
            return plan;
        }
        plan.recursion();
        plan.statements();
        plan.order_statements();
        plan
    }

    fn is_empty(&self) -> bool {
        !self.live.iter().any(|l| *l)
    }

    /// The least fixpoint of "a component holds keys".
    fn liveness(&mut self) {
        loop {
            let mut changed = false;
            for i in 0..self.c.comps.len() {
                if !self.live[i] && self.c.comps[i].atoms.iter().any(|a| self.atom_live(a)) {
                    self.live[i] = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }

    fn atom_live(&self, a: &Atom) -> bool {
        match a {
            Atom::Values(keys) => !keys.is_empty(),
            Atom::Query(q) => !q.nothing,
            Atom::Via { from, .. } | Atom::Up(from) => !self.members(&[*from]).is_empty(),
        }
    }

    fn live_atoms(&self, i: usize) -> impl Iterator<Item = &'c Atom> + '_ {
        self.c.comps[i].atoms.iter().filter(|a| self.atom_live(a))
    }

    /// The live components the sets select, each once.
    fn members(&self, sets: &[KeySet]) -> Vec<usize> {
        let hidden = self.hidden.get();
        (0..self.c.comps.len())
            .filter(|&i| self.live[i] && sets.iter().any(|s| s.selects(&self.c.comps[i])))
            .filter(|&i| hidden.is_none_or(|k| self.scc_of[i] != k))
            .collect()
    }

    /// Finds recursive components (a relation back to the same rows, directly
    /// or through other tables): their keys are a fixpoint, computed by one
    /// `WITH RECURSIVE` statement into the temporary table.
    fn recursion(&mut self) {
        let n = self.c.comps.len();
        let mut edges = vec![Vec::new(); n];
        for (i, deps) in edges.iter_mut().enumerate() {
            if !self.live[i] {
                continue;
            }
            for a in self.live_atoms(i) {
                if let Atom::Via { from, .. } | Atom::Up(from) = a {
                    deps.extend(self.members(&[*from]));
                }
            }
        }
        let nodes: Vec<usize> = (0..n).filter(|&i| self.live[i]).collect();
        self.sccs = strongly_connected(&nodes, &edges);
        for (k, scc) in self.sccs.iter().enumerate() {
            for &i in scc {
                self.scc_of[i] = k;
            }
        }
        self.recursive = self
            .sccs
            .iter()
            // Cannot panic: Tarjan's sets are never empty.
            .map(|scc| scc.len() > 1 || edges[scc[0]].contains(&scc[0]))
            .collect();
        for (scc, rec) in self.sccs.iter().zip(&self.recursive) {
            if *rec {
                for &i in scc {
                    self.mat[i] = true;
                }
            }
        }
    }

    /// One UPDATE per SET_* relation, one DELETE per table.
    fn statements(&mut self) {
        for (rel, rules) in Self::by_relation(&self.c.update) {
            let from: Vec<KeySet> = rules
                .iter()
                .map(|r| r.from)
                .filter(|f| !self.members(&[*f]).is_empty())
                .collect();
            if from.is_empty() {
                continue;
            }
            let value = match rel.rel.on_delete {
                OnDelete::SetDefault => rel.field.default.map_or(Value::Null, |d| d()),
                OnDelete::Set(f) => f(),
                _ => Value::Null,
            };
            self.stmts.push(Stmt {
                table: rel.source,
                update: Some(Update { rel, from, value }),
            });
        }
        let mut tables: Vec<&'static ModelMeta> = Vec::new();
        for (i, comp) in self.c.comps.iter().enumerate() {
            if self.live[i] && !tables.iter().any(|t| t.is(comp.table)) {
                tables.push(comp.table);
            }
        }
        for table in tables {
            self.stmts.push(Stmt {
                table,
                update: None,
            });
        }
    }

    fn comp_reads(&self, i: usize, out: &mut Reads) {
        for a in self.live_atoms(i) {
            match a {
                Atom::Values(_) => {}
                Atom::Query(q) => out.extend(&q.reads),
                Atom::Via { rel, from } => {
                    out.add(rel.source, rel.source.pk_field().column);
                    out.add(rel.source, rel.field.column);
                    if let Some(tf) = to_field(rel) {
                        out.add(rel.target, rel.target.pk_field().column);
                        out.add(rel.target, tf.column);
                    }
                    self.set_reads(&[*from], out);
                }
                Atom::Up(from) => self.set_reads(&[*from], out),
            }
        }
    }

    fn set_reads(&self, sets: &[KeySet], out: &mut Reads) {
        for i in self.members(sets) {
            if !self.mat[i] {
                self.comp_reads(i, out);
            }
        }
    }

    /// The components a statement's condition names directly.
    fn stmt_sets(&self, s: &Stmt) -> Vec<KeySet> {
        match &s.update {
            Some(u) => u.from.clone(),
            None => vec![KeySet::all(s.table)],
        }
    }

    fn stmt_reads(&self, s: &Stmt) -> Reads {
        let mut r = Reads::default();
        self.set_reads(&self.stmt_sets(s), &mut r);
        if let Some(u) = &s.update {
            if let Some(tf) = to_field(&u.rel) {
                r.add(u.rel.target, u.rel.target.pk_field().column);
                r.add(u.rel.target, tf.column);
            }
        }
        r
    }

    /// `hard[b]` lists the statements that must run before `b`: those that
    /// read what `b` writes.
    fn hard_edges(&self) -> Vec<Vec<usize>> {
        let reads: Vec<Reads> = self.stmts.iter().map(|s| self.stmt_reads(s)).collect();
        (0..self.stmts.len())
            .map(|b| {
                let w = &self.stmts[b];
                (0..self.stmts.len())
                    .filter(|&a| a != b && reads[a].hit(w.table, w.written_column()))
                    .collect()
            })
            .collect()
    }

    /// `soft[b]` lists the deletes Django would run before delete `b`:
    /// dependents (rows pointing at `b`'s rows) and multi-table children.
    fn soft_edges(&self) -> Vec<Vec<usize>> {
        let index = |t: &ModelMeta| {
            self.stmts
                .iter()
                .position(|s| s.update.is_none() && s.table.is(t))
        };
        let mut edges: Vec<(&'static ModelMeta, &'static ModelMeta)> = Vec::new();
        for (i, comp) in self.c.comps.iter().enumerate() {
            if !self.live[i] {
                continue;
            }
            for a in self.live_atoms(i) {
                let (before, after) = match a {
                    Atom::Via { from, .. } => (comp.table, from.table),
                    Atom::Up(from) => (from.table, comp.table),
                    _ => continue,
                };
                edges.push((before, after));
            }
        }
        // Django's RESTRICT handler records a dependency too.
        edges.extend(self.c.restrict.iter().map(|r| (r.rel.source, r.rel.target)));
        let mut soft = vec![Vec::new(); self.stmts.len()];
        for (before, after) in edges {
            if let (Some(x), Some(y)) = (index(before), index(after)) {
                if x != y && !soft[y].contains(&x) {
                    soft[y].push(x);
                }
            }
        }
        soft
    }

    /// Orders the statements: updates first, then deletes in passes over the
    /// collection order, each delete once its dependents are gone (Django's
    /// `Collector.sort`), never before a statement that reads what it writes.
    /// `None` when the read constraints form a cycle.
    fn try_order(&self, hard: &[Vec<usize>], soft: &[Vec<usize>]) -> Option<Vec<usize>> {
        let n = self.stmts.len();
        let mut done = vec![false; n];
        let mut out = Vec::with_capacity(n);
        let ready =
            |done: &[bool], i: usize, edges: &[Vec<usize>]| edges[i].iter().all(|&p| done[p]);
        while out.len() < n {
            let mut progress = false;
            for i in 0..n {
                if !done[i] && self.stmts[i].update.is_some() && ready(&done, i, hard) {
                    done[i] = true;
                    out.push(i);
                    progress = true;
                }
            }
            for i in 0..n {
                if !done[i]
                    && self.stmts[i].update.is_none()
                    && ready(&done, i, hard)
                    && ready(&done, i, soft)
                {
                    done[i] = true;
                    out.push(i);
                    progress = true;
                }
            }
            if !progress {
                // A cycle of dependents (Django breaks it arbitrarily too).
                let i = (0..n).find(|&i| !done[i] && ready(&done, i, hard))?;
                done[i] = true;
                out.push(i);
            }
        }
        Some(out)
    }

    /// Finds an order; while the read constraints are cyclic, materializes
    /// one component the statements in the cycle read (dependencies first,
    /// only one still reading a table) and tries again.
    fn order_statements(&mut self) {
        let soft = self.soft_edges();
        loop {
            let hard = self.hard_edges();
            if let Some(order) = self.try_order(&hard, &soft) {
                self.order = order;
                return;
            }
            let nodes: Vec<usize> = (0..self.stmts.len()).collect();
            let mut wanted = vec![false; self.c.comps.len()];
            for scc in strongly_connected(&nodes, &hard) {
                if scc.len() > 1 {
                    for &s in &scc {
                        for i in self.members(&self.stmt_sets(&self.stmts[s])) {
                            wanted[i] = true;
                        }
                    }
                }
            }
            let next = self
                .sccs
                .iter()
                .flatten()
                .copied()
                .find(|&i| wanted[i] && !self.mat[i] && self.reads_a_table(i));
            match next {
                Some(i) => self.mat[i] = true,
                None => {
                    // Nothing left to materialize (a to_field read in a cycle
                    // of updates): keep Django's order.
                    let none = vec![Vec::new(); self.stmts.len()];
                    self.order = self.try_order(&none, &soft).unwrap_or_default();
                    return;
                }
            }
        }
    }

    fn reads_a_table(&self, i: usize) -> bool {
        let mut r = Reads::default();
        self.comp_reads(i, &mut r);
        !r.is_empty()
    }

    /// Materializes the selected components that still read a table or bind
    /// values, in dependency order.
    fn materialize_where(&mut self, wanted: impl Fn(usize) -> bool) {
        for k in 0..self.sccs.len() {
            for j in 0..self.sccs[k].len() {
                let i = self.sccs[k][j];
                if !self.mat[i] && wanted(i) && (self.reads_a_table(i) || self.params_in(i) > 1) {
                    self.mat[i] = true;
                }
            }
        }
    }

    /// Bound values a component's own atoms carry.
    fn params_in(&self, i: usize) -> usize {
        self.live_atoms(i)
            .map(|a| match a {
                Atom::Values(v) => v.len(),
                Atom::Query(q) => q.sql.params.len(),
                _ => 0,
            })
            .sum()
    }

    /// Renders every statement, within SQLite's parameter limit: the root
    /// keys or query are repeated in many statements, so they go to the
    /// temporary table when a statement would bind too many values; then
    /// anything else left.
    fn render_within_limits(&mut self) -> Rendered {
        let mut step = 0;
        loop {
            let r = self.render();
            let max = r
                .protect
                .iter()
                .chain(&r.restrict)
                .map(|(_, s)| s.params.len())
                .chain(r.writes.iter().map(|(_, s)| s.params.len()))
                .max()
                .unwrap_or(0);
            if max <= MAX_PARAMS || step == 2 {
                return r;
            }
            let wanted: Vec<bool> = self
                .c
                .comps
                .iter()
                .map(|c| step > 0 || c.kind == ROOT)
                .collect();
            self.materialize_where(|i| wanted[i]);
            step += 1;
        }
    }

    // -- rendering ----------------------------------------------------------

    /// Component `i`'s number in the temporary table.
    fn n(&self, i: usize) -> Value {
        Value::Integer(self.base + i as i64)
    }

    /// `SELECT "k" FROM temp."orm_delete_keys" WHERE "n" = ?`: the stored keys
    /// of component `i`.
    fn stored(&self, i: usize) -> Sql {
        let mut s = Sql::new(format!(
            "SELECT {} FROM {} WHERE {} = ",
            quote("k"),
            temp_table(),
            quote("n")
        ));
        s.bind(self.n(i));
        s
    }

    /// A condition on `col` for the keys of `sets`. `scope` names the table
    /// whose key `col` is, in the current FROM: a CASCADE atom of that table
    /// is then written on its own column, with no subquery.
    fn cond(&self, col: &str, sets: &[KeySet], scope: Option<&'static ModelMeta>) -> Option<Sql> {
        let mut parts = Vec::new();
        for i in self.members(sets) {
            if self.mat[i] {
                let mut s = Sql::new(format!("{col} IN ("));
                s.append(&self.stored(i)).push(")");
                parts.push(s);
                continue;
            }
            let table = self.c.comps[i].table;
            let inline = scope.is_some_and(|s| s.is(table));
            let mut own = Vec::new();
            for a in self.live_atoms(i) {
                let part = match a {
                    Atom::Values(keys) => Some(in_values(col, keys)),
                    Atom::Query(q) if q.everything && inline => Some(Sql::new("1")),
                    Atom::Query(q) => {
                        let mut s = Sql::new(format!("{col} IN ("));
                        s.append(&q.sql).push(")");
                        Some(s)
                    }
                    Atom::Via { rel, from } => self.mapped(rel, &[*from]).map(|m| {
                        if inline {
                            m
                        } else {
                            let mut s = Sql::new(format!(
                                "{col} IN (SELECT {} FROM {} WHERE ",
                                qcol(table.table, table.pk_field().column),
                                quote(table.table)
                            ));
                            s.append(&m).push(")");
                            s
                        }
                    }),
                    Atom::Up(from) => self.cond(col, &[*from], scope),
                };
                own.extend(part);
            }
            match (Sql::any_of(own), self.minus_root(i, col)) {
                (Some(c), Some(minus)) => {
                    let mut s = Sql::new("(");
                    s.append(&c).push(" AND ").append(&minus).push(")");
                    parts.push(s);
                }
                (c, _) => parts.extend(c),
            }
        }
        Sql::any_of(parts)
    }

    /// `col NOT IN (<root keys>)` when component `i` leaves the root keys
    /// out (see `Comp::minus_root`). Keys are never NULL.
    fn minus_root(&self, i: usize, col: &str) -> Option<Sql> {
        if !self.c.comps[i].minus_root {
            return None;
        }
        let mut s = Sql::new(format!("{col} NOT IN ("));
        for (j, k) in self.c.kept.iter().enumerate() {
            if j > 0 {
                s.push(", ");
            }
            s.bind(k.clone());
        }
        s.push(")");
        Some(s)
    }

    /// The SELECTs yielding component `i`'s keys: the stored keys, or its
    /// atoms', the root keys left out where the component says so.
    fn comp_selects(&self, i: usize, out: &mut Vec<Sql>) {
        if self.mat[i] {
            out.push(self.stored(i));
            return;
        }
        let mut selects = Vec::new();
        for a in self.live_atoms(i) {
            self.atom_selects(self.c.comps[i].table, a, &mut selects);
        }
        out.extend(self.selects_minus_root(i, selects));
    }

    /// Filters SELECTs of component `i`'s keys by `minus_root`: the first
    /// SELECT of a compound names its column, hence the empty `"k"` one.
    fn selects_minus_root(&self, i: usize, selects: Vec<Sql>) -> Vec<Sql> {
        let k = quote("k");
        match self.minus_root(i, &k) {
            Some(minus) if !selects.is_empty() => {
                let mut s = Sql::new(format!(
                    "SELECT {k} FROM (SELECT NULL AS {k} WHERE 0 UNION ALL "
                ));
                s.append(&Sql::union(&selects))
                    .push(") WHERE ")
                    .append(&minus);
                vec![s]
            }
            _ => selects,
        }
    }

    /// The condition "`rel`'s column points at a key of `from`", on the
    /// relation's table (through the `to_field` column when there is one).
    fn mapped(&self, rel: &ReverseRelation, from: &[KeySet]) -> Option<Sql> {
        let fcol = qcol(rel.source.table, rel.field.column);
        match to_field(rel) {
            Some(tf) => {
                let t = rel.target;
                let inner = self.cond(&qcol(t.table, t.pk_field().column), from, Some(t))?;
                let mut s = Sql::new(format!(
                    "{fcol} IN (SELECT {} FROM {} WHERE ",
                    qcol(t.table, tf.column),
                    quote(t.table)
                ));
                s.append(&inner).push(")");
                Some(s)
            }
            None => self.cond(&fcol, from, None),
        }
    }

    /// The SELECTs (to be UNION ALL-ed) yielding the keys of one atom.
    fn atom_selects(&self, table: &'static ModelMeta, a: &Atom, out: &mut Vec<Sql>) {
        match a {
            Atom::Values(keys) => {
                let mut s = Sql::new("VALUES ");
                for (j, k) in keys.iter().enumerate() {
                    if j > 0 {
                        s.push(", ");
                    }
                    s.push("(").bind(k.clone()).push(")");
                }
                out.push(s);
            }
            Atom::Query(q) => out.push(q.sql.clone()),
            Atom::Via { rel, from } => {
                if let Some(m) = self.mapped(rel, &[*from]) {
                    let mut s = Sql::new(format!(
                        "SELECT {} FROM {} WHERE ",
                        qcol(table.table, table.pk_field().column),
                        quote(table.table)
                    ));
                    s.append(&m);
                    out.push(s);
                }
            }
            Atom::Up(from) => {
                for i in self.members(&[*from]) {
                    self.comp_selects(i, out);
                }
            }
        }
    }

    /// The INSERTs that store component `i`'s keys in the temporary table.
    fn inserts(&self, i: usize) -> Vec<Sql> {
        let n = self.n(i);
        let head = format!(
            "INSERT OR IGNORE INTO {} ({}, {}) ",
            temp_table(),
            quote("n"),
            quote("k")
        );
        let mut out = Vec::new();
        let mut selects = Vec::new();
        for a in self.live_atoms(i) {
            match a {
                Atom::Values(keys) => {
                    // (Only a root component holds values.)
                    let keys: Vec<&Value> = keys
                        .iter()
                        .filter(|k| !(self.c.comps[i].minus_root && self.c.kept.contains(k)))
                        .collect();
                    for chunk in keys.chunks(VALUES_PER_INSERT) {
                        let mut s = Sql::new(format!("{head}VALUES "));
                        for (j, k) in chunk.iter().enumerate() {
                            if j > 0 {
                                s.push(", ");
                            }
                            s.push("(")
                                .bind(n.clone())
                                .push(", ")
                                .bind((*k).clone())
                                .push(")");
                        }
                        out.push(s);
                    }
                }
                a => self.atom_selects(self.c.comps[i].table, a, &mut selects),
            }
        }
        let selects = self.selects_minus_root(i, selects);
        if !selects.is_empty() {
            let mut s = Sql::new(head);
            s.push("SELECT ").bind(n).push(", * FROM (");
            s.append(&Sql::union(&selects)).push(")");
            out.push(s);
        }
        out
    }

    /// The one statement that stores a recursive set of components:
    /// `WITH RECURSIVE "r"("n", "k") AS (<keys from outside the cycle> UNION
    /// <one join of "r" per relation inside it>) INSERT ... FROM "r"`. UNION
    /// drops repeated rows, so a cycle in the data ends the recursion too.
    fn recursive_insert(&self, k: usize) -> Sql {
        let scc = &self.sccs[k];
        let (r, rn, rk) = (quote("r"), qcol("r", "n"), qcol("r", "k"));
        let mut terms = Vec::new();
        self.hidden.set(Some(k));
        for &i in scc {
            let mut selects = Vec::new();
            for a in self.live_atoms(i) {
                self.atom_selects(self.c.comps[i].table, a, &mut selects);
            }
            let selects = self.selects_minus_root(i, selects);
            if !selects.is_empty() {
                let mut s = Sql::new("SELECT ");
                s.bind(self.n(i))
                    .push(", * FROM (")
                    .append(&Sql::union(&selects))
                    .push(")");
                terms.push(s);
            }
        }
        self.hidden.set(None);
        for &i in scc {
            for a in self.live_atoms(i) {
                let (rel, from) = match a {
                    Atom::Via { rel, from } => (Some(rel), from),
                    Atom::Up(from) => (None, from),
                    _ => continue,
                };
                for m in self.members(&[*from]) {
                    if self.scc_of[m] != k {
                        continue;
                    }
                    let mut s = Sql::new("SELECT ");
                    s.bind(self.n(i));
                    // The column of the keys this term yields.
                    let key = match rel {
                        None => rk.clone(),
                        Some(rel) => qcol("src", rel.source.pk_field().column),
                    };
                    match rel {
                        None => {
                            s.push(&format!(", {rk} FROM {r}"));
                        }
                        Some(rel) => {
                            let src = rel.source;
                            s.push(&format!(", {key} FROM {r} "));
                            let fcol = qcol("src", rel.field.column);
                            match to_field(rel) {
                                Some(tf) => s.push(&format!(
                                    "JOIN {} AS {} ON {} = {rk} JOIN {} AS {} ON {fcol} = {}",
                                    quote(rel.target.table),
                                    quote("dst"),
                                    qcol("dst", rel.target.pk_field().column),
                                    quote(src.table),
                                    quote("src"),
                                    qcol("dst", tf.column)
                                )),
                                None => s.push(&format!(
                                    "JOIN {} AS {} ON {fcol} = {rk}",
                                    quote(src.table),
                                    quote("src")
                                )),
                            };
                        }
                    }
                    s.push(&format!(" WHERE {rn} = ")).bind(self.n(m));
                    if let Some(minus) = self.minus_root(i, &key) {
                        s.push(" AND ").append(&minus);
                    }
                    terms.push(s);
                }
            }
        }
        let mut sql = Sql::new(format!(
            "WITH RECURSIVE {r}({}, {}) AS (",
            quote("n"),
            quote("k")
        ));
        for (j, t) in terms.iter().enumerate() {
            if j > 0 {
                sql.push(" UNION ");
            }
            sql.append(t);
        }
        sql.push(&format!(
            ") INSERT OR IGNORE INTO {} ({}, {}) SELECT {rn}, {rk} FROM {r}",
            temp_table(),
            quote("n"),
            quote("k")
        ));
        sql
    }

    /// Every statement the delete runs, rendered once.
    fn render(&self) -> Rendered {
        let mut materialize = Vec::new();
        for (k, scc) in self.sccs.iter().enumerate() {
            if self.recursive[k] {
                materialize.push(self.recursive_insert(k));
            } else {
                for &i in scc.iter().filter(|&&i| self.mat[i]) {
                    materialize.extend(self.inserts(i));
                }
            }
        }
        Rendered {
            materialize,
            protect: self.render_protect(),
            restrict: self.render_restrict(),
            writes: self
                .order
                .iter()
                .filter_map(|&i| self.render_write(&self.stmts[i]).map(|s| (i, s)))
                .collect(),
        }
    }

    /// The rules of each relation, in order of first appearance.
    fn by_relation(rules: &'c [Rule]) -> Vec<(ReverseRelation, Vec<&'c Rule>)> {
        let mut out: Vec<(ReverseRelation, Vec<&Rule>)> = Vec::new();
        for r in rules {
            match out
                .iter_mut()
                .find(|(rel, _)| std::ptr::eq(rel.rel, r.rel.rel))
            {
                Some((_, v)) => v.push(r),
                None => out.push((r.rel, vec![r])),
            }
        }
        out
    }

    /// One `SELECT pk, top` per PROTECT relation, a UNION ALL over the
    /// top-level relations it is reached through.
    fn render_protect(&self) -> Vec<(ReverseRelation, Sql)> {
        let mut out = Vec::new();
        for (rel, rules) in Self::by_relation(&self.c.protect) {
            let mut tops: Vec<usize> = rules.iter().map(|r| r.top).collect();
            tops.sort_unstable();
            tops.dedup();
            let mut selects = Vec::new();
            for top in tops {
                let from: Vec<KeySet> = rules
                    .iter()
                    .filter(|r| r.top == top)
                    .map(|r| r.from)
                    .collect();
                if let Some(m) = self.mapped(&rel, &from) {
                    let mut s = Sql::new(format!(
                        "SELECT {}, ",
                        qcol(rel.source.table, rel.source.pk_field().column)
                    ));
                    s.bind(Value::Integer(top as i64))
                        .push(&format!(" FROM {} WHERE ", quote(rel.source.table)))
                        .append(&m);
                    selects.push(s);
                }
            }
            if !selects.is_empty() {
                out.push((rel, Sql::union(&selects)));
            }
        }
        out
    }

    /// One SELECT per RESTRICT relation: the rows pointing at deleted rows
    /// that are not deleted themselves.
    ///
    /// "Deleted" is a membership test on the row's own keys (`fk IN (...)`),
    /// which is NULL, not false, for a NULL key (a nullable CASCADE that
    /// points nowhere) or against a `to_field` subquery yielding a NULL:
    /// `NOT (NULL)` would drop the row from the check, so the test is
    /// `IS NOT TRUE`.
    fn render_restrict(&self) -> Vec<(ReverseRelation, Sql)> {
        let mut out = Vec::new();
        for (rel, rules) in Self::by_relation(&self.c.restrict) {
            let from: Vec<KeySet> = rules.iter().map(|r| r.from).collect();
            let Some(m) = self.mapped(&rel, &from) else {
                continue;
            };
            let s_table = rel.source;
            let pk = qcol(s_table.table, s_table.pk_field().column);
            let mut s = Sql::new(format!("SELECT {pk} FROM {} WHERE ", quote(s_table.table)));
            s.append(&m);
            if let Some(deleted) = self.cond(&pk, &[KeySet::all(s_table)], Some(s_table)) {
                s.push(" AND (").append(&deleted).push(") IS NOT TRUE");
            }
            out.push((rel, s));
        }
        out
    }

    fn render_write(&self, s: &Stmt) -> Option<Sql> {
        let t = s.table;
        match &s.update {
            Some(u) => {
                let m = self.mapped(&u.rel, &u.from)?;
                let mut sql = Sql::new(format!(
                    "UPDATE {} SET {} = ",
                    quote(t.table),
                    quote(u.rel.field.column)
                ));
                sql.bind(u.value.clone()).push(" WHERE ").append(&m);
                Some(sql)
            }
            None => {
                let c = self.cond(
                    &qcol(t.table, t.pk_field().column),
                    &[KeySet::all(t)],
                    Some(t),
                )?;
                let mut sql = Sql::new(format!("DELETE FROM {} WHERE ", quote(t.table)));
                sql.append(&c);
                Some(sql)
            }
        }
    }

    // -- execution -----------------------------------------------------------

    fn execute(&self, db: &Db, r: &Rendered) -> Result<Deleted> {
        if !r.materialize.is_empty() {
            db.execute(&create_temp_sql(), &[])?;
            for s in &r.materialize {
                db.execute(&s.text, &s.params)?;
            }
        }
        self.check_protected(db, &r.protect)?;
        self.check_restricted(db, &r.restrict)?;

        // Hooks: load the rows of hooked models, then every pre_delete.
        let mut loaded: Vec<Vec<Box<dyn DynModel>>> = Vec::with_capacity(r.writes.len());
        for (i, _) in &r.writes {
            let s = &self.stmts[*i];
            let objs = if s.update.is_none() && db.hooks.has_delete_hooks(s.table) {
                self.load(db, s.table)?
            } else {
                Vec::new()
            };
            loaded.push(objs);
        }
        for obj in loaded.iter().flatten() {
            db.hooks.pre_delete(db, &**obj)?;
        }

        let mut deleted = Deleted::default();
        for ((i, sql), objs) in r.writes.iter().zip(&loaded) {
            let s = &self.stmts[*i];
            let n = db.execute(&sql.text, &sql.params)? as u64;
            db.wrote(s.table);
            if s.update.is_none() {
                if n > 0 {
                    deleted.total += n;
                    deleted.per_model.push((s.table.label(), n));
                }
                for obj in objs.iter().rev() {
                    db.hooks.post_delete(db, &**obj)?;
                }
            }
        }

        if !r.materialize.is_empty() {
            let mut clear = Sql::new(format!(
                "DELETE FROM {} WHERE {} BETWEEN ",
                temp_table(),
                quote("n")
            ));
            clear
                .bind(Value::Integer(self.base))
                .push(" AND ")
                .bind(Value::Integer(self.base + self.c.comps.len() as i64));
            db.execute(&clear.text, &clear.params)?;
        }
        Ok(deleted)
    }

    /// The rows of `table` about to be deleted, ascending by key.
    fn load(&self, db: &Db, table: &'static ModelMeta) -> Result<Vec<Box<dyn DynModel>>> {
        let pk = qcol(table.table, table.pk_field().column);
        let Some(c) = self.cond(&pk, &[KeySet::all(table)], Some(table)) else {
            return Ok(Vec::new());
        };
        let mut sql = Sql::new(crate::render::select(table, &Spec::default())?.sql);
        sql.push(" WHERE ")
            .append(&c)
            .push(&format!(" ORDER BY {pk}"));
        let mut stmt = db.prepare(&sql.text)?;
        bind_all(&mut stmt, &sql.params)?;
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(Error::from_sqlite)? {
            let mut idx = 0;
            out.push((table.load)(row, &mut idx)?);
        }
        Ok(out)
    }

    /// Runs a check: `(pk, top)` rows when `tagged`, else `(pk, 0)`.
    fn query_pairs(db: &Db, sql: &Sql, tagged: bool) -> Result<Vec<(Value, i64)>> {
        let mut stmt = db.prepare(&sql.text)?;
        bind_all(&mut stmt, &sql.params)?;
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(Error::from_sqlite)? {
            let tag = if tagged { row.get::<_, i64>(1)? } else { 0 };
            out.push((row.get::<_, Value>(0)?, tag));
        }
        Ok(out)
    }

    /// PROTECT always blocks. Django's key is the relation at the top level:
    /// the protecting field itself, or the cascading field that led to it.
    fn check_protected(&self, db: &Db, checks: &[(ReverseRelation, Sql)]) -> Result<()> {
        let mut tops: Vec<usize> = Vec::new();
        let mut objects: Vec<Blocker> = Vec::new();
        for (rel, sql) in checks {
            for (pk, top) in Self::query_pairs(db, sql, true)? {
                tops.push(top as usize);
                let b = Blocker {
                    model: rel.source.label(),
                    pk: pk_text(&pk),
                    through: rel.key(),
                };
                if !objects.iter().any(|o| o.model == b.model && o.pk == b.pk) {
                    objects.push(b);
                }
            }
        }
        if objects.is_empty() {
            return Ok(());
        }
        tops.sort_unstable();
        tops.dedup();
        let mut keys: Vec<String> = Vec::new();
        for t in tops {
            // Cannot panic: `t` is the `top` the PROTECT query bound (its
            // second column), an index of `tops` (`render_protect`).
            let key = self.c.tops[t].key();
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        Err(Error::Protected {
            model: self.c.top.name,
            keys,
            objects,
        })
    }

    /// RESTRICT blocks unless the restricted row is itself deleted.
    fn check_restricted(&self, db: &Db, checks: &[(ReverseRelation, Sql)]) -> Result<()> {
        let mut keys: Vec<String> = Vec::new();
        let mut objects: Vec<Blocker> = Vec::new();
        for (rel, sql) in checks {
            let rows = Self::query_pairs(db, sql, false)?;
            if rows.is_empty() {
                continue;
            }
            if !keys.contains(&rel.key()) {
                keys.push(rel.key());
            }
            for (pk, _) in rows {
                let b = Blocker {
                    model: rel.source.label(),
                    pk: pk_text(&pk),
                    through: rel.key(),
                };
                if !objects.iter().any(|o| o.model == b.model && o.pk == b.pk) {
                    objects.push(b);
                }
            }
        }
        if keys.is_empty() {
            return Ok(());
        }
        Err(Error::Restricted {
            model: self.c.top.name,
            keys,
            objects,
        })
    }
}

fn in_values(col: &str, keys: &[Value]) -> Sql {
    let mut s = Sql::new(col);
    if let [k] = keys {
        s.push(" = ").bind(k.clone());
    } else {
        s.push(" IN (");
        for (j, k) in keys.iter().enumerate() {
            if j > 0 {
                s.push(", ");
            }
            s.bind(k.clone());
        }
        s.push(")");
    }
    s
}

/// The SQL of one delete, in execution order.
struct Rendered {
    /// Stores materialized keys, dependencies first.
    materialize: Vec<Sql>,
    protect: Vec<(ReverseRelation, Sql)>,
    restrict: Vec<(ReverseRelation, Sql)>,
    /// `(statement index, SQL)`.
    writes: Vec<(usize, Sql)>,
}

/// Tarjan's strongly connected components of `nodes` (`edges[v]` are the
/// nodes `v` depends on), dependencies first.
fn strongly_connected(nodes: &[usize], edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    struct State<'e> {
        edges: &'e [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    // Indexing cannot panic: every vector has `edges.len()` entries, and
    // `nodes` and the edges hold component numbers below that.
    fn connect(s: &mut State<'_>, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for k in 0..s.edges[v].len() {
            let w = s.edges[v][k];
            match s.index[w] {
                None => {
                    connect(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(iw) if s.on_stack[w] => s.low[v] = s.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                scc.push(w);
                if w == v {
                    break;
                }
            }
            scc.sort_unstable();
            s.out.push(scc);
        }
    }
    let n = edges.len();
    let mut s = State {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for &v in nodes {
        if s.index[v].is_none() {
            connect(&mut s, v);
        }
    }
    s.out
}

/// A delete running on a handle: each level of nesting (a hook may delete
/// too) uses its own range of component numbers in the temporary table.
struct Nesting<'db> {
    db: &'db Db,
    depth: u32,
}

impl<'db> Nesting<'db> {
    fn enter(db: &'db Db) -> Nesting<'db> {
        Nesting {
            db,
            depth: db.enter_delete(),
        }
    }

    fn base(&self) -> i64 {
        i64::from(self.depth) << 32
    }
}

impl Drop for Nesting<'_> {
    fn drop(&mut self) {
        self.db.leave_delete(self.depth);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_reads_like_django() {
        let d = Deleted {
            total: 2,
            per_model: vec![("app.Profile".into(), 1), ("auth.User".into(), 1)],
        };
        assert_eq!(d.to_string(), r#"(2, {"app.Profile": 1, "auth.User": 1})"#);
        assert_eq!(Deleted::default().to_string(), "(0, {})");
        assert_eq!(d.count("auth.User"), 1);
        assert_eq!(d.count("auth.Group"), 0);
    }

    #[test]
    fn tarjan_orders_dependencies_first() {
        // 0 -> 1 -> 2 -> 1, 3 -> 3
        let edges = vec![vec![1], vec![2], vec![1], vec![3]];
        let sccs = strongly_connected(&[0, 1, 2, 3], &edges);
        assert_eq!(sccs, vec![vec![1, 2], vec![0], vec![3]]);
    }

    #[test]
    fn reads_hit_by_column() {
        let mut r = Reads::default();
        let m: &'static ModelMeta = Box::leak(Box::new(ModelMeta {
            app_label: "t",
            name: "T",
            model_name: "t",
            table: "t_t",
            fields: &[],
            pk: 0,
            parent: None,
            load: |_, _| Err(Error::Usage("no".into())),
        }));
        r.add(m, "a");
        assert!(r.hit(m, None));
        assert!(r.hit(m, Some("a")));
        assert!(!r.hit(m, Some("b")));
    }
}
