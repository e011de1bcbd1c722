//! The deletion collector (Django's `Collector`): collect -> check -> order ->
//! execute, in one transaction.

use rusqlite::types::Value;

use crate::db::Db;
use crate::error::{Error, Result};
use crate::meta::ModelMeta;
use crate::model::Model;
use crate::query::Spec;

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
pub(crate) fn delete_instance<M: Model>(db: &Db, obj: &mut M, keep_parents: bool) -> Result<Deleted> {
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

fn collect_and_delete(db: &Db, model: &'static ModelMeta, root: Root, keep_parents: bool) -> Result<Deleted> {
    let _ = (db, model, root, keep_parents);
    Err(Error::Usage("delete collector not implemented yet".into()))
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
