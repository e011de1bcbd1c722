//! Collect (Django's `Collector.collect`): which rows of which tables a delete
//! reaches, and the PROTECT, RESTRICT and SET_* rules met on the way. Built
//! from the metadata alone: no SQL runs here.
//!
//! A table's deleted keys are a union of *components* ([`Comp`]): "the `Page`
//! rows whose `profile_id` is among the deleted `PageOwnerProfile` keys" is
//! one, the rows the delete starts from another. Components are tagged with
//! the top-level relation they were reached through, so a PROTECT found deep
//! down is reported under the cascading field of the top level, as Django
//! does.

use std::collections::HashSet;

use rusqlite::types::Value;

use crate::error::Result;
use crate::meta::registry::{registry, ReverseRelation};
use crate::meta::{FieldMeta, ModelMeta, OnDelete};
use crate::query::Spec;
use crate::sql::{Expr, Query};

use super::plan::Reads;

/// How a component's rows are reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// The rows the delete starts from.
    Root,
    /// Multi-table children of deleted rows, reached through their parent
    /// link.
    Linked,
    /// Rows reached through any other CASCADE relation.
    Own,
    /// Parent rows of deleted multi-table children (Django collects them with
    /// `collect_related=False`: their relations are handled from the child).
    Up,
}

impl Kind {
    /// Rows collected with their relations (Django's `collect_related=True`).
    fn collects_related(self) -> bool {
        !matches!(self, Kind::Up)
    }
}

/// A set of [`Kind`]s, for a [`KeySet`] selecting several.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Kinds {
    root: bool,
    linked: bool,
    own: bool,
    up: bool,
}

impl Kinds {
    /// Every row deleted from a table.
    const ANY: Kinds = Kinds {
        root: true,
        linked: true,
        own: true,
        up: true,
    };

    /// Rows collected with their relations (Django's `collect_related=True`).
    const COLLECTED: Kinds = Kinds {
        up: false,
        ..Kinds::ANY
    };

    fn contains(self, kind: Kind) -> bool {
        match kind {
            Kind::Root => self.root,
            Kind::Linked => self.linked,
            Kind::Own => self.own,
            Kind::Up => self.up,
        }
    }
}

/// The top-level relation a component was reached through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Tag {
    /// The root rows, and the rows reached from them without a relation
    /// (their parent rows).
    Root,
    /// Rows reached through `Collector::tops[i]`.
    Top(usize),
}

/// One way a table's rows are reached: the union of its atoms.
#[derive(Debug)]
pub(super) struct Comp {
    pub(super) table: &'static ModelMeta,
    pub(super) kind: Kind,
    pub(super) tag: Tag,
    pub(super) atoms: Vec<Atom>,
    /// Leaves the root keys out, in a delete that keeps the roots' parents:
    /// an OWN or UP component of the root table or of a child table. Django
    /// collects a row once, so a root row, or a child row already taken
    /// along through the parent link, reached again (a CASCADE cycle, the
    /// parent row of a child) does not take its parent rows along, and the
    /// relations pointing at those are not applied.
    pub(super) minus_root: bool,
}

/// A key source: written as a condition on a key column, or as a query of
/// keys.
#[derive(Debug)]
pub(super) enum Atom {
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
#[derive(Debug, Clone, Copy)]
pub(super) struct KeySet {
    pub(super) table: &'static ModelMeta,
    tag: Option<Tag>,
    kinds: Kinds,
}

impl KeySet {
    /// Every key deleted from `table`.
    pub(super) fn all(table: &'static ModelMeta) -> KeySet {
        KeySet {
            table,
            tag: None,
            kinds: Kinds::ANY,
        }
    }

    pub(super) fn selects(&self, c: &Comp) -> bool {
        c.table.is(self.table) && self.kinds.contains(c.kind) && self.tag.is_none_or(|t| t == c.tag)
    }
}

/// The `SELECT pk FROM ... WHERE ...` of a `QuerySet::delete`, as a tree.
#[derive(Debug)]
pub(super) struct RootQuery {
    pub(super) query: Query,
    /// No filter: every row.
    pub(super) everything: bool,
    /// The filter can match nothing (`pk__in=[]`).
    pub(super) nothing: bool,
    /// The columns the query reads.
    pub(super) reads: Reads,
}

impl RootQuery {
    pub(super) fn new(model: &'static ModelMeta, spec: &Spec) -> Result<RootQuery> {
        // One resolution gives the SQL and the columns it reads.
        let (query, read) = crate::sql::select::keys_query_reads(model, spec)?;
        let (everything, nothing) = match &query {
            Query::Select(s) => (s.filter.is_none(), matches!(s.filter, Some(Expr::False))),
            _ => (false, false),
        };
        // The statement reads the model's table; joined tables (an ancestor
        // a filter names) are in `read`.
        let mut reads = Reads::default();
        reads.add(model, model.pk_field().column);
        // Exactly what the statement reads: the child's own table does not
        // read its parent's (a delete of the parent rows may run first).
        for (table, column) in read {
            reads.add(table, column);
        }
        Ok(RootQuery {
            query,
            everything,
            nothing,
            reads,
        })
    }
}

/// The referenced column of a relation with a `to_field` other than the key.
pub(super) fn to_field(rel: &ReverseRelation) -> Option<&'static FieldMeta> {
    rel.field
        .target_field()
        .filter(|tf| !std::ptr::eq(*tf, rel.target.pk_field()))
}

/// A PROTECT, RESTRICT or SET_* relation met while collecting, with the keys
/// it applies to and the top-level relation it was reached through
/// (`Collector::tops[top]`).
#[derive(Debug)]
pub(super) struct Rule {
    pub(super) rel: ReverseRelation,
    pub(super) from: KeySet,
    pub(super) top: usize,
}

/// The components of every table and the rules met.
#[derive(Debug)]
pub(super) struct Collector {
    /// The model the delete starts from.
    pub(super) top: &'static ModelMeta,
    keep_parents: bool,
    /// The root keys, with `keep_parents` (an instance delete).
    pub(super) kept: Vec<Value>,
    pub(super) comps: Vec<Comp>,
    /// The relations met at the root level, in order (see [`Tag::Top`]).
    pub(super) tops: Vec<ReverseRelation>,
    related_done: HashSet<(usize, Tag)>,
    up_done: HashSet<(usize, Tag)>,
    pub(super) protect: Vec<Rule>,
    pub(super) restrict: Vec<Rule>,
    /// SET_NULL, SET_DEFAULT and SET.
    pub(super) update: Vec<Rule>,
}

fn addr(m: &ModelMeta) -> usize {
    m as *const ModelMeta as usize
}

impl Collector {
    /// Collects from the `root` rows of `model`.
    pub(super) fn collect(model: &'static ModelMeta, root: Atom, keep_parents: bool) -> Collector {
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
        c.add(model, Kind::Root, Tag::Root, root);
        c
    }

    /// Adds an atom to a component, visiting the component when it is new
    /// (depth first, like Django's recursive `collect`).
    fn add(&mut self, table: &'static ModelMeta, kind: Kind, tag: Tag, atom: Atom) {
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
                && matches!(kind, Kind::Own | Kind::Up)
                && table.chain().any(|a| a.is(self.top)),
        });
        self.visit(table, kind, tag);
    }

    /// Django's `collect` for a new component: the relations pointing at the
    /// table and at its ancestors, then the parent rows.
    fn visit(&mut self, table: &'static ModelMeta, kind: Kind, tag: Tag) {
        // `keep_parents` concerns the root rows only (nested collects get False).
        let roots = !self.keep_parents;
        if kind.collects_related() && self.related_done.insert((addr(table), tag)) {
            let own = KeySet {
                table,
                tag: Some(tag),
                kinds: Kinds::COLLECTED,
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
            let linked_top = match tag {
                Tag::Root => false,
                // Cannot panic: `Tag::Top(i)` is made for `tops[i]` (`dispatch`).
                Tag::Top(i) => {
                    let t = self.tops[i];
                    t.rel.parent_link && t.source.is(table)
                }
            };
            for ancestor in table.chain().skip(1) {
                let kept = self.keep_parents && self.top.chain().skip(1).any(|a| a.is(ancestor));
                for r in registry()
                    .reverse_of(ancestor)
                    .iter()
                    .filter(|r| !r.rel.parent_link)
                {
                    let linked =
                        linked_top && !kept && matches!(r.rel.on_delete, OnDelete::Protect);
                    let from = KeySet {
                        table,
                        tag: Some(tag),
                        kinds: Kinds {
                            root: roots,
                            linked,
                            own: true,
                            up: false,
                        },
                    };
                    self.dispatch(*r, from, tag);
                }
            }
        }
        // The parent rows: the same keys in the parent table. LINKED rows came
        // down from the parent, so they are its rows already.
        let up = Kinds {
            root: roots,
            linked: false,
            own: true,
            up: true,
        };
        if up.contains(kind) {
            if let Some(parent) = table.parent() {
                if self.up_done.insert((addr(table), tag)) {
                    let from = KeySet {
                        table,
                        tag: Some(tag),
                        kinds: up,
                    };
                    self.add(parent, Kind::Up, tag, Atom::Up(from));
                }
            }
        }
    }

    /// Applies `rel`'s `on_delete` to the keys `from` (Django's handlers).
    fn dispatch(&mut self, rel: ReverseRelation, from: KeySet, tag: Tag) {
        if matches!(rel.rel.on_delete, OnDelete::DoNothing) {
            return;
        }
        let top = match tag {
            Tag::Root => {
                self.tops.push(rel);
                self.tops.len() - 1
            }
            Tag::Top(i) => i,
        };
        match rel.rel.on_delete {
            OnDelete::Cascade => {
                let kind = if rel.rel.parent_link {
                    Kind::Linked
                } else {
                    Kind::Own
                };
                self.add(rel.source, kind, Tag::Top(top), Atom::Via { rel, from });
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
