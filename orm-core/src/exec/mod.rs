//! Running statements: the database handle and its connection, the
//! per-handle statement texts, row decoding into models, the relation caches,
//! prefetch, streams, the hook registry and the pool.

pub(crate) mod db;
pub(crate) mod hooks;
#[cfg(feature = "pool")]
pub(crate) mod pool;
pub(crate) mod prefetch;
pub(crate) mod queryset;
pub(crate) mod record;
pub(crate) mod related;
#[cfg(feature = "serde")]
pub(crate) mod serde;
pub(crate) mod statements;

pub use queryset::Stream;
pub(crate) use queryset::{bind_all, exists_dyn};
