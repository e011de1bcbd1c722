//! `Serialize`/`Deserialize` for relations (feature `serde`), so a model
//! derives serde's traits with no helpers.
//!
//! A `OneToOne<T>` is written as its key, as Django's serializers write a
//! foreign key (`"user": 1`), and read back from a key. To write the loaded
//! object instead, put `#[serde(serialize_with = "orm_core::serde::nested")]`
//! on the field (the key is written when nothing is loaded).

use rusqlite::types::Value;
use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use crate::exec::record::Record;
use crate::exec::related::OneToOne;

fn serialize_value<S: Serializer>(v: &Value, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Value::Null => s.serialize_none(),
        Value::Integer(i) => s.serialize_i64(*i),
        Value::Real(r) => s.serialize_f64(*r),
        Value::Text(t) => s.serialize_str(t),
        Value::Blob(b) => s.serialize_bytes(b),
    }
}

impl<T: Record> Serialize for OneToOne<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_value(&self.key().unwrap_or(Value::Null), s)
    }
}

/// `#[serde(serialize_with = "orm_core::serde::nested")]`: the loaded
/// related object, or its key when it is not loaded.
///
/// # Errors
///
/// The serializer's.
pub fn nested<T, S>(rel: &OneToOne<T>, s: S) -> Result<S::Ok, S::Error>
where
    T: Record + Serialize,
    S: Serializer,
{
    match rel.cached() {
        Some(obj) => obj.serialize(s),
        None => rel.serialize(s),
    }
}

/// A key as serde gives it.
struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the key of the related row (an integer, a string or bytes)")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Integer(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        i64::try_from(v)
            .map(Value::Integer)
            .map_err(|_| E::custom(format!("key {v} does not fit a 64-bit signed integer")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Real(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Text(v.to_owned()))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Blob(v.to_vec()))
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
}

impl<'de, T: Record> Deserialize<'de> for OneToOne<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match d.deserialize_any(KeyVisitor)? {
            Value::Null => Err(de::Error::custom(format!(
                "a relation to {} needs a key; make the field an Option for null",
                T::__META.name
            ))),
            key => Ok(OneToOne::from_key(key)),
        }
    }
}
