//! Field types: the logical column types (Django's field classes), and the
//! two public traits that turn Rust values into stored values and back.
//!
//! [`ToValue`] is anything a query can compare with or store: every field
//! type, plus `&str`, `&[u8]` and references. [`FieldType`] is a type a
//! model field can have: a [`ToValue`] that also reads back from the stored
//! value and names its logical [`ColumnType`]. A user's newtype or enum
//! becomes a field type by implementing both, with no code in orm-core (see
//! the README, "Your own field types").
//!
//! Values are stored as Django stores them on SQLite: dates and times as ISO
//! text, durations as microseconds, UUIDs as 32 hex digits, JSON as text,
//! decimals as their exact text.

use rusqlite::types::{Value, ValueRef};

use crate::meta::FieldMeta;

#[cfg(feature = "chrono")]
mod chrono;
#[cfg(feature = "decimal")]
mod decimal;
#[cfg(feature = "files")]
mod files;
#[cfg(feature = "json")]
mod json;
#[cfg(feature = "time")]
mod time;
#[cfg(feature = "uuid")]
mod uuid;

#[cfg(feature = "files")]
pub use files::{FieldFile, ImageFile};
#[cfg(feature = "json")]
pub use json::Json;

/// A column's logical type (Django's field class), which each dialect maps
/// to its DDL: `Date` is `date` on SQLite and PostgreSQL, `DateTimeTz` is
/// `datetime` on SQLite and `timestamp with time zone` on PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ColumnType {
    /// `SmallIntegerField` (`i8`, `i16`).
    SmallInt,
    /// `IntegerField` (`i32`).
    Int,
    /// `BigIntegerField` (`i64`).
    BigInt,
    /// `PositiveSmallIntegerField` (`u8`).
    PositiveSmallInt,
    /// `PositiveIntegerField` (`u16`, `u32`).
    PositiveInt,
    /// `FloatField` (`f32`, `f64`).
    Float,
    /// `BooleanField`.
    Bool,
    /// `CharField` with a `max_length`, else `TextField`.
    Text,
    /// `BinaryField` (`Vec<u8>`).
    Bytes,
    /// `DateField`.
    Date,
    /// `DateTimeField` without a time zone (Django's `USE_TZ = False`).
    DateTime,
    /// `DateTimeField` with a time zone (`USE_TZ = True`): stored in UTC.
    DateTimeTz,
    /// `TimeField`.
    Time,
    /// `DurationField`: microseconds.
    Duration,
    /// `UUIDField`.
    Uuid,
    /// `JSONField`.
    Json,
    /// `DecimalField` (`max_digits` and `decimal_places` are the field's).
    Decimal,
    /// `FileField` (`FieldFile`): the file's name, `varchar(100)` unless
    /// the field gives a `max_length`.
    File,
    /// `ImageField` (`ImageFile`): as `File`.
    Image,
    /// A relation: the type of the column it points at.
    Relation,
}

impl ColumnType {
    /// The column type Django's SQLite backend writes. (SQLite integers are
    /// 64-bit whatever the name, so `i64` keeps `integer`.)
    pub const fn sqlite(self) -> &'static str {
        match self {
            ColumnType::SmallInt => "smallint",
            ColumnType::Int | ColumnType::BigInt => "integer",
            ColumnType::PositiveSmallInt => "smallint unsigned",
            ColumnType::PositiveInt => "integer unsigned",
            ColumnType::Float => "real",
            ColumnType::Bool => "bool",
            ColumnType::Text | ColumnType::Json => "text",
            ColumnType::Bytes => "BLOB",
            ColumnType::Date => "date",
            ColumnType::DateTime | ColumnType::DateTimeTz => "datetime",
            ColumnType::Time => "time",
            ColumnType::Duration => "bigint",
            ColumnType::Uuid => "char(32)",
            ColumnType::Decimal => "decimal",
            ColumnType::File | ColumnType::Image => "varchar(100)",
            ColumnType::Relation => "",
        }
    }

    /// Django's field class, for messages ("Unsupported lookup 'x' for DateField").
    pub const fn django_class(self) -> &'static str {
        match self {
            ColumnType::SmallInt => "SmallIntegerField",
            ColumnType::Int => "IntegerField",
            ColumnType::BigInt => "BigIntegerField",
            ColumnType::PositiveSmallInt => "PositiveSmallIntegerField",
            ColumnType::PositiveInt => "PositiveIntegerField",
            ColumnType::Float => "FloatField",
            ColumnType::Bool => "BooleanField",
            ColumnType::Text => "TextField",
            ColumnType::Bytes => "BinaryField",
            ColumnType::Date => "DateField",
            ColumnType::DateTime | ColumnType::DateTimeTz => "DateTimeField",
            ColumnType::Time => "TimeField",
            ColumnType::Duration => "DurationField",
            ColumnType::Uuid => "UUIDField",
            ColumnType::Json => "JSONField",
            ColumnType::Decimal => "DecimalField",
            ColumnType::File => "FileField",
            ColumnType::Image => "ImageField",
            ColumnType::Relation => "OneToOneField",
        }
    }

    /// True for the types that take `max_length` (`varchar(n)`).
    pub const fn is_text(self) -> bool {
        matches!(
            self,
            ColumnType::Text | ColumnType::File | ColumnType::Image
        )
    }
}

/// A stored value, borrowed from the Rust value when it already holds one
/// (a `String`'s text), owned when it had to be made (a date's ISO text).
#[derive(Debug, Clone, PartialEq)]
pub enum Stored<'a> {
    /// Borrowed from the Rust value.
    Ref(ValueRef<'a>),
    /// Made from the Rust value.
    Owned(Value),
}

impl Stored<'_> {
    /// The owned value.
    #[inline]
    pub fn into_value(self) -> Value {
        match self {
            Stored::Ref(r) => owned(r),
            Stored::Owned(v) => v,
        }
    }

    /// A view of the value.
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Stored::Ref(r) => *r,
            Stored::Owned(v) => v.into(),
        }
    }
}

/// A value a query can compare with or a model can store: every
/// [`FieldType`], `&str`, `&[u8]`, [`Value`] and references to these.
///
/// A conversion that cannot be exact (a `u64` beyond `i64::MAX`, a NaN) is
/// an `Err` with the reason, which the ORM reports as
/// [`crate::Error::InvalidValue`] naming the model and field; it never
/// becomes NULL.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a query value or a stored value",
    label = "not a value the ORM can store",
    note = "values are the field types (integers, f32/f64, bool, String, Vec<u8>, the feature types, Option, OneToOne<T>), &str, &[u8], orm_core::Value, or a type of yours implementing `orm_core::ToValue`"
)]
pub trait ToValue {
    /// The value as stored.
    ///
    /// # Errors
    ///
    /// Why the value cannot be stored exactly.
    fn to_stored(&self) -> Result<Stored<'_>, String>;

    /// The value as an owned [`Value`].
    ///
    /// # Errors
    ///
    /// As [`ToValue::to_stored`].
    #[inline]
    fn to_value(&self) -> Result<Value, String> {
        self.to_stored().map(Stored::into_value)
    }

    /// True for a JSON document (`serde_json::Value`, `Json<T>`): a lookup
    /// on a JSON key then compares it as JSON, not as text.
    #[doc(hidden)]
    fn __is_json(&self) -> bool {
        false
    }
}

/// A type a model field can have: Django's field classes, and your own.
///
/// # Examples
///
/// A newtype stored as text, with its own validation on load:
///
/// ```
/// use orm_core::prelude::*;
/// use orm_core::{ColumnType, FieldType, Stored, ToValue, ValueRef};
///
/// #[derive(Debug, Clone, PartialEq)]
/// pub struct Email(String);
///
/// impl ToValue for Email {
///     fn to_stored(&self) -> Result<Stored<'_>, String> {
///         Ok(Stored::Ref(ValueRef::Text(self.0.as_bytes())))
///     }
/// }
///
/// impl FieldType for Email {
///     const COLUMN: ColumnType = ColumnType::Text;
///     fn from_stored(v: ValueRef<'_>) -> Result<Self, String> {
///         let s = String::from_stored(v)?;
///         if s.contains('@') { Ok(Email(s)) } else { Err(format!("{s:?} is not an e-mail address")) }
///     }
/// }
///
/// #[derive(Model, Debug, Clone)]
/// #[model(app = "docs")]
/// pub struct Subscriber { pub id: Option<i64>, #[field(max_length = 254)] pub email: Email }
///
/// let db = Db::open_in_memory()?;
/// db.migrate()?;
/// Subscriber { id: None, email: Email("ann@example.com".into()) }.create(&db)?;
/// let s = Subscriber::objects().filter(Subscriber::email().eq(Email("ann@example.com".into()))).get(&db)?;
/// assert_eq!(s.email, Email("ann@example.com".into()));
/// # Ok::<(), orm_core::Error>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be stored in a model field",
    label = "unsupported field type",
    note = "field types are integers, f32/f64, bool, String, Vec<u8>, the date, time, UUID, JSON, decimal and file types of the enabled features, an Option of one of these, OneToOne<T>, or a type of yours implementing `orm_core::FieldType` and `orm_core::ToValue`"
)]
pub trait FieldType: ToValue + Sized + Send + Sync + 'static {
    /// The logical column type.
    const COLUMN: ColumnType;
    /// True for `Option<T>` (a NULL column).
    const NULLABLE: bool = false;
    /// True when [`FieldType::from_stored_field`] or
    /// [`FieldType::check_field`] use the field's options (a decimal's
    /// digits): the ORM skips looking the field up for the others.
    const USES_FIELD: bool = false;

    /// Reads the value back from what the database stored.
    ///
    /// # Errors
    ///
    /// Why the stored value is not a `Self` (the ORM names the model,
    /// field and column).
    fn from_stored(v: ValueRef<'_>) -> Result<Self, String>;

    /// Reads the value of `field` (a decimal takes the field's
    /// `decimal_places`); the default is [`FieldType::from_stored`].
    ///
    /// # Errors
    ///
    /// As [`FieldType::from_stored`].
    fn from_stored_field(v: ValueRef<'_>, field: &'static FieldMeta) -> Result<Self, String> {
        let _ = field;
        Self::from_stored(v)
    }

    /// Checks the value against the options of `field` before it is stored
    /// and in `full_clean` (a decimal's `max_digits` and `decimal_places`);
    /// the message is Django's validator's.
    ///
    /// # Errors
    ///
    /// Why the value does not fit the field.
    fn check_field(&self, field: &'static FieldMeta) -> Result<(), String> {
        let _ = field;
        Ok(())
    }

    /// Stores a primary key the database assigned (`None` after a delete):
    /// an `Option` takes `None`, a plain type keeps its value.
    #[doc(hidden)]
    fn __set_pk(&mut self, pk: Option<Value>) {
        let v = pk.unwrap_or(Value::Null);
        if let Ok(x) = Self::from_stored((&v).into()) {
            *self = x;
        }
    }
}

/// An owned copy of a borrowed value (invalid UTF-8 text kept as a blob).
#[inline]
pub(crate) fn owned(r: ValueRef<'_>) -> Value {
    match r {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(t) => match std::str::from_utf8(t) {
            Ok(s) => Value::Text(s.to_owned()),
            Err(_) => Value::Blob(t.to_vec()),
        },
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

/// Why `v` is not of the expected storage class.
pub fn wrong_type(v: ValueRef<'_>) -> String {
    match v {
        ValueRef::Null => "NULL in a field that is not an Option".into(),
        ValueRef::Integer(_) => "an integer does not fit this field".into(),
        ValueRef::Real(_) => "a real number does not fit this field".into(),
        ValueRef::Text(_) => "text does not fit this field".into(),
        ValueRef::Blob(_) => "bytes do not fit this field".into(),
    }
}

/// The text of a stored value.
#[inline]
pub fn stored_text<'a>(v: ValueRef<'a>) -> Result<&'a str, String> {
    match v {
        ValueRef::Text(t) => std::str::from_utf8(t).map_err(|e| format!("text is not UTF-8: {e}")),
        v => Err(wrong_type(v)),
    }
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_stored(&self) -> Result<Stored<'_>, String> {
        (**self).to_stored()
    }
    fn __is_json(&self) -> bool {
        (**self).__is_json()
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_stored(&self) -> Result<Stored<'_>, String> {
        match self {
            Some(v) => v.to_stored(),
            None => Ok(Stored::Ref(ValueRef::Null)),
        }
    }
    fn __is_json(&self) -> bool {
        self.as_ref().is_some_and(ToValue::__is_json)
    }
}

impl<T: FieldType> FieldType for Option<T> {
    const COLUMN: ColumnType = T::COLUMN;
    const NULLABLE: bool = true;
    const USES_FIELD: bool = T::USES_FIELD;
    fn from_stored(v: ValueRef<'_>) -> Result<Self, String> {
        match v {
            ValueRef::Null => Ok(None),
            v => T::from_stored(v).map(Some),
        }
    }
    fn from_stored_field(v: ValueRef<'_>, field: &'static FieldMeta) -> Result<Self, String> {
        match v {
            ValueRef::Null => Ok(None),
            v => T::from_stored_field(v, field).map(Some),
        }
    }
    fn check_field(&self, field: &'static FieldMeta) -> Result<(), String> {
        match self {
            Some(v) => v.check_field(field),
            None => Ok(()),
        }
    }
}

impl ToValue for Value {
    fn to_stored(&self) -> Result<Stored<'_>, String> {
        match self {
            Value::Real(r) if r.is_nan() => Err(NAN.into()),
            v => Ok(Stored::Ref(v.into())),
        }
    }
}

impl ToValue for str {
    fn to_stored(&self) -> Result<Stored<'_>, String> {
        Ok(Stored::Ref(ValueRef::Text(self.as_bytes())))
    }
}

impl ToValue for [u8] {
    fn to_stored(&self) -> Result<Stored<'_>, String> {
        Ok(Stored::Ref(ValueRef::Blob(self)))
    }
}

impl ToValue for String {
    fn to_stored(&self) -> Result<Stored<'_>, String> {
        self.as_str().to_stored()
    }
}

impl FieldType for String {
    const COLUMN: ColumnType = ColumnType::Text;
    #[inline]
    fn from_stored(v: ValueRef<'_>) -> Result<Self, String> {
        stored_text(v).map(str::to_owned)
    }
}

impl ToValue for Vec<u8> {
    fn to_stored(&self) -> Result<Stored<'_>, String> {
        self.as_slice().to_stored()
    }
}

impl FieldType for Vec<u8> {
    const COLUMN: ColumnType = ColumnType::Bytes;
    fn from_stored(v: ValueRef<'_>) -> Result<Self, String> {
        match v {
            ValueRef::Blob(b) => Ok(b.to_vec()),
            v => Err(wrong_type(v)),
        }
    }
}

impl ToValue for bool {
    fn to_stored(&self) -> Result<Stored<'_>, String> {
        Ok(Stored::Ref(ValueRef::Integer(i64::from(*self))))
    }
}

impl FieldType for bool {
    const COLUMN: ColumnType = ColumnType::Bool;
    fn from_stored(v: ValueRef<'_>) -> Result<Self, String> {
        match v {
            ValueRef::Integer(i) => Ok(i != 0),
            v => Err(wrong_type(v)),
        }
    }
}

const NAN: &str = "NaN cannot be stored (SQLite reads it as NULL)";

macro_rules! float {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_stored(&self) -> Result<Stored<'_>, String> {
                if self.is_nan() {
                    return Err(NAN.into());
                }
                Ok(Stored::Ref(ValueRef::Real(f64::from(*self))))
            }
        }

        impl FieldType for $t {
            const COLUMN: ColumnType = ColumnType::Float;
            #[allow(clippy::cast_possible_truncation)]
            fn from_stored(v: ValueRef<'_>) -> Result<Self, String> {
                match v {
                    // As rusqlite reads them: a REAL column may hold an integer.
                    ValueRef::Real(r) => Ok(r as $t),
                    ValueRef::Integer(i) => Ok(i as $t),
                    v => Err(wrong_type(v)),
                }
            }
        }
    )*};
}
float!(f32, f64);

macro_rules! integer {
    ($($t:ty => $c:ident),*) => {$(
        impl ToValue for $t {
            fn to_stored(&self) -> Result<Stored<'_>, String> {
                i64::try_from(*self)
                    .map(|i| Stored::Ref(ValueRef::Integer(i)))
                    .map_err(|_| format!("{} does not fit a 64-bit integer", self))
            }
        }

        impl FieldType for $t {
            const COLUMN: ColumnType = ColumnType::$c;
            fn from_stored(v: ValueRef<'_>) -> Result<Self, String> {
                match v {
                    ValueRef::Integer(i) => <$t>::try_from(i)
                        .map_err(|_| format!("integer {i} out of range")),
                    v => Err(wrong_type(v)),
                }
            }
        }
    )*};
}
integer!(i8 => SmallInt, i16 => SmallInt, i32 => Int, i64 => BigInt,
    u8 => PositiveSmallInt, u16 => PositiveInt, u32 => PositiveInt);

// A `u64` or `usize` can be a query value (`limit`-like counts, keys held
// as unsigned), checked against `i64`; it is not a field type: half of its
// range cannot be stored.
impl ToValue for u64 {
    fn to_stored(&self) -> Result<Stored<'_>, String> {
        i64::try_from(*self)
            .map(|i| Stored::Ref(ValueRef::Integer(i)))
            .map_err(|_| format!("{self} does not fit a 64-bit signed integer"))
    }
}

impl ToValue for usize {
    fn to_stored(&self) -> Result<Stored<'_>, String> {
        i64::try_from(*self)
            .map(|i| Stored::Ref(ValueRef::Integer(i)))
            .map_err(|_| format!("{self} does not fit a 64-bit signed integer"))
    }
}
