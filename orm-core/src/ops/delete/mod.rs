//! The deletion collector (Django's `Collector`, `django/db/models/deletion.py`):
//! **collect -> check -> plan -> run**, in one transaction.
//!
//! Django collects *instances*; this collector collects *key sets*, written
//! into each statement as subqueries, so a delete runs a number of statements
//! that depends on the models involved, never on the number of rows.
//! [`collect`] walks the relations from the root model with Django's rules
//! (CASCADE recurses, a multi-table child takes its parent rows along unless
//! `keep_parents`, relations pointing at an ancestor apply to the child's
//! keys, a parent's delete reaches its children through the parent link) and
//! records, per table, the *components* its keys are a union of, and the
//! PROTECT, RESTRICT and SET_* rules met on the way. [`check`] turns each
//! PROTECT and RESTRICT relation into one SELECT, run before anything is
//! written, and the rows found into Django's errors (RESTRICT is resolved
//! against the complete collected sets: a restricted row that is itself
//! deleted is allowed). [`plan`] decides, from the metadata alone, which
//! components hold keys, which are stored in a temporary key table first (a
//! recursive set, a cycle of statements reading what another writes, a
//! nesting too deep for SQLite), and the order of the writes (SET_* updates
//! first, then the deletes, dependents first, never after a write to a table
//! they read); the plan is a list of steps with no SQL in it. [`run`] turns
//! the steps into `crate::sql` trees, renders them with the handle's
//! dialect and runs them inside [`Db::atomic`]: the stored keys, the checks,
//! the `pre_delete` hooks on the loaded rows of hooked models, the writes
//! with `post_delete` after each model's DELETE, and the removal of the
//! stored keys.

mod check;
mod collect;
mod plan;
mod run;

use crate::error::{Error, Result};
use crate::exec::db::Db;
use crate::meta::ModelMeta;
use crate::ops::model::Model;
use crate::query::Spec;

use collect::{Atom, Collector, RootQuery};
use plan::Plan;

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
    let pk_field = M::META.pk_field();
    let pk = obj.pk().ok_or(Error::DeleteUnsaved {
        model: M::META.name,
        // Django names the attname: `place_ptr_id` for a parent link.
        pk: match pk_field.relation {
            Some(_) => pk_field.column,
            None => pk_field.name,
        },
    })?;
    let mut deleted = delete(db, M::META, Atom::Values(vec![pk]), keep_parents)?;
    // Django's single-instance fast path counts the model even when the row
    // was already gone: `(0, {"app.Profile": 0})`.
    if deleted.per_model.is_empty() && fast_deletable(db, M::META) {
        deleted.per_model.push((M::META.label(), 0));
    }
    obj.set_pk(None);
    Ok(deleted)
}

/// Django's `Collector.can_fast_delete` for an instance: no delete hooks, no
/// multi-table parent, and nothing points at the model but `DO_NOTHING`
/// relations.
fn fast_deletable(db: &Db, model: &'static ModelMeta) -> bool {
    model.parent().is_none()
        && !db.hooks.has_delete_hooks(model)
        && crate::meta::registry::registry()
            .reverse_of(model)
            .iter()
            .all(|r| matches!(r.rel.on_delete, crate::meta::OnDelete::DoNothing))
}

/// Deletes every row a query matches.
pub(crate) fn delete_query(db: &Db, model: &'static ModelMeta, spec: &Spec) -> Result<Deleted> {
    let root = Atom::Query(RootQuery::new(model, spec)?);
    delete(db, model, root, false)
}

/// Collects, plans and runs the delete of the `root` rows of `model`.
fn delete(db: &Db, model: &'static ModelMeta, root: Atom, keep_parents: bool) -> Result<Deleted> {
    // Which rows, and the rules met on the way (metadata only).
    let collector = Collector::collect(model, root, keep_parents);
    // What to store first, and in which order to write (metadata only).
    let plan = Plan::new(&collector, &|m| db.hooks.has_delete_hooks(m));
    if plan.is_empty() {
        return Ok(Deleted::default());
    }
    for table in plan.written_tables() {
        db.before_write(table)?;
    }
    // Store, check, write, in one transaction.
    run::run(db, plan)
}

pub(crate) use crate::error::display_value;

impl<M: Model> crate::query::QuerySet<M> {
    /// Deletes every matching row with the full `on_delete` collector, in one
    /// transaction (Django's `QuerySet.delete`).
    ///
    /// # Errors
    ///
    /// [`Error::Usage`] after `limit`/`offset`; [`Error::Protected`],
    /// [`Error::Restricted`], or a hook's error (nothing is deleted then).
    pub fn delete(&self, db: &Db) -> Result<Deleted> {
        self.spec.check()?;
        if self.spec.limit.is_some() || self.spec.offset.is_some() {
            return Err(Error::Usage(
                "Cannot use 'limit' or 'offset' with delete().".into(),
            ));
        }
        delete_query(db, M::__META, &self.spec)
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
}
