//! `uuid::Uuid` as Django's `UUIDField` (feature `uuid`): on SQLite a
//! `char(32)` of lower-case hex digits without hyphens, as Django stores it.

use rusqlite::types::{Value, ValueRef};
use uuid::Uuid;

use super::{stored_text, ColumnType, FieldType, Stored, ToValue};

impl ToValue for Uuid {
    fn to_stored(&self) -> Result<Stored<'_>, String> {
        Ok(Stored::Owned(Value::Text(self.simple().to_string())))
    }
}

impl FieldType for Uuid {
    const COLUMN: ColumnType = ColumnType::Uuid;
    fn from_stored(v: ValueRef<'_>) -> Result<Self, String> {
        match v {
            // As rusqlite's own `uuid` feature stores it.
            ValueRef::Blob(b) => {
                Uuid::from_slice(b).map_err(|e| format!("{} bytes are not a UUID: {e}", b.len()))
            }
            v => {
                let s = stored_text(v)?;
                Uuid::try_parse(s).map_err(|e| format!("{s:?} is not a UUID: {e}"))
            }
        }
    }
}
