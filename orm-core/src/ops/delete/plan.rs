//! Plan: from the collected components to the steps of the delete, decided
//! from the metadata alone. The plan is a value with no SQL in it: which
//! components hold keys (liveness), which sets of them are recursive
//! (strongly connected), which are stored in the key table before any write,
//! and the order of the writes.
//!
//! Writes are ordered so that every statement runs while the tables its
//! subqueries read still hold their rows: SET_* updates first, then the
//! deletes, dependents first (Django's `Collector.sort`). Foreign keys are
//! `DEFERRABLE INITIALLY DEFERRED`, so their order does not matter inside the
//! transaction. Where no such order exists (a cycle), or a relation refers to
//! its own model (a recursive key set), keys are *stored* first: one
//! recursive statement computes the fixpoint of a recursive set inside the
//! database.

use rusqlite::types::Value;

use crate::meta::registry::ReverseRelation;
use crate::meta::{ModelMeta, OnDelete};

use super::collect::{to_field, Atom, Collector, KeySet, Kind, Rule};

/// Where statements read a component's keys from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Keys {
    /// Written into each statement that reads them, as a condition or a
    /// subquery.
    Inline,
    /// Stored in the key table before any write.
    Stored,
}

/// What the plan decided for one component (`Collector::comps[i]`).
#[derive(Debug, Clone, Copy)]
pub(super) struct CompPlan {
    /// Holds keys (a component can be empty: a recursion with no start, or
    /// kinds `keep_parents` leaves out).
    pub(super) live: bool,
    /// Its strongly connected set in `Plan::sets` (live components only).
    pub(super) set: usize,
    pub(super) keys: Keys,
}

/// A strongly connected set of live components.
#[derive(Debug)]
pub(super) struct Scc {
    /// Component numbers, ascending; never empty.
    pub(super) members: Vec<usize>,
    /// A relation leads back into the set (directly or through other
    /// tables): its keys are a fixpoint, stored by one recursive statement.
    pub(super) recursive: bool,
}

/// A write.
#[derive(Debug, Clone)]
pub(super) enum Write {
    /// SET_NULL, SET_DEFAULT or SET: one UPDATE of the relation's column in
    /// the rows pointing at a key of `from`.
    Update {
        rel: ReverseRelation,
        from: Vec<KeySet>,
        value: Value,
    },
    /// One DELETE of every collected row of a table.
    Delete { table: &'static ModelMeta },
}

impl Write {
    /// The table written.
    pub(super) fn table(&self) -> &'static ModelMeta {
        match self {
            Write::Update { rel, .. } => rel.source,
            Write::Delete { table } => table,
        }
    }

    /// The column written; `None` for whole rows.
    fn column(&self) -> Option<&'static str> {
        match self {
            Write::Update { rel, .. } => Some(rel.field.column),
            Write::Delete { .. } => None,
        }
    }

    /// The key sets its condition names directly.
    fn sets(&self) -> Vec<KeySet> {
        match self {
            Write::Update { from, .. } => from.clone(),
            Write::Delete { table } => vec![KeySet::all(table)],
        }
    }
}

/// A PROTECT relation to check: per top-level relation it is reached
/// through (`Collector::tops[top]`, ascending), the key sets it applies to.
#[derive(Debug, Clone)]
pub(super) struct Protect {
    pub(super) rel: ReverseRelation,
    pub(super) tops: Vec<(usize, Vec<KeySet>)>,
}

/// A RESTRICT relation to check, with the key sets it applies to.
#[derive(Debug, Clone)]
pub(super) struct Restrict {
    pub(super) rel: ReverseRelation,
    pub(super) from: Vec<KeySet>,
}

/// One step of a delete, in the order they run.
#[derive(Debug, Clone)]
pub(super) enum Step {
    /// Creates the key table (once per connection) before the first store.
    CreateKeyTable,
    /// Stores the keys of component `i`.
    Store(usize),
    /// Stores the keys of the recursive set `Plan::sets[k]`, a fixpoint.
    StoreFixpoint(usize),
    /// Finds the rows a PROTECT relation protects.
    Protect(Protect),
    /// Finds the rows a RESTRICT relation restricts that are not deleted.
    Restrict(Restrict),
    /// An UPDATE or a DELETE.
    Write(Write),
    /// Removes this delete's stored keys.
    ClearKeyTable,
}

/// The plan of one delete.
///
/// Indexing: `comps` has one entry per component (`c.comps.len()`) and is
/// indexed by component numbers (`0..n`, `members`, `Scc::members`);
/// `CompPlan::set` indexes `sets`; write indices (`order`, `hard`/`soft`
/// edges) are `0..writes.len()`. None of these vectors shrinks after
/// `Plan::new`, so the indexing cannot panic.
#[derive(Debug)]
pub(super) struct Plan<'c> {
    pub(super) c: &'c Collector,
    pub(super) comps: Vec<CompPlan>,
    /// Live components by strongly connected set, dependencies first.
    pub(super) sets: Vec<Scc>,
    /// The writes, in the order they run.
    writes: Vec<Write>,
    protect: Vec<Protect>,
    restrict: Vec<Restrict>,
    /// The tables with delete hooks (their rows are loaded; Django cannot
    /// fast-delete them).
    hooked: Vec<&'static ModelMeta>,
    /// The deleted tables in Django's order (fast deletes, then
    /// `Collector.sort()`'s), which the counts follow.
    pub(super) django_order: Vec<&'static ModelMeta>,
}

/// Subqueries a component's keys may nest, written inline, before they are
/// stored: each CASCADE level nests one more `IN (SELECT ...)`, and SQLite
/// refuses an expression tree deeper than 1,000 (a chain of 200 models). A
/// deep chain stores every 32nd level, so its statements stay shallow and
/// their number grows with the models, not the rows.
const MAX_NESTING: usize = 32;

/// SQLite's historical bound-parameter limit; a statement that would exceed it
/// reads its keys from the key table instead.
pub(super) const MAX_PARAMS: usize = 999;

impl<'c> Plan<'c> {
    /// `hooked` tells the tables with delete hooks, which decide Django's
    /// order (see [`Plan::preferred_order`]).
    pub(super) fn new(c: &'c Collector, hooked: &dyn Fn(&ModelMeta) -> bool) -> Plan<'c> {
        let comp = CompPlan {
            live: false,
            set: usize::MAX,
            keys: Keys::Inline,
        };
        let mut plan = Plan {
            c,
            comps: vec![comp; c.comps.len()],
            sets: Vec::new(),
            writes: Vec::new(),
            protect: Vec::new(),
            restrict: Vec::new(),
            hooked: Vec::new(),
            django_order: Vec::new(),
        };
        plan.liveness();
        plan.hooked = c
            .comps
            .iter()
            .map(|comp| comp.table)
            .filter(|t| hooked(t))
            .collect();
        if plan.is_empty() {
            return plan;
        }
        plan.recursion();
        plan.limit_nesting();
        plan.writes();
        plan.order_writes();
        plan.checks();
        plan
    }

    /// Nothing to delete.
    pub(super) fn is_empty(&self) -> bool {
        !self.comps.iter().any(|c| c.live)
    }

    /// The tables written, each once per write.
    pub(super) fn written_tables(&self) -> impl Iterator<Item = &'static ModelMeta> + '_ {
        self.writes.iter().map(Write::table)
    }

    /// The steps of the delete, in the order they run: the stores (with the
    /// key table around them), the checks, the writes.
    pub(super) fn steps(&self) -> Vec<Step> {
        let mut steps = Vec::new();
        for (k, set) in self.sets.iter().enumerate() {
            if set.recursive {
                steps.push(Step::StoreFixpoint(k));
            } else {
                let stored = set.members.iter().copied().filter(|&i| self.stored(i));
                steps.extend(stored.map(Step::Store));
            }
        }
        let stores = !steps.is_empty();
        if stores {
            steps.insert(0, Step::CreateKeyTable);
        }
        steps.extend(self.protect.iter().cloned().map(Step::Protect));
        steps.extend(self.restrict.iter().cloned().map(Step::Restrict));
        steps.extend(self.writes.iter().cloned().map(Step::Write));
        if stores {
            steps.push(Step::ClearKeyTable);
        }
        steps
    }

    /// Component `i`'s keys are stored in the key table.
    pub(super) fn stored(&self, i: usize) -> bool {
        self.comps[i].keys == Keys::Stored
    }

    // -- liveness -----------------------------------------------------------

    /// The least fixpoint of "a component holds keys".
    fn liveness(&mut self) {
        loop {
            let mut changed = false;
            for i in 0..self.c.comps.len() {
                if !self.comps[i].live && self.c.comps[i].atoms.iter().any(|a| self.atom_live(a)) {
                    self.comps[i].live = true;
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

    /// The atoms of component `i` that hold keys.
    pub(super) fn live_atoms(&self, i: usize) -> impl Iterator<Item = &'c Atom> + '_ {
        self.c.comps[i].atoms.iter().filter(|a| self.atom_live(a))
    }

    /// The live components the sets select, each once.
    pub(super) fn members(&self, sets: &[KeySet]) -> Vec<usize> {
        self.members_except(sets, None)
    }

    /// [`Plan::members`], leaving out the members of the strongly connected
    /// set `hidden`.
    pub(super) fn members_except(&self, sets: &[KeySet], hidden: Option<usize>) -> Vec<usize> {
        (0..self.c.comps.len())
            .filter(|&i| self.comps[i].live && sets.iter().any(|s| s.selects(&self.c.comps[i])))
            .filter(|&i| hidden.is_none_or(|k| self.comps[i].set != k))
            .collect()
    }

    // -- recursion ----------------------------------------------------------

    /// Finds recursive components (a relation back to the same rows, directly
    /// or through other tables): their keys are stored.
    fn recursion(&mut self) {
        let n = self.c.comps.len();
        let mut edges = vec![Vec::new(); n];
        for (i, deps) in edges.iter_mut().enumerate() {
            if !self.comps[i].live {
                continue;
            }
            for a in self.live_atoms(i) {
                if let Atom::Via { from, .. } | Atom::Up(from) = a {
                    deps.extend(self.members(&[*from]));
                }
            }
        }
        let nodes: Vec<usize> = (0..n).filter(|&i| self.comps[i].live).collect();
        self.sets = strongly_connected(&nodes, &edges)
            .into_iter()
            .map(|members| Scc {
                // Cannot panic: Tarjan's sets are never empty.
                recursive: members.len() > 1 || edges[members[0]].contains(&members[0]),
                members,
            })
            .collect();
        for (k, set) in self.sets.iter().enumerate() {
            for &i in &set.members {
                self.comps[i].set = k;
                if set.recursive {
                    self.comps[i].keys = Keys::Stored;
                }
            }
        }
    }

    /// Stores the keys of components whose inline form would nest more
    /// than [`MAX_NESTING`] subqueries, dependencies first.
    fn limit_nesting(&mut self) {
        let mut depth = vec![0; self.c.comps.len()];
        // The deepest nesting of the keys of `from`, as computed so far.
        let deepest = |plan: &Plan<'_>, depth: &[usize], from: &KeySet| {
            let members = plan.members(&[*from]);
            members.into_iter().map(|m| depth[m]).max().unwrap_or(0)
        };
        for k in 0..self.sets.len() {
            for j in 0..self.sets[k].members.len() {
                let i = self.sets[k].members[j];
                // A stored set reads its keys with one subquery. (The members
                // of a set are stored together, or it has one member and no
                // relation to itself: `from` never names an unvisited one.)
                let d = if self.stored(i) {
                    1
                } else {
                    self.live_atoms(i)
                        .map(|a| match a {
                            Atom::Values(_) => 0,
                            Atom::Query(_) => 1,
                            Atom::Via { rel, from } => {
                                1 + usize::from(to_field(rel).is_some())
                                    + deepest(self, &depth, from)
                            }
                            Atom::Up(from) => deepest(self, &depth, from),
                        })
                        .max()
                        .unwrap_or(0)
                };
                depth[i] = if d > MAX_NESTING {
                    self.comps[i].keys = Keys::Stored;
                    1
                } else {
                    d
                };
            }
        }
    }

    // -- writes and checks ----------------------------------------------------

    /// One UPDATE per SET_* relation, one DELETE per table.
    fn writes(&mut self) {
        for (rel, rules) in by_relation(&self.c.update) {
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
            self.writes.push(Write::Update { rel, from, value });
        }
        let mut tables: Vec<&'static ModelMeta> = Vec::new();
        for (i, comp) in self.c.comps.iter().enumerate() {
            if self.comps[i].live && !tables.iter().any(|t| t.is(comp.table)) {
                tables.push(comp.table);
            }
        }
        self.writes
            .extend(tables.into_iter().map(|table| Write::Delete { table }));
    }

    /// One check per PROTECT and per RESTRICT relation.
    fn checks(&mut self) {
        for (rel, rules) in by_relation(&self.c.protect) {
            let mut tops: Vec<usize> = rules.iter().map(|r| r.top).collect();
            tops.sort_unstable();
            tops.dedup();
            let tops = tops
                .into_iter()
                .map(|top| {
                    let from = rules.iter().filter(|r| r.top == top).map(|r| r.from);
                    (top, from.collect())
                })
                .collect();
            self.protect.push(Protect { rel, tops });
        }
        for (rel, rules) in by_relation(&self.c.restrict) {
            let from = rules.iter().map(|r| r.from).collect();
            self.restrict.push(Restrict { rel, from });
        }
    }

    // -- order ----------------------------------------------------------------

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
            if !self.stored(i) {
                self.comp_reads(i, out);
            }
        }
    }

    fn write_reads(&self, w: &Write) -> Reads {
        let mut r = Reads::default();
        self.set_reads(&w.sets(), &mut r);
        if let Write::Update { rel, .. } = w {
            if let Some(tf) = to_field(rel) {
                r.add(rel.target, rel.target.pk_field().column);
                r.add(rel.target, tf.column);
            }
        }
        r
    }

    /// `hard[b]` lists the writes that must run before `b`: those that read
    /// what `b` writes.
    fn hard_edges(&self) -> Vec<Vec<usize>> {
        let reads: Vec<Reads> = self.writes.iter().map(|w| self.write_reads(w)).collect();
        (0..self.writes.len())
            .map(|b| {
                let w = &self.writes[b];
                let mut before: Vec<usize> = (0..self.writes.len())
                    .filter(|&a| a != b && reads[a].hit(w.table(), w.column()))
                    .collect();
                // SET or SET_DEFAULT writes one value into a UNIQUE column:
                // the rows of that table this delete removes go first, or
                // two of them set to the same value would break the
                // constraint although one is about to go.
                if let Write::Update { value, .. } = w {
                    if !matches!(value, Value::Null) {
                        let deletes: Vec<usize> = (0..self.writes.len())
                            .filter(|&a| {
                                matches!(&self.writes[a], Write::Delete { table } if table.is(w.table()))
                                    && !before.contains(&a)
                            })
                            .collect();
                        before.extend(deletes);
                    }
                }
                before
            })
            .collect()
    }

    /// The order Django's `Collector.delete` runs these writes in: the fast
    /// deletes (tables with no hooks that nothing but DO_NOTHING points at,
    /// reached through CASCADE) in the order they were found, the SET_*
    /// updates, then the other deletes in `Collector.sort()`'s order over
    /// the order the collector found the models in (a model's parents
    /// before the models pointing at it), each once the models it depends
    /// on are gone (rows pointing at it through a non-nullable CASCADE, its
    /// multi-table children, RESTRICT sources).
    fn preferred_order(&self) -> Vec<usize> {
        let c = self.c;
        let n = c.comps.len();
        // The collector's discovery order, Django's way: parents first.
        let mut seen = vec![false; n];
        let mut comp_order = Vec::with_capacity(n);
        let mut stack = vec![0];
        while let Some(i) = stack.pop() {
            if i >= n || seen[i] {
                continue;
            }
            seen[i] = true;
            comp_order.push(i);
            let reached = |up: bool| {
                (0..n).filter(move |&k| {
                    c.comps[k].atoms.iter().any(|a| match a {
                        Atom::Up(from) if up => from.selects(&c.comps[i]),
                        Atom::Via { from, .. } if !up => from.selects(&c.comps[i]),
                        _ => false,
                    })
                })
            };
            // Pushed in reverse: the stack pops parents first, then the
            // relations in the order they were met.
            let mut next: Vec<usize> = reached(true).chain(reached(false)).collect();
            next.reverse();
            stack.extend(next);
        }
        comp_order.extend((0..n).filter(|&i| !seen[i]));
        let mut tables: Vec<&'static ModelMeta> = Vec::new();
        for &i in &comp_order {
            let t = c.comps[i].table;
            if self.comps[i].live && !tables.iter().any(|x| x.is(t)) {
                tables.push(t);
            }
        }
        let fast = |t: &'static ModelMeta| self.fast(t);
        // Dependencies between the collected (not fast) models.
        let mut deps: Vec<(&'static ModelMeta, &'static ModelMeta)> = Vec::new();
        for (k, comp) in c.comps.iter().enumerate() {
            if !self.comps[k].live {
                continue;
            }
            for a in self.live_atoms(k) {
                match a {
                    Atom::Via { rel, from } if !rel.field.null => {
                        deps.push((from.table, comp.table))
                    }
                    Atom::Up(from) => deps.push((comp.table, from.table)),
                    _ => {}
                }
            }
        }
        deps.extend(c.restrict.iter().map(|r| (r.rel.target, r.rel.source)));
        let data: Vec<&'static ModelMeta> = tables.iter().copied().filter(|t| !fast(t)).collect();
        let mut sorted: Vec<&'static ModelMeta> = Vec::new();
        while sorted.len() < data.len() {
            let mut found = false;
            for &t in &data {
                if sorted.iter().any(|x| x.is(t)) {
                    continue;
                }
                let waiting = deps.iter().any(|(m, d)| {
                    m.is(t) && !d.is(t) && !fast(d) && !sorted.iter().any(|x| x.is(d))
                });
                if !waiting {
                    sorted.push(t);
                    found = true;
                }
            }
            if !found {
                // Django keeps the collection order then.
                sorted = data.clone();
                break;
            }
        }
        let delete_of = |t: &ModelMeta| {
            self.writes
                .iter()
                .position(|w| matches!(w, Write::Delete { table } if table.is(t)))
        };
        let mut out: Vec<usize> = tables
            .iter()
            .filter(|t| fast(t))
            .filter_map(|t| delete_of(t))
            .collect();
        out.extend(
            (0..self.writes.len()).filter(|&i| matches!(self.writes[i], Write::Update { .. })),
        );
        out.extend(sorted.iter().filter_map(|t| delete_of(t)));
        // Anything left (cannot happen: every delete's table is live).
        let rest: Vec<usize> = (0..self.writes.len())
            .filter(|i| !out.contains(i))
            .collect();
        out.extend(rest);
        out
    }

    /// Django's `can_fast_delete` for the rows of `table` a CASCADE reaches:
    /// no delete hooks, reached only through CASCADE relations (a parent
    /// link being one, for a multi-table child), and nothing pointing at it
    /// or its ancestors but DO_NOTHING.
    fn fast(&self, table: &'static ModelMeta) -> bool {
        use crate::meta::registry::registry;
        let comps: Vec<&super::collect::Comp> = self
            .c
            .comps
            .iter()
            .enumerate()
            .filter(|(i, comp)| self.comps[*i].live && comp.table.is(table))
            .map(|(_, comp)| comp)
            .collect();
        let kinds_ok = comps.iter().all(|comp| match comp.kind {
            Kind::Own => table.parent().is_none(),
            Kind::Linked => true,
            Kind::Root | Kind::Up => false,
        });
        let nothing_points = |m: &'static ModelMeta, skip_links: bool| {
            registry()
                .reverse_of(m)
                .iter()
                .filter(|r| !(skip_links && r.rel.parent_link))
                .all(|r| matches!(r.rel.on_delete, OnDelete::DoNothing))
        };
        !self.hooked.iter().any(|h| h.is(table))
            && kinds_ok
            && nothing_points(table, false)
            && table.chain().skip(1).all(|a| nothing_points(a, true))
    }

    /// Orders the writes: [`Plan::preferred_order`], except that a write
    /// never runs after a write to what it reads. `None` when the read
    /// constraints form a cycle.
    fn try_order(&self, hard: &[Vec<usize>], preferred: &[usize]) -> Option<Vec<usize>> {
        let n = self.writes.len();
        let mut done = vec![false; n];
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let next = preferred
                .iter()
                .copied()
                .find(|&i| !done[i] && hard[i].iter().all(|&p| done[p]))?;
            done[next] = true;
            out.push(next);
        }
        Some(out)
    }

    /// Finds an order; while the read constraints are cyclic, stores one
    /// component the writes in the cycle read (dependencies first, only one
    /// still reading a table) and tries again. Puts the writes in that order.
    fn order_writes(&mut self) {
        let preferred = self.preferred_order();
        self.django_order = preferred
            .iter()
            .map(|&i| &self.writes[i])
            .filter_map(|w| match w {
                Write::Delete { table } => Some(*table),
                Write::Update { .. } => None,
            })
            .collect();
        let order = loop {
            let hard = self.hard_edges();
            if let Some(order) = self.try_order(&hard, &preferred) {
                break order;
            }
            let nodes: Vec<usize> = (0..self.writes.len()).collect();
            let mut wanted = vec![false; self.c.comps.len()];
            for scc in strongly_connected(&nodes, &hard) {
                if scc.len() > 1 {
                    for &w in &scc {
                        for i in self.members(&self.writes[w].sets()) {
                            wanted[i] = true;
                        }
                    }
                }
            }
            let next = self
                .sets
                .iter()
                .flat_map(|s| s.members.iter().copied())
                .find(|&i| wanted[i] && !self.stored(i) && self.reads_a_table(i));
            match next {
                Some(i) => self.comps[i].keys = Keys::Stored,
                None => {
                    // Nothing left to store (a to_field read in a cycle of
                    // updates): keep Django's order.
                    let none = vec![Vec::new(); self.writes.len()];
                    break self.try_order(&none, &preferred).unwrap_or_default();
                }
            }
        };
        let mut writes: Vec<Option<Write>> = std::mem::take(&mut self.writes)
            .into_iter()
            .map(Some)
            .collect();
        // Cannot panic: `order` is a permutation of the write indices.
        self.writes = order.into_iter().filter_map(|i| writes[i].take()).collect();
    }

    fn reads_a_table(&self, i: usize) -> bool {
        let mut r = Reads::default();
        self.comp_reads(i, &mut r);
        !r.is_empty()
    }

    // -- storing for the parameter limit --------------------------------------

    /// Stores more keys when a statement would bind more than [`MAX_PARAMS`]
    /// values: the root keys or query first (they are repeated in many
    /// statements; `round` 0), then anything else left (`round` 1).
    pub(super) fn store_for_params(&mut self, round: usize) {
        for k in 0..self.sets.len() {
            for j in 0..self.sets[k].members.len() {
                let i = self.sets[k].members[j];
                let wanted = round > 0 || self.c.comps[i].kind == Kind::Root;
                if !self.stored(i) && wanted && (self.reads_a_table(i) || self.keys_bound(i) > 1) {
                    self.comps[i].keys = Keys::Stored;
                }
            }
        }
    }

    /// Keys bound by a component's own atoms. (A root query reads a table,
    /// which is reason enough to store it.)
    fn keys_bound(&self, i: usize) -> usize {
        self.live_atoms(i)
            .map(|a| match a {
                Atom::Values(v) => v.len(),
                _ => 0,
            })
            .sum()
    }
}

/// The rules of each relation, in order of first appearance.
fn by_relation(rules: &[Rule]) -> Vec<(ReverseRelation, Vec<&Rule>)> {
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

/// Columns an expression reads; `None` for a column is "any column".
#[derive(Debug, Clone, Default)]
pub(super) struct Reads {
    /// Reads tables it cannot name (a subquery in the root filter).
    pub(super) any: bool,
    cols: Vec<(&'static ModelMeta, Option<&'static str>)>,
}

impl Reads {
    pub(super) fn add(&mut self, table: &'static ModelMeta, col: &'static str) {
        let entry = (table, Some(col));
        if !self.cols.iter().any(|(t, c)| t.is(table) && *c == entry.1) {
            self.cols.push(entry);
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

#[cfg(test)]
mod tests {
    use super::super::collect::Atom;
    use super::*;
    use crate::prelude::*;
    use crate::Model;

    /// A self-referential chain under a head, guarded and marked.
    #[derive(Model, Debug, Clone)]
    #[model(app = "plantest")]
    pub struct Head {
        pub id: Option<i64>,
    }

    #[derive(Model, Debug, Clone)]
    #[model(app = "plantest")]
    pub struct Link {
        pub id: Option<i64>,
        #[one_to_one(on_delete = "cascade")]
        pub head: Option<OneToOne<Head>>,
        #[one_to_one(on_delete = "cascade", related_name = "next")]
        pub prev: Option<OneToOne<Link>>,
    }

    #[derive(Model, Debug, Clone)]
    #[model(app = "plantest")]
    pub struct Mark {
        pub id: Option<i64>,
        #[one_to_one(on_delete = "set_null")]
        pub link: Option<OneToOne<Link>>,
    }

    #[derive(Model, Debug, Clone)]
    #[model(app = "plantest")]
    pub struct Guard {
        pub id: Option<i64>,
        #[one_to_one(on_delete = "protect")]
        pub head: OneToOne<Head>,
    }

    /// The steps of the plan, in words.
    fn steps(model: &'static ModelMeta) -> Vec<String> {
        let c = Collector::collect(model, Atom::Values(vec![Value::Integer(1)]), false);
        let plan = Plan::new(&c, &|_| false);
        let name = |i: usize| c.comps[i].table.name;
        plan.steps()
            .iter()
            .map(|s| match s {
                Step::CreateKeyTable => "create the key table".to_string(),
                Step::Store(i) => format!("store {}", name(*i)),
                Step::StoreFixpoint(k) => {
                    let names: Vec<&str> = plan.sets[*k].members.iter().map(|&i| name(i)).collect();
                    format!("store the fixpoint of {}", names.join(", "))
                }
                Step::Protect(p) => format!("check PROTECT {}", p.rel.key()),
                Step::Restrict(r) => format!("check RESTRICT {}", r.rel.key()),
                Step::Write(Write::Update { rel, value, .. }) => {
                    format!("set {} to {value:?}", rel.key())
                }
                Step::Write(Write::Delete { table }) => format!("delete {}", table.name),
                Step::ClearKeyTable => "clear the key table".to_string(),
            })
            .collect()
    }

    #[test]
    fn a_plan_is_a_list_of_steps() {
        assert_eq!(
            steps(Head::META),
            [
                "create the key table",
                "store the fixpoint of Link",
                "check PROTECT Guard.head",
                "set Mark.link to Null",
                // Django: a nullable CASCADE records no dependency, so the
                // collection order (Head first) stands.
                "delete Head",
                "delete Link",
                "clear the key table",
            ]
        );
        assert_eq!(steps(Mark::META), ["delete Mark"]);
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
        let m: &'static ModelMeta = Box::leak(Box::new(ModelMeta::__new(
            "t",
            "T",
            "t",
            "t_t",
            &[],
            0,
            None,
            "t",
            "ts",
            &[],
            ("", 0),
        )));
        r.add(m, "a");
        assert!(r.hit(m, None));
        assert!(r.hit(m, Some("a")));
        assert!(!r.hit(m, Some("b")));
    }
}
