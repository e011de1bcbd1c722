//! # orm-core
//!
//! Django's one-to-one relationship model over SQLite: `#[derive(Model)]`
//! structs, `#[one_to_one(...)]` fields that become UNIQUE foreign keys with
//! forward and reverse accessors, a typed query builder with joins across
//! relations, the deletion collector with every `on_delete` rule, and
//! multi-table inheritance.
//!
//! ```
//! use orm_core::prelude::*;
//!
//! #[derive(Model, Debug, Clone)]
//! #[model(app = "auth")]
//! pub struct User {
//!     pub id: Option<i64>,
//!     #[field(unique, max_length = 150)]
//!     pub username: String,
//!     pub is_staff: bool,
//! }
//!
//! #[derive(Model, Debug, Clone)]
//! #[model(app = "app")]
//! pub struct Profile {
//!     pub id: Option<i64>,
//!     #[one_to_one(on_delete = "cascade", related_name = "profile")]
//!     pub user: OneToOne<User>,
//!     pub bio: Option<String>,
//! }
//!
//! let db = Db::open_in_memory()?;
//! db.migrate()?;
//! let mut u = User { id: None, username: "johndoe".into(), is_staff: false };
//! u.save(&db)?;
//! let mut p = Profile { id: None, user: OneToOne::to(&u), bio: Some("Hello".into()) };
//! p.save(&db)?;
//!
//! assert_eq!(p.user.get(&db)?.username, "johndoe");       // forward, cached: no query
//! assert_eq!(u.profile(&db)?.bio.as_deref(), Some("Hello")); // reverse
//!
//! let rows = Profile::objects()
//!     .filter(Profile::user().then(User::username()).eq("johndoe"))
//!     .select_related(Profile::user())
//!     .all(&db)?;
//! assert_eq!(rows.len(), 1);
//!
//! let deleted = u.delete(&db)?;
//! assert_eq!(deleted.to_string(), r#"(2, {"app.Profile": 1, "auth.User": 1})"#);
//! # Ok::<(), orm_core::Error>(())
//! ```
//!
//! See the README for the tour and ARCHITECTURE.md for how it is built.

// Lets the derive's absolute `::orm_core::` paths work inside this crate's tests.
#[allow(unused_extern_crates)] // used by derive output in this crate's own tests
extern crate self as orm_core;

// The layers, lowest first; each folder imports only from the ones above it
// in this list (checked by tests/layers.rs). `error` is shared by all.
mod error;
mod exec;
pub mod meta;
mod ops;
pub mod query;
mod sql;
// Files of `FieldFile`/`ImageFile` fields: outside the database layers, it
// uses only `meta` (the field types) and `error`.
#[cfg(feature = "files")]
pub mod storage;

#[doc(hidden)]
pub mod __private;

/// The deletion collector's result, at the path it had before the collector
/// moved to `ops::delete` (it is also re-exported as [`crate::Deleted`]).
pub mod delete {
    pub use crate::ops::delete::Deleted;
}

/// Django's schema as SQLite DDL (`CREATE TABLE` per model, `sqlmigrate`'s
/// text).
pub mod schema {
    pub use crate::sql::schema::{column_order, create_table, sql_create_all, CreateTable};
}

/// The model registry (every `#[derive(Model)]` type linked in).
pub mod registry {
    pub use crate::meta::registry::*;
}

/// Rendering a query as SQLite text (also [`QuerySet::to_sql`]).
pub mod render {
    pub use crate::sql::select::{quote, select, LoadPlan, Select};
}

/// Serde support for relations (feature `serde`): `OneToOne<T>` serializes
/// as its key; [`serde::nested`] writes the loaded object instead.
#[cfg(feature = "serde")]
pub mod serde {
    pub use crate::exec::serde::nested;
}

pub use delete::Deleted;
pub use error::{Blocker, Constraint, Error, Result, StorageErrorKind, ValidationErrors};
pub use exec::db::{Captured, Db};
pub use exec::hooks::Hooks;
#[cfg(feature = "pool")]
pub use exec::pool::{Pool, PooledDb};
pub use exec::prefetch::prefetch_related_objects;
pub use exec::record::DynModel;
pub use exec::related::OneToOne;
pub use exec::Stream;
pub use meta::choices::{ChoiceValue, Choices};
#[cfg(feature = "json")]
pub use meta::types::Json;
pub use meta::types::{ColumnType, FieldType, Stored, ToValue};
#[cfg(feature = "files")]
pub use meta::types::{FieldFile, ImageFile};
pub use meta::OnDelete;
pub use ops::model::Model;
pub use orm_derive::{extends, Choices, Model};
pub use query::{Col, Order, QuerySet, Rel, Q};
pub use rusqlite::types::{Value, ValueRef};
#[cfg(feature = "files")]
pub use storage::{FileSystemStorage, Storage};

/// Everything a model file needs: `use orm_core::prelude::*;`.
pub mod prelude {
    pub use crate::{
        Choices, Db, Deleted, Error, Model, OneToOne, Order, QuerySet, Result, Value, Q,
    };
}
