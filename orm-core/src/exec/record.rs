//! The [`Model`] trait implemented by `#[derive(Model)]`, and the instance
//! operations: save, delete, refresh, get.

use std::any::Any;

use rusqlite::types::Value;

use crate::error::{Error, Result};
use crate::exec::db::Db;
use crate::meta::{FieldMeta, Metadata, ModelMeta};
use crate::sql::select::LoadPlan;

/// The derive's side of a model: metadata, keys, row decoding, binding and
/// the relation caches. Implemented by `#[derive(Model)]` through the
/// versioned `__private` contract (no driver type appears in the generated
/// code); not meant to be implemented or called by hand. Every `Record` is a
/// [`Model`].
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a model",
    label = "this type needs `#[derive(Model)]`",
    note = "one-to-one relations and parent links can only point at types that derive `Model`"
)]
pub trait Record: Metadata + Clone + Send + Sync {
    /// The primary key, `None` while unsaved.
    fn __pk(&self) -> Option<Value>;

    /// Sets the primary key at every level of the inheritance chain.
    fn __set_pk(&mut self, pk: Option<Value>);

    /// A field's value by Rust name (a relation gives its key).
    fn __value_of(&self, field: &str) -> Option<Value>;

    /// Copies field `field` (Rust name) of this model or an ancestor from
    /// `from`; false for an unknown name (`refresh_from_db_fields`).
    fn __copy_field(&mut self, _from: &Self, _field: &str) -> bool {
        false
    }

    /// Reads an instance from the row's next columns.
    fn __from_row(row: &mut RowReader<'_, '_>) -> Result<Self>;

    /// Binds this model's own-table columns in `META.fields` order, skipping
    /// the primary key unless `with_pk`.
    fn __bind_local(&self, b: &mut Binder<'_, '_>, with_pk: bool) -> Result<()>;

    /// Saves the ancestor tables (multi-table inheritance); returns true when
    /// a parent row was inserted.
    fn __save_parents(&mut self, _db: &Db, _raw: bool) -> Result<bool> {
        Ok(false)
    }

    /// Checks relation fields before a save: refuses unsaved related objects
    /// and refreshes keys from cached objects.
    fn __prepare_related(&mut self, _op: &'static str) -> Result<()> {
        Ok(())
    }

    /// Fills the forward cache of relation `field` from `row` (select_related).
    fn __fill_forward(
        &mut self,
        _db: &Db,
        _field: &'static FieldMeta,
        _row: &mut RowReader<'_, '_>,
        _plan: &LoadPlan,
    ) -> Result<()> {
        Ok(())
    }

    /// Stores a loaded related object in the forward cache of `field`
    /// (prefetch); false when `field` is not a relation of this model.
    fn __set_cached(
        &mut self,
        _field: &'static FieldMeta,
        _obj: Box<dyn Any + Send + Sync>,
    ) -> bool {
        false
    }

    /// Field-level validation (max_length, blank), appended to `errors`.
    fn __clean_fields(&self, _errors: &mut Vec<(String, String)>) {}

    /// Before a save: sets `auto_now` fields, and `auto_now_add` ones when
    /// `adding` (Django's `pre_save` of date fields).
    fn __pre_save(&mut self, _adding: bool) {}
}

/// Loads an instance of a model known only by its metadata (reverse
/// `select_related`, the collector's hooks, prefetch).
pub(crate) type Loader = fn(&mut RowReader<'_, '_>) -> Result<Box<dyn DynModel>>;

/// A model's [`Loader`], registered by the derive next to its metadata.
#[doc(hidden)]
pub struct LoaderEntry(pub fn() -> &'static ModelMeta, pub Loader);

inventory::collect!(LoaderEntry);

/// The loader of `model`.
pub(crate) fn loader(model: &'static ModelMeta) -> Result<Loader> {
    use std::collections::HashMap;
    use std::sync::OnceLock;
    static LOADERS: OnceLock<HashMap<usize, Loader>> = OnceLock::new();
    let map = LOADERS.get_or_init(|| {
        inventory::iter::<LoaderEntry>
            .into_iter()
            .map(|e| (e.0() as *const ModelMeta as usize, e.1))
            .collect()
    });
    map.get(&(model as *const ModelMeta as usize))
        .copied()
        .ok_or_else(|| Error::Usage(format!("{} has no registered loader", model.name)))
}

/// The columns of one result row, read in order by the generated
/// `__from_row` (the derive contract's view of a row: no driver type).
#[doc(hidden)]
pub struct RowReader<'a, 'r> {
    pub(crate) row: &'a rusqlite::Row<'r>,
    pub(crate) idx: usize,
}

impl<'a, 'r> RowReader<'a, 'r> {
    pub(crate) fn new(row: &'a rusqlite::Row<'r>) -> Self {
        RowReader { row, idx: 0 }
    }
}

/// The parameters of one prepared statement, bound in order by the
/// generated `__bind_local`.
#[doc(hidden)]
pub struct Binder<'a, 's> {
    pub(crate) stmt: &'a mut rusqlite::Statement<'s>,
    /// The next parameter (1-based).
    pub(crate) next: usize,
}

impl<'a, 's> Binder<'a, 's> {
    pub(crate) fn new(stmt: &'a mut rusqlite::Statement<'s>) -> Self {
        Binder { stmt, next: 1 }
    }
}

/// Object-safe view of a model instance, used where the type is only known at
/// run time (reverse `select_related`, the collector, hooks).
pub trait DynModel: Any + Send + Sync {
    /// The model's metadata.
    fn meta(&self) -> &'static ModelMeta;
    /// The primary key.
    fn pk_value(&self) -> Option<Value>;
    /// A field's value by name.
    fn field_value(&self, field: &str) -> Option<Value>;
    #[doc(hidden)]
    fn fill_forward_dyn(
        &mut self,
        db: &Db,
        field: &'static FieldMeta,
        row: &mut RowReader<'_, '_>,
        plan: &LoadPlan,
    ) -> Result<()>;
    /// Converts into `Box<dyn Any>` for downcasting.
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send + Sync>;
}

impl<M: Record> DynModel for M {
    fn meta(&self) -> &'static ModelMeta {
        M::__META
    }
    fn pk_value(&self) -> Option<Value> {
        self.__pk()
    }
    fn field_value(&self, field: &str) -> Option<Value> {
        self.__value_of(field)
    }
    fn fill_forward_dyn(
        &mut self,
        db: &Db,
        field: &'static FieldMeta,
        row: &mut RowReader<'_, '_>,
        plan: &LoadPlan,
    ) -> Result<()> {
        self.__fill_forward(db, field, row, plan)
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send + Sync> {
        self
    }
}

/// Loads one instance by primary key with a cached statement and no LIMIT.
pub(crate) fn get_by_pk<M: Record>(db: &Db, pk: &Value) -> Result<Option<M>> {
    let mut stmt = db.prepare_get_by_pk(M::__META)?;
    stmt.raw_bind_parameter(1, pk)?;
    let mut rows = stmt.raw_query();
    match rows.next().map_err(Error::from_sqlite)? {
        Some(row) => Ok(Some(M::__from_row(&mut RowReader::new(row))?)),
        None => Ok(None),
    }
}

/// The value of `field` (or the pk) on `obj`, as used by relations.
pub(crate) fn key_of<M: Record>(obj: &M, to_field: Option<&'static str>) -> Option<Value> {
    match to_field {
        None => obj.__pk(),
        Some(f) => obj.__value_of(f).filter(|v| !matches!(v, Value::Null)),
    }
}
