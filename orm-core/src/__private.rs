//! The derive contract: items the code `#[derive(Model)]` generates calls.
//! Not a public API. Generated code names no driver type (rows and statement
//! parameters go through [`RowReader`] and [`Binder`]), so another backend
//! needs no change in generated code; `orm-derive` is pinned to the matching
//! version (`=`) because this module may change between versions.

/// The version of this contract; the derive checks it at compile time.
pub const CONTRACT: u32 = 2;

pub use crate::exec::record::{Binder, LoaderEntry, Record, RowReader};
pub use crate::exec::related::{reverse_get, reverse_require};
pub use crate::meta::registry::ModelEntry;
pub use crate::meta::{FieldMeta, Metadata, ModelMeta, OnDelete, RelationMeta};
pub use crate::ops::save::reverse_set;
pub use crate::ops::validate::{check_text, ChoicesEntry};
pub use crate::sql::select::LoadPlan;
pub use inventory;

use rusqlite::types::Value;

use crate::error::{Error, Result};
use crate::exec::db::Db;
use crate::exec::record::DynModel;
use crate::exec::related::OneToOne;
use crate::ops::model::Model;

impl RowReader<'_, '_> {
    /// Reads the next column into field `field` of `meta`, naming model and
    /// field on failure.
    #[inline]
    pub fn read<T: SqlType>(&mut self, meta: &'static ModelMeta, field: usize) -> Result<T> {
        let i = self.idx;
        self.idx += 1;
        self.row
            .get::<_, T>(i)
            .map_err(|e| field_error(meta, field, e))
    }

    /// Skips one column (an implicit parent pointer, read through the parent).
    #[inline]
    pub fn skip(&mut self) {
        self.idx += 1;
    }

    /// Skips the columns of a `select_related` plan that has nowhere to go.
    #[inline]
    pub fn skip_plan(&mut self, plan: &LoadPlan) {
        self.idx += plan.total_width();
    }
}

fn field_error(meta: &'static ModelMeta, field: usize, e: rusqlite::Error) -> Error {
    // Cannot panic: `field` is the index the derive emitted for a field of
    // this same `meta` (the generated `__from_row` passes `#i`).
    let f = &meta.fields[field];
    let reason = match &e {
        rusqlite::Error::InvalidColumnType(_, _, ty) => {
            if *ty == rusqlite::types::Type::Null {
                "NULL in a field that is not an Option".to_string()
            } else {
                format!("stored value has SQLite type {ty}")
            }
        }
        rusqlite::Error::IntegralValueOutOfRange(_, v) => format!("integer {v} out of range"),
        rusqlite::Error::FromSqlConversionFailure(_, ty, err) => format!("{err} (stored as {ty})"),
        other => other.to_string(),
    };
    Error::FieldValue {
        model: meta.name,
        field: f.name,
        table: meta.table,
        column: f.column,
        reason,
    }
}

/// [`FieldMeta::fits`] for a plain field of type `T`: the value must read
/// back as a `T`, as loading the row would.
pub fn fits<T: SqlType>(_: &'static FieldMeta, v: &Value) -> Result<(), String> {
    use rusqlite::types::FromSqlError;
    match T::column_result(v.into()) {
        Ok(_) => Ok(()),
        Err(FromSqlError::InvalidType) => Err(match v {
            Value::Null => "NULL in a field that is not an Option".into(),
            Value::Integer(_) => "an integer does not fit this field".into(),
            Value::Real(_) => "a real number does not fit this field".into(),
            Value::Text(_) => "text does not fit this field".into(),
            Value::Blob(_) => "bytes do not fit this field".into(),
        }),
        Err(FromSqlError::OutOfRange(n)) => Err(format!("{n} is out of the field's range")),
        Err(e) => Err(e.to_string()),
    }
}

/// [`FieldMeta::fits`] for a relation: the value must fit the column it
/// points at; NULL only when the relation is nullable.
pub fn fits_relation(field: &'static FieldMeta, v: &Value) -> Result<(), String> {
    match (v, field.target_field()) {
        (Value::Null, _) if field.null => Ok(()),
        (Value::Null, _) => Err("NULL in a relation that is not an Option".into()),
        (v, Some(target)) => target.check_value(v),
        (_, None) => Ok(()),
    }
}

impl Binder<'_, '_> {
    /// [`Binder::bind`] for a model field: only floating-point types need
    /// the NaN check, so the others bind straight away.
    #[inline]
    pub fn bind_field<T: SqlType>(
        &mut self,
        value: &T,
        meta: &'static ModelMeta,
        field: usize,
    ) -> Result<()> {
        if T::REAL {
            return self.bind(value, meta, field);
        }
        match self.stmt.raw_bind_parameter(self.next, value) {
            Ok(()) => {
                self.next += 1;
                Ok(())
            }
            Err(rusqlite::Error::ToSqlConversionFailure(e)) => {
                Err(bind_error(meta, field, e.to_string()))
            }
            Err(e) => Err(Error::from_sqlite(e)),
        }
    }

    /// Binds field `field` of `meta` as the next parameter. A value that
    /// cannot be bound exactly (a `ToSql` that fails, a NaN that SQLite would
    /// store as NULL) is an [`Error::InvalidValue`] naming the field; nothing
    /// is bound.
    #[inline]
    pub fn bind<T: rusqlite::ToSql + ?Sized>(
        &mut self,
        value: &T,
        meta: &'static ModelMeta,
        field: usize,
    ) -> Result<()> {
        let out = match value.to_sql() {
            Ok(out) => out,
            Err(e) => return Err(bind_error(meta, field, e.to_string())),
        };
        let nan = match &out {
            rusqlite::types::ToSqlOutput::Borrowed(rusqlite::types::ValueRef::Real(r)) => {
                r.is_nan()
            }
            rusqlite::types::ToSqlOutput::Owned(Value::Real(r)) => r.is_nan(),
            _ => false,
        };
        if nan {
            return Err(bind_error(
                meta,
                field,
                "NaN cannot be stored (SQLite would read it back as NULL)".into(),
            ));
        }
        self.stmt
            .raw_bind_parameter(self.next, out)
            .map_err(Error::from_sqlite)?;
        self.next += 1;
        Ok(())
    }
}

#[cold]
fn bind_error(meta: &'static ModelMeta, field: usize, reason: String) -> Error {
    Error::InvalidValue {
        model: meta.name,
        field: meta.fields.get(field).map_or("?", |f| f.name),
        value: "the field's value".into(),
        reason,
    }
}

/// A value as an owned [`Value`].
#[inline]
pub fn value<T: rusqlite::ToSql + ?Sized>(v: &T) -> Value {
    crate::query::to_value(v)
}

/// The runtime loader registered with [`LoaderEntry`].
pub fn load_dyn<M: Model>(row: &mut RowReader<'_, '_>) -> Result<Box<dyn DynModel>> {
    Ok(Box::new(M::__from_row(row)?))
}

/// Saves a multi-table parent chain (the generated `__save_parents`).
pub fn save_chain<P: Model>(db: &Db, parent: &mut P, raw: bool) -> Result<bool> {
    crate::ops::save::save_chain(db, parent, raw)
}

/// `select_related` fill for a nullable relation.
pub fn fill_opt<T: Model>(
    slot: &mut Option<OneToOne<T>>,
    db: &Db,
    row: &mut RowReader<'_, '_>,
    plan: &LoadPlan,
) -> Result<()> {
    match slot {
        Some(rel) => rel.__fill(db, row, plan),
        None => {
            row.skip_plan(plan);
            Ok(())
        }
    }
}

/// Prepare hook for a nullable relation.
pub fn prepare_opt<T: Model>(
    slot: &mut Option<OneToOne<T>>,
    op: &'static str,
    model: &'static ModelMeta,
    field: &'static str,
    to_field: Option<&'static &'static str>,
) -> Result<()> {
    match slot {
        Some(rel) => rel.__prepare(op, model, field, to_field),
        None => Ok(()),
    }
}

/// Text view of a field value for `max_length`/blank validation.
pub trait TextField {
    /// The text, `None` for NULL.
    fn text(&self) -> Option<&str>;
}

impl TextField for String {
    fn text(&self) -> Option<&str> {
        Some(self)
    }
}

impl<T: TextField> TextField for Option<T> {
    fn text(&self) -> Option<&str> {
        self.as_ref().and_then(TextField::text)
    }
}

/// The SQL type of a Rust field type, as Django names it on SQLite.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be stored in a model field",
    label = "unsupported field type",
    note = "fields may be integers, f32/f64, bool, String, Vec<u8>, an Option of one of these, or OneToOne<T>"
)]
pub trait SqlType: rusqlite::types::FromSql + rusqlite::ToSql {
    /// The column type (`integer`, `text`...).
    const SQL_TYPE: &'static str;
    /// True for `Option<T>`.
    const NULLABLE: bool = false;
    /// True for text types (`max_length` allowed).
    const TEXT: bool = false;
    /// True for floating-point types, whose NaN SQLite would store as NULL.
    const REAL: bool = false;
}

macro_rules! sql_type {
    ($($t:ty => $s:expr),* $(,)?) => {$(
        impl SqlType for $t { const SQL_TYPE: &'static str = $s; }
    )*};
}
sql_type!(i8 => "smallint", i16 => "smallint", i32 => "integer", i64 => "integer",
    u8 => "smallint unsigned", u16 => "integer unsigned", u32 => "integer unsigned",
    bool => "bool", Vec<u8> => "BLOB");

impl SqlType for f32 {
    const SQL_TYPE: &'static str = "real";
    const REAL: bool = true;
}

impl SqlType for f64 {
    const SQL_TYPE: &'static str = "real";
    const REAL: bool = true;
}

impl SqlType for String {
    const SQL_TYPE: &'static str = "text";
    const TEXT: bool = true;
}

impl<T: SqlType> SqlType for Option<T> {
    const SQL_TYPE: &'static str = T::SQL_TYPE;
    const NULLABLE: bool = true;
    const TEXT: bool = T::TEXT;
    const REAL: bool = T::REAL;
}

impl<T: Model> SqlType for OneToOne<T> {
    const SQL_TYPE: &'static str = "";
}

/// `varchar(n)` for text with a `max_length`, else the type's own.
pub const fn text_type(
    max_len_type: &'static str,
    base: &'static str,
    is_text: bool,
) -> &'static str {
    if is_text && !max_len_type.is_empty() {
        max_len_type
    } else {
        base
    }
}

/// A primary-key field's value, `None` when unset.
pub fn pk_value<T: rusqlite::ToSql + ?Sized>(v: &T) -> Option<Value> {
    match crate::query::to_value(v) {
        Value::Null => None,
        v => Some(v),
    }
}

/// A field that can hold a primary key written back by save or cleared by delete.
pub trait PkSlot {
    /// Stores `pk` (or clears it when the type allows).
    fn set_pk(&mut self, pk: Option<Value>);
}

impl<T: rusqlite::types::FromSql> PkSlot for Option<T> {
    fn set_pk(&mut self, pk: Option<Value>) {
        *self = pk.and_then(|v| T::column_result((&v).into()).ok());
    }
}

impl<T: Model> PkSlot for OneToOne<T> {
    fn set_pk(&mut self, pk: Option<Value>) {
        match pk {
            Some(v) => self.set_key(v),
            None => self.set_key(Value::Null),
        }
    }
}

macro_rules! pk_slot_plain {
    ($($t:ty),*) => {$(
        impl PkSlot for $t {
            fn set_pk(&mut self, pk: Option<Value>) {
                if let Some(v) = pk.and_then(|v| <$t as rusqlite::types::FromSql>::column_result((&v).into()).ok()) {
                    *self = v;
                }
            }
        }
    )*};
}
pk_slot_plain!(i64, i32, String, Vec<u8>);

/// A relation field that can take a prefetched object into its cache.
pub trait CacheSlot {
    /// Stores `obj` when it is the right type and matches the key.
    fn set_cached(&mut self, obj: Box<dyn std::any::Any + Send + Sync>) -> bool;
}

impl<T: Model> CacheSlot for OneToOne<T> {
    fn set_cached(&mut self, obj: Box<dyn std::any::Any + Send + Sync>) -> bool {
        match obj.downcast::<T>() {
            Ok(t) => {
                self.__cache(*t);
                true
            }
            Err(_) => false,
        }
    }
}

impl<T: Model> CacheSlot for Option<OneToOne<T>> {
    fn set_cached(&mut self, obj: Box<dyn std::any::Any + Send + Sync>) -> bool {
        match self {
            Some(rel) => rel.set_cached(obj),
            None => false,
        }
    }
}

/// A relation value that records its `to_field` after being read from a row.
pub trait ToField {
    /// Returns the value with `to_field` recorded.
    fn with_to_field(self, to_field: &'static &'static str) -> Self;
}

impl<T: Model> ToField for OneToOne<T> {
    fn with_to_field(self, to_field: &'static &'static str) -> Self {
        self.__with_to_field(Some(to_field))
    }
}

impl<T: Model> ToField for Option<OneToOne<T>> {
    fn with_to_field(self, to_field: &'static &'static str) -> Self {
        self.map(|r| r.__with_to_field(Some(to_field)))
    }
}
