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

use std::collections::HashSet;

use rusqlite::types::Value;

use crate::db::Db;
use crate::error::{Blocker, Error, Result};
use crate::exec::bind_all;
use crate::meta::{FieldMeta, ModelMeta, OnDelete};
use crate::model::{DynModel, Model};
use crate::query::{Rhs, Spec, Step, Q};
use crate::registry::{registry, ReverseRelation};
use crate::sql::{self, Dialect, Expr, Query, Select, Source, Statement};

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
    let mut plan = Plan::new(&collector);
    if plan.is_empty() {
        return Ok(Deleted::default());
    }
    for s in &plan.stmts {
        db.before_write(s.table)?;
    }
    let rendered = plan.render_within_limits(db.dialect, nesting.base())?;
    db.atomic(|db| plan.execute(db, &rendered, nesting.base()))
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

/// The `SELECT pk FROM ... WHERE ...` of a `QuerySet::delete`, as a tree.
struct RootQuery {
    query: Query,
    /// No filter: every row.
    everything: bool,
    /// The filter can match nothing (`pk__in=[]`).
    nothing: bool,
    reads: Reads,
}

impl RootQuery {
    fn new(model: &'static ModelMeta, spec: &Spec) -> Result<RootQuery> {
        let query = crate::render::keys_query(model, spec)?;
        let (everything, nothing) = match &query {
            Query::Select(s) => (s.filter.is_none(), matches!(s.filter, Some(Expr::False))),
            _ => (false, false),
        };
        let mut reads = Reads::default();
        for m in model.chain() {
            reads.add(m, m.pk_field().column);
        }
        if let Some(q) = &spec.filter {
            q_reads(model, q, &mut reads);
        }
        Ok(RootQuery {
            query,
            everything,
            nothing,
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
// The columns key sets read
// ---------------------------------------------------------------------------

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
    /// Live components by strongly connected set, dependencies first.
    sccs: Vec<Vec<usize>>,
    /// Per component, the index of its set in `sccs`.
    scc_of: Vec<usize>,
    recursive: Vec<bool>,
    stmts: Vec<Stmt>,
    order: Vec<usize>,
}

impl<'c> Plan<'c> {
    fn new(c: &'c Collector) -> Plan<'c> {
        let n = c.comps.len();
        let mut plan = Plan {
            c,
            live: vec![false; n],
            mat: vec![false; n],
            sccs: Vec::new(),
            scc_of: vec![usize::MAX; n],
            recursive: Vec::new(),
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
        self.members_except(sets, None)
    }

    /// [`Plan::members`], leaving out the members of the strongly connected
    /// set `hidden`.
    fn members_except(&self, sets: &[KeySet], hidden: Option<usize>) -> Vec<usize> {
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

    /// Bound keys a component's own atoms carry. (A root query reads a
    /// table, which is reason enough to store it.)
    fn params_in(&self, i: usize) -> usize {
        self.live_atoms(i)
            .map(|a| match a {
                Atom::Values(v) => v.len(),
                _ => 0,
            })
            .sum()
    }

    /// Renders every statement, within SQLite's parameter limit: the root
    /// keys or query are repeated in many statements, so they go to the
    /// temporary table when a statement would bind too many values; then
    /// anything else left.
    fn render_within_limits(&mut self, dialect: &dyn Dialect, base: i64) -> Result<Rendered> {
        let mut step = 0;
        loop {
            let r = Trees::new(self, dialect, base).render(dialect)?;
            let max = r
                .protect
                .iter()
                .chain(&r.restrict)
                .map(|(_, s)| s.params.len())
                .chain(r.writes.iter().map(|(_, s)| s.params.len()))
                .max()
                .unwrap_or(0);
            if max <= MAX_PARAMS || step == 2 {
                return Ok(r);
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

    // -- execution -----------------------------------------------------------

    fn execute(&self, db: &Db, r: &Rendered, base: i64) -> Result<Deleted> {
        for s in &r.materialize {
            db.execute(&s.sql, &s.params)?;
        }
        self.check_protected(db, &r.protect)?;
        self.check_restricted(db, &r.restrict)?;

        // Hooks: load the rows of hooked models, then every pre_delete.
        let trees = Trees::new(self, db.dialect, base);
        let mut loaded: Vec<Vec<Box<dyn DynModel>>> = Vec::with_capacity(r.writes.len());
        for (i, _) in &r.writes {
            let s = &self.stmts[*i];
            let objs = if s.update.is_none() && db.hooks.has_delete_hooks(s.table) {
                trees.load(db, s.table)?
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
            let n = db.execute(&sql.sql, &sql.params)? as u64;
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

        if let Some(clear) = &r.clear {
            db.execute(&clear.sql, &clear.params)?;
        }
        Ok(deleted)
    }

    /// Runs a check: `(pk, top)` rows when `tagged`, else `(pk, 0)`.
    fn query_pairs(db: &Db, sql: &Text, tagged: bool) -> Result<Vec<(Value, i64)>> {
        let mut stmt = db.prepare(&sql.sql)?;
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
    fn check_protected(&self, db: &Db, checks: &[(ReverseRelation, Text)]) -> Result<()> {
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
            // second column), an index of `tops` (`Trees::protect`).
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
    fn check_restricted(&self, db: &Db, checks: &[(ReverseRelation, Text)]) -> Result<()> {
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

// ---------------------------------------------------------------------------
// Trees: the plan's statements as `crate::sql` trees
// ---------------------------------------------------------------------------

/// The temporary table materialized keys go to, one per connection: `n`
/// names the component, `k` is a key.
const KEY_TABLE: &str = "orm_delete_keys";

/// `"table"."column"`.
fn col(table: &'static ModelMeta, column: &'static str) -> Expr {
    Expr::col(table.table, column)
}

/// `"table"."pk"`.
fn pk_col(table: &'static ModelMeta) -> Expr {
    col(table, table.pk_field().column)
}

/// `SELECT "table"."pk" FROM "table" WHERE filter`.
fn select_keys(table: &'static ModelMeta, filter: Expr) -> Query {
    Select::from_table(vec![pk_col(table)], table.table, Some(filter)).into()
}

/// `a UNION ALL b ...` (one part stays as it is).
fn union_all(mut parts: Vec<Query>) -> Query {
    if parts.len() == 1 {
        if let Some(p) = parts.pop() {
            return p;
        }
    }
    Query::Union { all: true, parts }
}

/// `SELECT <columns> FROM (query)`.
fn select_from(columns: Vec<Expr>, query: Query) -> Select {
    Select {
        columns: columns.into_iter().map(|c| (c, None)).collect(),
        from: Some(sql::From {
            source: Source::Query(Box::new(query)),
            alias: None,
            joins: Vec::new(),
        }),
        ..Select::default()
    }
}

/// `col = key`, or `col IN (keys)`.
fn in_values(col: &Expr, keys: &[Value]) -> Expr {
    match keys {
        [k] => col.clone().eq(Expr::Param(k.clone())),
        _ => Expr::In(Box::new(col.clone()), keys.to_vec()),
    }
}

/// Writes a plan's statements as trees. Component `i` is stored in the key
/// table as `n = base + i`.
#[derive(Clone, Copy)]
struct Trees<'p, 'c> {
    plan: &'p Plan<'c>,
    base: i64,
    /// The schema of temporary tables (`temp` on SQLite).
    temp_schema: Option<&'static str>,
    /// While writing the start of a recursive set, its own components read
    /// as empty.
    hidden: Option<usize>,
}

impl<'p, 'c> Trees<'p, 'c> {
    fn new(plan: &'p Plan<'c>, dialect: &dyn Dialect, base: i64) -> Trees<'p, 'c> {
        Trees {
            plan,
            base,
            temp_schema: dialect.temp_schema(),
            hidden: None,
        }
    }

    fn members(&self, sets: &[KeySet]) -> Vec<usize> {
        self.plan.members_except(sets, self.hidden)
    }

    /// Component `i`'s number in the key table.
    fn n(&self, i: usize) -> Expr {
        Expr::Param(Value::Integer(self.base + i as i64))
    }

    fn key_table(&self) -> Source {
        Source::Table {
            schema: self.temp_schema.map(Into::into),
            name: KEY_TABLE.into(),
        }
    }

    /// `CREATE TEMP TABLE IF NOT EXISTS "orm_delete_keys" ("n" integer NOT
    /// NULL, "k" NOT NULL, PRIMARY KEY ("n", "k"))`: `k` has no type, so keys
    /// of any type compare as stored.
    fn create_key_table(&self) -> Statement {
        let column = |name: &'static str, ty: &'static str| sql::ColumnDef {
            name: name.into(),
            ty: ty.into(),
            null: false,
            primary_key: false,
            auto: false,
            unique: false,
            references: None,
        };
        Statement::CreateTable(sql::CreateTable {
            temp: true,
            if_not_exists: true,
            name: KEY_TABLE.into(),
            columns: vec![column("n", "integer"), column("k", "")],
            primary_key: vec!["n".into(), "k".into()],
        })
    }

    /// Removes this delete's rows from the key table. (A DELETE names a
    /// table without a schema: the temporary one is found first.)
    fn clear_key_table(&self) -> Statement {
        let last = self.base + self.plan.c.comps.len() as i64;
        Statement::Delete(sql::Delete {
            table: KEY_TABLE.into(),
            filter: Some(Expr::Between(
                Box::new(Expr::bare("n")),
                Value::Integer(self.base),
                Value::Integer(last),
            )),
        })
    }

    /// `SELECT "k" FROM temp."orm_delete_keys" WHERE "n" = ?`: the stored keys
    /// of component `i`.
    fn stored(&self, i: usize) -> Query {
        Select {
            columns: vec![(Expr::bare("k"), None)],
            from: Some(sql::From {
                source: self.key_table(),
                alias: None,
                joins: Vec::new(),
            }),
            filter: Some(Expr::bare("n").eq(self.n(i))),
            ..Select::default()
        }
        .into()
    }

    /// A condition on `col` for the keys of `sets`. `scope` names the table
    /// whose key `col` is, in the current FROM: a CASCADE atom of that table
    /// is then written on its own column, with no subquery.
    fn cond(&self, col: &Expr, sets: &[KeySet], scope: Option<&'static ModelMeta>) -> Option<Expr> {
        let plan = self.plan;
        let mut parts = Vec::new();
        for i in self.members(sets) {
            if plan.mat[i] {
                parts.push(col.clone().in_query(self.stored(i)));
                continue;
            }
            let table = plan.c.comps[i].table;
            let inline = scope.is_some_and(|s| s.is(table));
            let mut own = Vec::new();
            for a in plan.live_atoms(i) {
                let part = match a {
                    Atom::Values(keys) => Some(in_values(col, keys)),
                    Atom::Query(q) if q.everything && inline => Some(Expr::Int(1)),
                    Atom::Query(q) => Some(col.clone().in_query(q.query.clone())),
                    Atom::Via { rel, from } => self.mapped(rel, &[*from]).map(|m| {
                        if inline {
                            m
                        } else {
                            col.clone().in_query(select_keys(table, m))
                        }
                    }),
                    Atom::Up(from) => self.cond(col, &[*from], scope),
                };
                own.extend(part);
            }
            match (Expr::any(own), self.minus_root(i, col)) {
                (Some(c), Some(minus)) => parts.push(Expr::And(vec![c, minus])),
                (c, _) => parts.extend(c),
            }
        }
        Expr::any(parts)
    }

    /// `NOT (col IN (<root keys>))` when component `i` leaves the root keys
    /// out (see `Comp::minus_root`). Keys are never NULL.
    fn minus_root(&self, i: usize, col: &Expr) -> Option<Expr> {
        let c = self.plan.c;
        if !c.comps[i].minus_root {
            return None;
        }
        Some(Expr::Not(Box::new(Expr::In(
            Box::new(col.clone()),
            c.kept.clone(),
        ))))
    }

    /// The queries yielding component `i`'s keys: the stored keys, or its
    /// atoms', the root keys left out where the component says so.
    fn comp_selects(&self, i: usize, out: &mut Vec<Query>) {
        if self.plan.mat[i] {
            out.push(self.stored(i));
            return;
        }
        let mut selects = Vec::new();
        for a in self.plan.live_atoms(i) {
            self.atom_selects(self.plan.c.comps[i].table, a, &mut selects);
        }
        out.extend(self.selects_minus_root(i, selects));
    }

    /// Filters queries of component `i`'s keys by `minus_root`: the first
    /// SELECT of a compound names its column, hence the empty `"k"` one.
    fn selects_minus_root(&self, i: usize, mut selects: Vec<Query>) -> Vec<Query> {
        let k = Expr::bare("k");
        match self.minus_root(i, &k) {
            Some(minus) if !selects.is_empty() => {
                let named = Select {
                    columns: vec![(Expr::Null, Some("k".into()))],
                    filter: Some(Expr::Int(0)),
                    ..Select::default()
                };
                selects.insert(0, named.into());
                let mut s = select_from(vec![k], union_all(selects));
                s.filter = Some(minus);
                vec![s.into()]
            }
            _ => selects,
        }
    }

    /// The condition "`rel`'s column points at a key of `from`", on the
    /// relation's table (through the `to_field` column when there is one).
    fn mapped(&self, rel: &ReverseRelation, from: &[KeySet]) -> Option<Expr> {
        let fcol = col(rel.source, rel.field.column);
        match to_field(rel) {
            Some(tf) => {
                let t = rel.target;
                let inner = self.cond(&pk_col(t), from, Some(t))?;
                let q = Select::from_table(vec![col(t, tf.column)], t.table, Some(inner));
                Some(fcol.in_query(q.into()))
            }
            None => self.cond(&fcol, from, None),
        }
    }

    /// The queries (to be UNION ALL-ed) yielding the keys of one atom.
    fn atom_selects(&self, table: &'static ModelMeta, a: &Atom, out: &mut Vec<Query>) {
        match a {
            Atom::Values(keys) => out.push(Query::Values(
                keys.iter().map(|k| vec![Expr::Param(k.clone())]).collect(),
            )),
            Atom::Query(q) => out.push(q.query.clone()),
            Atom::Via { rel, from } => {
                if let Some(m) = self.mapped(rel, &[*from]) {
                    out.push(select_keys(table, m));
                }
            }
            Atom::Up(from) => {
                for i in self.members(&[*from]) {
                    self.comp_selects(i, out);
                }
            }
        }
    }

    /// `INSERT OR IGNORE INTO temp."orm_delete_keys" ("n", "k") <rows>`.
    fn store(&self, rows: sql::Rows, with: Option<sql::With>) -> Statement {
        Statement::Insert(sql::Insert {
            with,
            table: self.key_table(),
            columns: vec!["n".into(), "k".into()],
            rows,
            or_ignore: true,
        })
    }

    /// The INSERTs that store component `i`'s keys in the key table.
    fn inserts(&self, i: usize) -> Vec<Statement> {
        let c = self.plan.c;
        let mut out = Vec::new();
        let mut selects = Vec::new();
        for a in self.plan.live_atoms(i) {
            match a {
                Atom::Values(keys) => {
                    // (Only a root component holds values.)
                    let keys: Vec<&Value> = keys
                        .iter()
                        .filter(|k| !(c.comps[i].minus_root && c.kept.contains(k)))
                        .collect();
                    for chunk in keys.chunks(VALUES_PER_INSERT) {
                        let rows = chunk
                            .iter()
                            .map(|k| vec![self.n(i), Expr::Param((*k).clone())])
                            .collect();
                        out.push(self.store(sql::Rows::Values(rows), None));
                    }
                }
                a => self.atom_selects(c.comps[i].table, a, &mut selects),
            }
        }
        let selects = self.selects_minus_root(i, selects);
        if !selects.is_empty() {
            let q = select_from(vec![self.n(i), Expr::Star], union_all(selects));
            out.push(self.store(sql::Rows::Query(q.into()), None));
        }
        out
    }

    /// The one statement that stores a recursive set of components:
    /// `WITH RECURSIVE "r"("n", "k") AS (<keys from outside the cycle> UNION
    /// <one join of "r" per relation inside it>) INSERT ... FROM "r"`. UNION
    /// drops repeated rows, so a cycle in the data ends the recursion too.
    fn recursive_insert(&self, k: usize) -> Statement {
        let plan = self.plan;
        let scc = &plan.sccs[k];
        let r = |column: &'static str| Expr::col("r", column);
        let mut terms: Vec<Query> = Vec::new();
        let start = Trees {
            hidden: Some(k),
            ..*self
        };
        for &i in scc {
            let mut selects = Vec::new();
            for a in plan.live_atoms(i) {
                start.atom_selects(plan.c.comps[i].table, a, &mut selects);
            }
            let selects = start.selects_minus_root(i, selects);
            if !selects.is_empty() {
                terms.push(select_from(vec![self.n(i), Expr::Star], union_all(selects)).into());
            }
        }
        for &i in scc {
            for a in plan.live_atoms(i) {
                let (rel, from) = match a {
                    Atom::Via { rel, from } => (Some(rel), from),
                    Atom::Up(from) => (None, from),
                    _ => continue,
                };
                for m in self.members(&[*from]) {
                    if plan.scc_of[m] != k {
                        continue;
                    }
                    // The column of the keys this term yields, and the joins
                    // reaching it from "r".
                    let (key, joins) = match rel {
                        None => (r("k"), Vec::new()),
                        Some(rel) => {
                            let src = |c: &'static str| Expr::col("src", c);
                            let join =
                                |table: &'static ModelMeta, alias: &'static str, on| sql::Join {
                                    left: false,
                                    source: Source::table(table.table),
                                    alias: Some(alias.into()),
                                    on,
                                };
                            let fcol = src(rel.field.column);
                            let joins = match to_field(rel) {
                                Some(tf) => {
                                    let dst = |c: &'static str| Expr::col("dst", c);
                                    vec![
                                        join(
                                            rel.target,
                                            "dst",
                                            dst(rel.target.pk_field().column).eq(r("k")),
                                        ),
                                        join(rel.source, "src", fcol.eq(dst(tf.column))),
                                    ]
                                }
                                None => vec![join(rel.source, "src", fcol.eq(r("k")))],
                            };
                            (src(rel.source.pk_field().column), joins)
                        }
                    };
                    let mut filter = vec![r("n").eq(self.n(m))];
                    filter.extend(self.minus_root(i, &key));
                    terms.push(
                        Select {
                            columns: vec![(self.n(i), None), (key, None)],
                            from: Some(sql::From {
                                source: Source::table("r"),
                                alias: None,
                                joins,
                            }),
                            filter: Expr::all(filter),
                            ..Select::default()
                        }
                        .into(),
                    );
                }
            }
        }
        let with = sql::With {
            recursive: true,
            name: "r".into(),
            columns: vec!["n".into(), "k".into()],
            query: Query::Union {
                all: false,
                parts: terms,
            },
        };
        let rows = Select {
            columns: vec![(r("n"), None), (r("k"), None)],
            from: Some(sql::From::table("r")),
            ..Select::default()
        };
        self.store(sql::Rows::Query(rows.into()), Some(with))
    }

    /// One `SELECT pk, top` per PROTECT relation, a UNION ALL over the
    /// top-level relations it is reached through.
    fn protect(&self) -> Vec<(ReverseRelation, Statement)> {
        let mut out = Vec::new();
        for (rel, rules) in Plan::by_relation(&self.plan.c.protect) {
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
                    let s = Select::from_table(
                        vec![pk_col(rel.source), Expr::Param(Value::Integer(top as i64))],
                        rel.source.table,
                        Some(m),
                    );
                    selects.push(s.into());
                }
            }
            if !selects.is_empty() {
                out.push((rel, Statement::Query(None, union_all(selects))));
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
    fn restrict(&self) -> Vec<(ReverseRelation, Statement)> {
        let mut out = Vec::new();
        for (rel, rules) in Plan::by_relation(&self.plan.c.restrict) {
            let from: Vec<KeySet> = rules.iter().map(|r| r.from).collect();
            let Some(m) = self.mapped(&rel, &from) else {
                continue;
            };
            let s_table = rel.source;
            let pk = pk_col(s_table);
            let filter = match self.cond(&pk, &[KeySet::all(s_table)], Some(s_table)) {
                Some(deleted) => Expr::And(vec![m, Expr::IsNotTrue(Box::new(deleted))]),
                None => m,
            };
            out.push((rel, Statement::Query(None, select_keys(s_table, filter))));
        }
        out
    }

    fn write(&self, s: &Stmt) -> Option<Statement> {
        let t = s.table;
        match &s.update {
            Some(u) => {
                let m = self.mapped(&u.rel, &u.from)?;
                Some(Statement::Update(sql::Update {
                    table: t.table.into(),
                    sets: vec![(u.rel.field.column.into(), Expr::Param(u.value.clone()))],
                    filter: Some(m),
                }))
            }
            None => {
                let c = self.cond(&pk_col(t), &[KeySet::all(t)], Some(t))?;
                Some(Statement::Delete(sql::Delete {
                    table: t.table.into(),
                    filter: Some(c),
                }))
            }
        }
    }

    /// Every statement the delete runs, rendered once with `dialect`.
    fn render(&self, dialect: &dyn Dialect) -> Result<Rendered> {
        let plan = self.plan;
        let text = |s: &Statement| -> Result<Text> {
            let (sql, params) = crate::render::write(dialect, plan.c.top, s)?;
            Ok(Text { sql, params })
        };
        let mut materialize = Vec::new();
        for (k, scc) in plan.sccs.iter().enumerate() {
            if plan.recursive[k] {
                materialize.push(text(&self.recursive_insert(k))?);
            } else {
                for &i in scc.iter().filter(|&&i| plan.mat[i]) {
                    for s in self.inserts(i) {
                        materialize.push(text(&s)?);
                    }
                }
            }
        }
        let clear = if materialize.is_empty() {
            None
        } else {
            materialize.insert(0, text(&self.create_key_table())?);
            Some(text(&self.clear_key_table())?)
        };
        let checks = |stmts: Vec<(ReverseRelation, Statement)>| -> Result<Vec<_>> {
            stmts
                .into_iter()
                .map(|(rel, s)| Ok((rel, text(&s)?)))
                .collect()
        };
        let mut writes = Vec::new();
        for &i in &plan.order {
            if let Some(s) = self.write(&plan.stmts[i]) {
                writes.push((i, text(&s)?));
            }
        }
        Ok(Rendered {
            materialize,
            protect: checks(self.protect())?,
            restrict: checks(self.restrict())?,
            writes,
            clear,
        })
    }

    /// The rows of `table` about to be deleted, ascending by key.
    fn load(&self, db: &Db, table: &'static ModelMeta) -> Result<Vec<Box<dyn DynModel>>> {
        let pk = pk_col(table);
        let Some(c) = self.cond(&pk, &[KeySet::all(table)], Some(table)) else {
            return Ok(Vec::new());
        };
        let (mut select, _) = crate::render::select_tree(table, &Spec::default())?;
        select.filter = Some(c);
        select.order = vec![(pk, false)];
        let (sql, params) =
            crate::render::write(db.dialect, table, &Statement::Query(None, select.into()))?;
        let mut stmt = db.prepare(&sql)?;
        bind_all(&mut stmt, &params)?;
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(Error::from_sqlite)? {
            let mut idx = 0;
            out.push((table.load)(row, &mut idx)?);
        }
        Ok(out)
    }
}

/// A rendered statement with its bound values.
struct Text {
    sql: String,
    params: Vec<Value>,
}

/// The SQL of one delete, in execution order.
struct Rendered {
    /// Creates the key table and stores materialized keys, dependencies
    /// first (empty when nothing is stored).
    materialize: Vec<Text>,
    protect: Vec<(ReverseRelation, Text)>,
    restrict: Vec<(ReverseRelation, Text)>,
    /// `(statement index, SQL)`.
    writes: Vec<(usize, Text)>,
    /// Removes this delete's stored keys.
    clear: Option<Text>,
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
