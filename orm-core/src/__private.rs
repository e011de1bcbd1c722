//! The derive contract: items the code `#[derive(Model)]` generates calls.
//! Not a public API. Generated code names no driver type (rows and statement
//! parameters go through [`RowReader`] and [`Binder`]), so another backend
//! needs no change in generated code; `orm-derive` is pinned to the matching
//! version (`=`) because this module may change between versions.

/// The version of this contract; the derive checks it at compile time.
pub const CONTRACT: u32 = 2;

pub use crate::exec::record::{Binder, LoaderEntry, Record, RowReader};
pub use crate::exec::related::{reverse_get, reverse_require};
pub use crate::meta::choices::{from_stored as choice_from_stored, to_stored as choice_to_stored};
pub use crate::meta::registry::ModelEntry;
pub use crate::meta::{FieldMeta, Metadata, ModelMeta, OnDelete, RelationMeta};
pub use crate::ops::save::{reverse_clear, reverse_set};
pub use crate::ops::validate::{check_max_length, check_text, ChoicesEntry};
pub use crate::sql::select::LoadPlan;
pub use inventory;
pub use orm_derive::splice;

use rusqlite::types::{Value, ValueRef};

pub use crate::meta::types::{ColumnType, FieldType, Stored, ToValue};

use crate::error::{Error, Result};
use crate::exec::db::Db;
use crate::exec::record::DynModel;
use crate::exec::related::OneToOne;
use crate::ops::model::Model;

impl RowReader<'_, '_> {
    /// Reads the next column into field `field` of `meta`, naming model and
    /// field on failure.
    #[inline(always)]
    pub fn read<T: FieldType>(&mut self, meta: &'static ModelMeta, field: usize) -> Result<T> {
        let i = self.idx;
        self.idx += 1;
        let v = match self.row.get_ref(i) {
            Ok(v) => v,
            Err(e) => return Err(field_error(meta, field, e.to_string())),
        };
        let out = if T::USES_FIELD {
            // Cannot panic: `field` is the index the derive emitted for a
            // field of this same `meta`.
            T::from_stored_field(v, &meta.fields[field])
        } else {
            T::from_stored(v)
        };
        match out {
            Ok(x) => Ok(x),
            Err(reason) => Err(read_error(meta, field, v, reason)),
        }
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

#[cold]
#[inline(never)]
fn read_error(meta: &'static ModelMeta, field: usize, v: ValueRef<'_>, reason: String) -> Error {
    field_error(meta, field, stored_as(v, reason))
}

/// The reason with the stored value's type, as rusqlite words it.
fn stored_as(v: ValueRef<'_>, reason: String) -> String {
    let ty = v.data_type();
    match v {
        ValueRef::Null => reason,
        _ if reason.ends_with("does not fit this field") => {
            format!("stored value has SQLite type {ty}")
        }
        _ => format!("{reason} (stored as {ty})"),
    }
}

#[cold]
fn field_error(meta: &'static ModelMeta, field: usize, reason: String) -> Error {
    // Cannot panic: `field` is the index the derive emitted for a field of
    // this same `meta` (the generated `__from_row` passes `#i`).
    let f = &meta.fields[field];
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
pub fn fits<T: FieldType>(f: &'static FieldMeta, v: &Value) -> Result<(), String> {
    // Read as given, not at the field's scale (a decimal would be rounded
    // to its places first and always pass), then checked as a save does.
    T::from_stored(v.into())?.check_field(f)
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
    /// Binds field `field` of `meta` (a model field's value) as the next
    /// parameter.
    #[inline]
    pub fn bind_field<T: FieldType>(
        &mut self,
        value: &T,
        meta: &'static ModelMeta,
        field: usize,
    ) -> Result<()> {
        if T::USES_FIELD {
            if let Some(f) = meta.fields.get(field) {
                value
                    .check_field(f)
                    .map_err(|reason| bind_error(meta, field, reason))?;
            }
        }
        self.bind(value, meta, field)
    }

    /// Binds field `field` of `meta` as the next parameter. A value that
    /// cannot be stored exactly (an unsigned integer beyond `i64`, a NaN
    /// SQLite would store as NULL, a user type refusing) is an
    /// [`Error::InvalidValue`] naming the field; nothing is bound.
    #[inline]
    pub fn bind<T: ToValue + ?Sized>(
        &mut self,
        value: &T,
        meta: &'static ModelMeta,
        field: usize,
    ) -> Result<()> {
        let stored = value
            .to_stored()
            .map_err(|reason| bind_error(meta, field, reason))?;
        let r = match &stored {
            Stored::Ref(r) => rusqlite::types::ToSqlOutput::Borrowed(*r),
            Stored::Owned(v) => rusqlite::types::ToSqlOutput::Borrowed(v.into()),
        };
        self.stmt
            .raw_bind_parameter(self.next, r)
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

/// A value as an owned [`Value`] (NULL when it cannot be stored: only
/// `__value_of` and defaults call this, and a bad value is reported when it
/// is bound).
#[inline]
pub fn value<T: ToValue + ?Sized>(v: &T) -> Value {
    v.to_value().unwrap_or(Value::Null)
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

impl<T: Model> FieldType for OneToOne<T> {
    const COLUMN: ColumnType = ColumnType::Relation;
    fn from_stored(v: ValueRef<'_>) -> std::result::Result<Self, String> {
        OneToOne::__from_stored(v)
    }
    fn __set_pk(&mut self, pk: Option<Value>) {
        self.set_key(pk.unwrap_or(Value::Null));
    }
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
pub fn pk_value<T: ToValue + ?Sized>(v: &T) -> Option<Value> {
    match v.to_value() {
        Ok(Value::Null) | Err(_) => None,
        Ok(v) => Some(v),
    }
}

/// A field that can hold a primary key written back by save or cleared by delete.
pub trait PkSlot {
    /// Stores `pk` (or clears it when the type allows).
    fn set_pk(&mut self, pk: Option<Value>);
}

impl<T: FieldType> PkSlot for T {
    fn set_pk(&mut self, pk: Option<Value>) {
        FieldType::__set_pk(self, pk);
    }
}

/// A relation field that can take a prefetched object into its cache.
pub trait CacheSlot {
    /// Stores `obj` when it is the right type and matches the key.
    fn set_cached(&mut self, obj: Box<dyn std::any::Any + Send + Sync>) -> bool;
}

impl<T: Model> CacheSlot for OneToOne<T> {
    fn set_cached(&mut self, obj: Box<dyn std::any::Any + Send + Sync>) -> bool {
        self.__cache_boxed(obj)
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

/// `full_clean`'s check of a value against its field's options (a
/// decimal's `max_digits` and `decimal_places`).
pub fn check_field<T: FieldType>(
    errors: &mut Vec<(String, String)>,
    name: &'static str,
    value: &T,
    field: &'static FieldMeta,
) {
    if let Err(message) = value.check_field(field) {
        errors.push((name.to_string(), message));
    }
}

/// A field type `auto_now` / `auto_now_add` can set: the date and time
/// types of the `chrono` and `time` features.
#[diagnostic::on_unimplemented(
    message = "`auto_now` and `auto_now_add` need a date or time field, not `{Self}`",
    label = "not a date or time type",
    note = "use chrono's NaiveDate, NaiveDateTime, DateTime<Utc> or NaiveTime, or time's Date, PrimitiveDateTime, OffsetDateTime or Time (features `chrono`, `time`)"
)]
pub trait AutoNow {
    /// Sets the value to the current date or time (UTC).
    fn set_now(&mut self);
}

impl<T: AutoNow + Default> AutoNow for Option<T> {
    fn set_now(&mut self) {
        let mut v = T::default();
        v.set_now();
        *self = Some(v);
    }
}

#[cfg(feature = "chrono")]
mod chrono_now {
    use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

    impl super::AutoNow for DateTime<Utc> {
        fn set_now(&mut self) {
            *self = Utc::now();
        }
    }
    impl super::AutoNow for NaiveDateTime {
        fn set_now(&mut self) {
            *self = Utc::now().naive_utc();
        }
    }
    impl super::AutoNow for NaiveDate {
        fn set_now(&mut self) {
            *self = Utc::now().date_naive();
        }
    }
    impl super::AutoNow for NaiveTime {
        fn set_now(&mut self) {
            *self = Utc::now().time();
        }
    }
}

#[cfg(feature = "time")]
mod time_now {
    use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

    impl super::AutoNow for OffsetDateTime {
        fn set_now(&mut self) {
            *self = OffsetDateTime::now_utc();
        }
    }
    impl super::AutoNow for PrimitiveDateTime {
        fn set_now(&mut self) {
            let now = OffsetDateTime::now_utc();
            *self = PrimitiveDateTime::new(now.date(), now.time());
        }
    }
    impl super::AutoNow for Date {
        fn set_now(&mut self) {
            *self = OffsetDateTime::now_utc().date();
        }
    }
    impl super::AutoNow for Time {
        fn set_now(&mut self) {
            *self = OffsetDateTime::now_utc().time();
        }
    }
}
