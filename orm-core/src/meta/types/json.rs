//! JSON fields (feature `json`): `serde_json::Value`, and [`Json<T>`] for
//! any serde type, stored as JSON text (Django's `JSONField` on SQLite, with
//! its `JSON_VALID` check).

use rusqlite::types::{Value, ValueRef};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{stored_text, ColumnType, FieldType, Stored, ToValue};

/// The nesting `serde_json` reads back (its recursion limit, which keeps a
/// hostile document from overflowing the stack).
const MAX_DEPTH: usize = 127;

/// JSON text to store, refused when it could not be read back.
fn checked(text: String) -> Result<Stored<'static>, String> {
    let (mut depth, mut max, mut in_str, mut escaped) = (0usize, 0usize, false, false);
    for b in text.bytes() {
        if in_str {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if max > MAX_DEPTH {
        return Err(format!(
            "JSON nested {max} levels deep cannot be read back (the limit is {MAX_DEPTH})"
        ));
    }
    Ok(Stored::Owned(Value::Text(text)))
}

impl ToValue for serde_json::Value {
    fn to_stored(&self) -> Result<Stored<'_>, String> {
        serde_json::to_string(self)
            .map_err(|e| e.to_string())
            .and_then(checked)
    }
    fn __is_json(&self) -> bool {
        true
    }
}

impl FieldType for serde_json::Value {
    const COLUMN: ColumnType = ColumnType::Json;
    fn from_stored(v: ValueRef<'_>) -> Result<Self, String> {
        let s = stored_text(v)?;
        serde_json::from_str(s).map_err(|e| format!("stored text is not JSON: {e}"))
    }
}

/// A JSON field holding any serde type: `pub settings: Json<Settings>`.
/// Derefs to the value.
///
/// ```
/// use orm_core::prelude::*;
/// use orm_core::Json;
///
/// #[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
/// pub struct Settings { pub theme: String, pub tags: Vec<String> }
///
/// #[derive(Model, Debug, Clone)]
/// #[model(app = "docs")]
/// pub struct Account { pub id: Option<i64>, pub settings: Json<Settings> }
///
/// let db = Db::open_in_memory()?;
/// db.migrate()?;
/// let a = Account { id: None, settings: Json(Settings { theme: "dark".into(), tags: vec!["a".into()] }) }.create(&db)?;
/// assert_eq!(Account::get(&db, a.id)?.settings.theme, "dark");
/// # Ok::<(), orm_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Json<T>(pub T);

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> std::ops::DerefMut for Json<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: Serialize> ToValue for Json<T> {
    fn to_stored(&self) -> Result<Stored<'_>, String> {
        serde_json::to_string(&self.0)
            .map_err(|e| e.to_string())
            .and_then(checked)
    }
    fn __is_json(&self) -> bool {
        true
    }
}

impl<T: Serialize + DeserializeOwned + Send + Sync + 'static> FieldType for Json<T> {
    const COLUMN: ColumnType = ColumnType::Json;
    fn from_stored(v: ValueRef<'_>) -> Result<Self, String> {
        let s = stored_text(v)?;
        serde_json::from_str(s).map(Json).map_err(|e| {
            format!(
                "stored JSON does not fit {}: {e}",
                std::any::type_name::<T>()
            )
        })
    }
}
