//! The one error type of the crate, and its [`Result`] alias.
//!
//! Every variant mirrors one of Django's error cases and carries the context a
//! reader needs to act on it: the model, the field, the table and columns.

use std::fmt;

/// `Result<T, orm_core::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One object that blocks a delete, as listed by [`Error::Protected`] and
/// [`Error::Restricted`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocker {
    /// The label of the blocking object's model, e.g. `"app.Guarded"`.
    pub model: String,
    /// The blocking object's primary key, rendered as text.
    pub pk: String,
    /// The field it blocks through, as `'Model.field'` (Django's key).
    pub through: String,
}

impl fmt::Display for Blocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} object ({})", self.model, self.pk)
    }
}

/// Which integrity constraint SQLite reported.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constraint {
    /// `UNIQUE constraint failed`
    Unique,
    /// `NOT NULL constraint failed`
    NotNull,
    /// `FOREIGN KEY constraint failed`
    ForeignKey,
    /// `CHECK constraint failed` or any other constraint
    Other,
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Constraint::Unique => "UNIQUE",
            Constraint::NotNull => "NOT NULL",
            Constraint::ForeignKey => "FOREIGN KEY",
            Constraint::Other => "CHECK",
        })
    }
}

/// What went wrong with a file, in [`Error::Storage`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageErrorKind {
    /// The name is absolute, climbs out of the storage with `..`, or has no
    /// file name (Django's `SuspiciousFileOperation`): nothing was touched.
    SuspiciousName,
    /// No file of that name in the storage.
    NotFound,
    /// An `ImageFile` was given content that is not an image.
    NotAnImage,
    /// The file system refused the operation.
    Io,
}

/// Validation errors of one instance, collected per field (Django's
/// `ValidationError.message_dict`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors {
    /// The model that was validated.
    pub model: &'static str,
    /// `(field name, message)` pairs, in field order.
    pub errors: Vec<(String, String)>,
}

impl ValidationErrors {
    /// Messages recorded for `field`.
    pub fn field(&self, field: &str) -> Vec<&str> {
        self.errors
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
            .collect()
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed validation:", self.model)?;
        for (field, msg) in &self.errors {
            write!(f, " {field}: {msg}")?;
            if !msg.ends_with('.') {
                f.write_str(".")?;
            }
        }
        Ok(())
    }
}

/// A key rendered for messages: `5`, `'abc'`.
pub(crate) fn display_value(v: &rusqlite::types::Value) -> String {
    use rusqlite::types::Value;
    match v {
        Value::Null => "None".into(),
        Value::Integer(i) => i.to_string(),
        Value::Real(r) => r.to_string(),
        Value::Text(s) => format!("'{s}'"),
        Value::Blob(b) => format!("{b:?}"),
    }
}

fn join_keys(keys: &[String]) -> String {
    keys.iter()
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Everything that can go wrong in `orm-core`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A `get` found no row (Django's `Model.DoesNotExist`).
    #[error("{model} matching query does not exist.")]
    DoesNotExist {
        /// The queried model.
        model: &'static str,
    },

    /// A `get` found more than one row (Django's `MultipleObjectsReturned`).
    #[error("get() returned more than one {model} -- it returned {count}!")]
    MultipleObjectsReturned {
        /// The queried model.
        model: &'static str,
        /// How many rows matched (at least 2).
        count: usize,
    },

    /// A one-to-one accessor found no related object: `"User has no profile."`.
    #[error("{model} has no {accessor}.")]
    RelatedObjectDoesNotExist {
        /// The model the accessor was called on.
        model: &'static str,
        /// The accessor's name (`related_name` or the field name).
        accessor: &'static str,
    },

    /// Saving would silently store NULL because a related object is unsaved.
    #[error("{op}() prohibited to prevent data loss due to unsaved related object '{field}'.")]
    UnsavedRelated {
        /// The operation (`save`, `create`).
        op: &'static str,
        /// The model being saved.
        model: &'static str,
        /// The relation field whose object has no primary key.
        field: &'static str,
    },

    /// `delete()` on an instance whose primary key is unset.
    #[error("{model} object can't be deleted because its {pk} attribute is set to None.")]
    DeleteUnsaved {
        /// The model.
        model: &'static str,
        /// The primary-key field name.
        pk: &'static str,
    },

    /// An operation that needs a saved instance got an unsaved one.
    #[error("{model} instance needs a primary key before {op}().")]
    Unsaved {
        /// The model.
        model: &'static str,
        /// The operation that was refused.
        op: &'static str,
    },

    /// A delete was blocked by `on_delete = "protect"` (Django's `ProtectedError`).
    #[error("Cannot delete some instances of model '{model}' because they are referenced through protected foreign keys: {}.", join_keys(.keys))]
    Protected {
        /// The model whose delete was refused.
        model: &'static str,
        /// The blocking fields, as `Model.field`.
        keys: Vec<String>,
        /// The blocking objects.
        objects: Vec<Blocker>,
    },

    /// A delete was blocked by `on_delete = "restrict"` (Django's `RestrictedError`).
    #[error("Cannot delete some instances of model '{model}' because they are referenced through restricted foreign keys: {}.", join_keys(.keys))]
    Restricted {
        /// The model whose delete was refused.
        model: &'static str,
        /// The blocking fields, as `Model.field`.
        keys: Vec<String>,
        /// The blocking objects.
        objects: Vec<Blocker>,
    },

    /// SQLite refused a write because of a constraint; the table and columns
    /// are parsed from SQLite's message.
    #[error("{kind} constraint failed: {table}.{columns}", columns = .columns.join(", "))]
    Integrity {
        /// Which constraint.
        kind: Constraint,
        /// The table (empty when SQLite does not say, as for deferred foreign keys).
        table: String,
        /// The columns involved.
        columns: Vec<String>,
        /// SQLite's own message.
        message: String,
    },

    /// A table is missing: the schema was not created.
    #[error("no such table: {table} (run `db.migrate()` to create the tables of every registered model)")]
    NoSuchTable {
        /// The missing table.
        table: String,
    },

    /// A value read from the database does not fit the Rust field.
    #[error("value in column {table}.{column} does not fit field {model}.{field}: {reason}")]
    FieldValue {
        /// The model.
        model: &'static str,
        /// The field.
        field: &'static str,
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
        /// What did not fit.
        reason: String,
    },

    /// A lookup, path or `select_related` name does not resolve (Django's `FieldError`).
    #[error("{message}")]
    Field {
        /// The whole message, with the valid choices where useful.
        message: String,
    },

    /// A value of the wrong kind was given for a field or lookup.
    #[error("Cannot use {value} for {model}.{field}: {reason}")]
    InvalidValue {
        /// The model.
        model: &'static str,
        /// The field.
        field: &'static str,
        /// The value, as the user gave it.
        value: String,
        /// Why it was refused.
        reason: String,
    },

    /// `full_clean()` found problems.
    #[error("{0}")]
    Validation(ValidationErrors),

    /// The registered models break one of Django's system checks.
    #[error("model check failed:\n{}", .0.join("\n"))]
    Check(Vec<String>),

    /// A hook (signal receiver) refused the operation; everything it was part
    /// of is rolled back.
    #[error("{hook} hook of {model} failed: {message}")]
    Hook {
        /// `pre_save`, `post_save`, `pre_delete` or `post_delete`.
        hook: &'static str,
        /// The model.
        model: &'static str,
        /// The hook's message.
        message: String,
    },

    /// The query builder was used in a way that has no meaning (Django's
    /// `TypeError`s, such as `delete()` after `limit`).
    #[error("{0}")]
    Usage(String),

    /// `migrate` found tables that do not match the models; nothing was
    /// changed.
    #[error("the database does not match the models:\n  {}", .differences.join("\n  "))]
    SchemaDrift {
        /// Every difference, one per line, naming table, column and field.
        differences: Vec<String>,
    },

    /// A query exceeds a documented limit of the ORM or the database (`Q`
    /// nesting depth, bound values per statement); nothing ran.
    #[error("{message}")]
    Limit {
        /// What exceeded which limit, and what to do instead.
        message: String,
    },

    /// The database stayed locked by another connection for longer than the
    /// busy timeout (SQLITE_BUSY / SQLITE_LOCKED); the operation was rolled
    /// back and may be retried.
    #[error("database is busy: {message}")]
    Busy {
        /// The database's own message.
        message: String,
    },

    /// A bulk operation or a save with `update_fields` refused its input,
    /// or found no row to write (Django's `ValueError`s of `bulk_create()` and
    /// `bulk_update()`, and the `DatabaseError` of `save(update_fields=...)`);
    /// the message is Django's. Nothing was written.
    #[error("{message}")]
    Refused {
        /// The operation: `bulk_create`, `bulk_update` or `save`.
        op: &'static str,
        /// The model.
        model: &'static str,
        /// Django's message.
        message: String,
    },

    /// A file of a `FieldFile` or `ImageFile` could not be stored, read or
    /// deleted, or its name or content was refused (feature `files`).
    #[error("file '{name}': {reason}")]
    Storage {
        /// The file's name, as given or as stored.
        name: String,
        /// What went wrong.
        kind: StorageErrorKind,
        /// Why, in words.
        reason: String,
    },

    /// Any other SQLite error.
    #[error(transparent)]
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for Error {
    fn from(err: rusqlite::Error) -> Self {
        Error::from_sqlite(err)
    }
}

impl Error {
    /// Shorthand for a [`Error::Hook`] returned by a hook body.
    pub fn hook(message: impl Into<String>) -> Self {
        Error::Hook {
            hook: "user",
            model: "",
            message: message.into(),
        }
    }

    /// True for [`Error::DoesNotExist`] and [`Error::RelatedObjectDoesNotExist`]
    /// (both are Django `ObjectDoesNotExist`).
    pub fn is_does_not_exist(&self) -> bool {
        matches!(
            self,
            Error::DoesNotExist { .. } | Error::RelatedObjectDoesNotExist { .. }
        )
    }

    /// Maps a rusqlite error to the typed variants (integrity, missing table).
    pub(crate) fn from_sqlite(err: rusqlite::Error) -> Self {
        let text = match &err {
            rusqlite::Error::SqliteFailure(_, Some(m)) => Some(m.as_str()),
            rusqlite::Error::SqlInputError { msg, .. } => Some(msg.as_str()),
            _ => None,
        };
        if let Some(m) = text {
            if m.starts_with("too many SQL variables") {
                return Error::Limit {
                    message: "the statement binds more values than SQLite allows (32,766); \
                              pass long lists to is_in (bound as one value) or split the work"
                        .into(),
                };
            }
            if m.starts_with("Expression tree is too large") {
                return Error::Limit {
                    message: format!("{m}: the filter nests too deeply for SQLite"),
                };
            }
        }
        // Keep errors readable: a statement can be hundreds of kilobytes.
        let err = match err {
            rusqlite::Error::SqlInputError {
                error,
                msg,
                sql,
                offset,
            } if sql.len() > 300 => {
                let mut end = 300;
                while !sql.is_char_boundary(end) {
                    end -= 1;
                }
                rusqlite::Error::SqlInputError {
                    error,
                    msg,
                    sql: format!("{}... ({} bytes)", &sql[..end], sql.len()),
                    offset,
                }
            }
            err => err,
        };
        if let rusqlite::Error::SqliteFailure(code, Some(msg)) = &err {
            if let Some(rest) = msg.strip_prefix("no such table: ") {
                return Error::NoSuchTable {
                    table: rest.trim().to_string(),
                };
            }
            if code.code == rusqlite::ErrorCode::ConstraintViolation {
                return integrity_from_message(msg);
            }
        }
        if let rusqlite::Error::SqliteFailure(code, msg) = &err {
            if matches!(
                code.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ) {
                return Error::Busy {
                    message: msg.clone().unwrap_or_else(|| code.to_string()),
                };
            }
        }
        Error::Sqlite(err)
    }
}

fn integrity_from_message(msg: &str) -> Error {
    let (kind, rest) = if let Some(r) = msg.strip_prefix("UNIQUE constraint failed: ") {
        (Constraint::Unique, r)
    } else if let Some(r) = msg.strip_prefix("NOT NULL constraint failed: ") {
        (Constraint::NotNull, r)
    } else if msg.starts_with("FOREIGN KEY constraint failed") {
        (Constraint::ForeignKey, "")
    } else {
        (Constraint::Other, "")
    };
    let mut table = String::new();
    let mut columns = Vec::new();
    for part in rest.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        match part.split_once('.') {
            Some((t, c)) => {
                table = t.to_string();
                columns.push(c.to_string());
            }
            None => columns.push(part.to_string()),
        }
    }
    Error::Integrity {
        kind,
        table,
        columns,
        message: msg.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_message_names_table_and_column() {
        let e = integrity_from_message("UNIQUE constraint failed: app_profile.user_id");
        match &e {
            Error::Integrity {
                kind,
                table,
                columns,
                ..
            } => {
                assert_eq!(*kind, Constraint::Unique);
                assert_eq!(table, "app_profile");
                assert_eq!(columns, &["user_id"]);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            e.to_string(),
            "UNIQUE constraint failed: app_profile.user_id"
        );
    }

    #[test]
    fn protected_message_reads_like_django() {
        let e = Error::Protected {
            model: "P",
            keys: vec!["R.p".into()],
            objects: vec![],
        };
        assert_eq!(
            e.to_string(),
            "Cannot delete some instances of model 'P' because they are referenced through protected foreign keys: 'R.p'."
        );
    }
}
