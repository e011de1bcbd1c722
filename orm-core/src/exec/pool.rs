//! A pool of [`Db`] handles on one database file, for web servers and other
//! multi-threaded programs (feature `pool`, on by default; built on r2d2).
//!
//! Every handle of a pool shares the pool's [`Hooks`], so a hook registered
//! once runs whichever thread saves. Handles are `Send`: keep the `Pool` (it
//! is `Clone + Send + Sync`) in the server's state and take a handle per
//! request. From an async server, run ORM calls on a blocking thread
//! (`tokio::task::spawn_blocking(move || { let db = pool.get()?; ... })`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::exec::db::Db;
use crate::exec::hooks::Hooks;

/// Opens handles for the pool, all sharing one set of hooks.
#[derive(Debug)]
struct Manager {
    path: PathBuf,
    hooks: Arc<Hooks>,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Db;
    type Error = Error;

    fn connect(&self) -> Result<Db> {
        Db::open_with_hooks(&self.path, Arc::clone(&self.hooks))
    }

    fn is_valid(&self, db: &mut Db) -> Result<()> {
        db.ping()
    }

    fn has_broken(&self, db: &mut Db) -> bool {
        // A handle is returned outside any transaction (a panic rolls back);
        // one still inside is not handed out again.
        db.in_transaction()
    }
}

/// A pool of handles on one SQLite database file.
///
/// # Examples
///
/// ```
/// use orm_core::prelude::*;
/// use orm_core::Pool;
///
/// #[derive(Model, Debug, Clone)]
/// #[model(app = "docs")]
/// pub struct Visit { pub id: Option<i64>, pub page: String }
///
/// # let dir = std::env::temp_dir().join(format!("orm-pool-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let pool = Pool::open(dir.join("app.sqlite3"))?;
/// pool.get()?.migrate()?;
/// let workers: Vec<_> = (0..4)
///     .map(|i| {
///         let pool = pool.clone();
///         std::thread::spawn(move || -> orm_core::Result<()> {
///             let db = pool.get()?;
///             Visit { id: None, page: format!("/p/{i}") }.save(&db)
///         })
///     })
///     .collect();
/// for w in workers {
///     w.join().unwrap()?;
/// }
/// let db = pool.get()?;
/// assert_eq!(Visit::objects().count(&db)?, 4);
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), orm_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Pool {
    inner: r2d2::Pool<Manager>,
    hooks: Arc<Hooks>,
}

/// A handle borrowed from a [`Pool`]; derefs to [`Db`] and goes back to the
/// pool when dropped.
pub struct PooledDb(r2d2::PooledConnection<Manager>);

impl std::ops::Deref for PooledDb {
    type Target = Db;
    fn deref(&self) -> &Db {
        &self.0
    }
}

impl std::fmt::Debug for PooledDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PooledDb").field(&*self.0).finish()
    }
}

impl Pool {
    /// A pool of up to 8 handles on the database file at `path` (created if
    /// missing), in WAL mode like [`Db::open`].
    ///
    /// # Errors
    ///
    /// As [`Db::open`], for the first handle, which is opened at once.
    pub fn open(path: impl AsRef<Path>) -> Result<Pool> {
        Self::with_size(path, 8)
    }

    /// [`Pool::open`] with at most `max` handles open at once.
    ///
    /// # Errors
    ///
    /// As [`Pool::open`]; [`Error::Usage`] for `max == 0`.
    pub fn with_size(path: impl AsRef<Path>, max: u32) -> Result<Pool> {
        if max == 0 {
            return Err(Error::Usage("a pool needs at least one handle".into()));
        }
        let hooks = Arc::new(Hooks::default());
        let manager = Manager {
            path: path.as_ref().to_path_buf(),
            hooks: Arc::clone(&hooks),
        };
        let inner = r2d2::Pool::builder()
            .max_size(max)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(30))
            .build(manager)
            .map_err(|e| Error::Busy {
                message: format!("could not open the pool: {e}"),
            })?;
        Ok(Pool { inner, hooks })
    }

    /// A handle, waiting up to 30 seconds for one to be free.
    ///
    /// # Errors
    ///
    /// [`Error::Busy`] when every handle stayed in use.
    pub fn get(&self) -> Result<PooledDb> {
        self.inner.get().map(PooledDb).map_err(|e| Error::Busy {
            message: format!("no database handle free in the pool: {e}"),
        })
    }

    /// The hooks every handle of this pool runs.
    pub fn hooks(&self) -> &Hooks {
        &self.hooks
    }
}
