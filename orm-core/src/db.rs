//! The database handle: connection, transactions, statement cache, the query
//! counter, the reverse-relation cache and the hooks.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::Path;

use rusqlite::{CachedStatement, Connection};

use crate::error::{Error, Result};
use crate::meta::{ModelMeta, RelationMeta};
use crate::registry::registry;
use crate::signals::Hooks;

/// SQL text of the statements a block ran, as captured by [`Db::capture`]
/// (Django's `CaptureQueriesContext`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    /// Every statement, in order. Transaction control (`BEGIN`, `SAVEPOINT`...) is not listed.
    pub queries: Vec<String>,
}

impl Captured {
    /// How many statements ran.
    pub fn len(&self) -> usize {
        self.queries.len()
    }

    /// True when no statement ran.
    pub fn is_empty(&self) -> bool {
        self.queries.is_empty()
    }
}

/// A hashable form of a key value, for the reverse-relation cache.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum CacheKey {
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
    Real(u64),
}

impl CacheKey {
    pub(crate) fn of(v: &rusqlite::types::Value) -> Option<CacheKey> {
        use rusqlite::types::Value;
        Some(match v {
            Value::Integer(i) => CacheKey::Int(*i),
            Value::Text(s) => CacheKey::Text(s.clone()),
            Value::Blob(b) => CacheKey::Blob(b.clone()),
            Value::Real(r) => CacheKey::Real(r.to_bits()),
            Value::Null => return None,
        })
    }
}

/// A cached reverse one-to-one result: `None` is "known to be missing".
pub(crate) type CachedRelated = Option<Box<dyn Any>>;

/// The reverse cache's hasher. Integer keys (row ids, relation addresses) are
/// mixed with a per-map random seed in a few instructions; text and blob keys
/// still go through std's randomly keyed SipHash. With SipHash for every key,
/// hashing was about a fifth of the reverse accessor's cost (benches, W3).
#[derive(Clone)]
pub(crate) struct KeyState {
    seed: u64,
    sip: std::collections::hash_map::RandomState,
}

impl Default for KeyState {
    fn default() -> Self {
        use std::hash::BuildHasher;
        let sip = std::collections::hash_map::RandomState::new();
        KeyState {
            seed: sip.hash_one(0x5eed_u64),
            sip,
        }
    }
}

impl std::hash::BuildHasher for KeyState {
    type Hasher = KeyHasher;
    fn build_hasher(&self) -> KeyHasher {
        KeyHasher {
            h: self.seed,
            state: self.sip.clone(),
            sip: None,
        }
    }
}

/// See [`KeyState`].
pub(crate) struct KeyHasher {
    h: u64,
    state: std::collections::hash_map::RandomState,
    sip: Option<std::collections::hash_map::DefaultHasher>,
}

impl std::hash::Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        use std::hash::BuildHasher;
        let state = &self.state;
        self.sip
            .get_or_insert_with(|| state.build_hasher())
            .write(bytes);
    }
    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.h = (self.h.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn finish(&self) -> u64 {
        // The multiply mixes upwards; the rotation brings mixed bits to the
        // low end, which hashbrown uses for the bucket index.
        let h = self.h.rotate_left(26);
        match &self.sip {
            Some(s) => s.finish() ^ h,
            None => h,
        }
    }
}

/// Reverse one-to-one results, per relation and owner key. Any write to the
/// model that holds the key drops that relation's entries, so a cached answer
/// is never stale with respect to writes made through this handle.
#[derive(Default)]
pub(crate) struct RelationCache {
    by_rel: HashMap<usize, HashMap<CacheKey, CachedRelated, KeyState>, KeyState>,
}

impl RelationCache {
    fn rel_key(rel: &RelationMeta) -> usize {
        rel as *const RelationMeta as usize
    }

    pub(crate) fn get(&self, rel: &RelationMeta, owner: &CacheKey) -> Option<&CachedRelated> {
        self.by_rel.get(&Self::rel_key(rel))?.get(owner)
    }

    pub(crate) fn put(&mut self, rel: &RelationMeta, owner: CacheKey, value: CachedRelated) {
        self.by_rel
            .entry(Self::rel_key(rel))
            .or_default()
            .insert(owner, value);
    }

    /// Drops every entry of the relations declared on `model` (and its ancestors).
    /// Also drops those declared on its multi-table descendants, whose cached
    /// instances embed this table's row.
    pub(crate) fn invalidate(&mut self, model: &'static ModelMeta) {
        if self.by_rel.is_empty() {
            return;
        }
        for m in model.chain() {
            for (_, rel) in m.relations() {
                self.by_rel.remove(&Self::rel_key(rel));
            }
        }
        self.invalidate_descendants(model);
    }

    fn invalidate_descendants(&mut self, model: &'static ModelMeta) {
        for r in registry().reverse_of(model) {
            if r.rel.parent_link {
                for (_, rel) in r.source.relations() {
                    self.by_rel.remove(&Self::rel_key(rel));
                }
                self.invalidate_descendants(r.source);
            }
        }
    }

    pub(crate) fn clear(&mut self) {
        self.by_rel.clear();
    }
}

/// A connection to one SQLite database, with everything the ORM keeps per
/// connection.
///
/// Every connection runs `PRAGMA foreign_keys = ON`. The registered models are
/// checked when the first `Db` opens: a clash Django's system checks would
/// report makes `open` fail with [`Error::Check`].
///
/// # Examples
///
/// ```
/// use orm_core::Db;
/// let db = Db::open_in_memory()?;
/// db.migrate()?;
/// # Ok::<(), orm_core::Error>(())
/// ```
pub struct Db {
    conn: Connection,
    queries: Cell<u64>,
    log: RefCell<Option<Vec<String>>>,
    depth: Cell<u32>,
    pub(crate) cache: RefCell<RelationCache>,
    pub(crate) hooks: Hooks,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("queries", &self.queries.get())
            .field("depth", &self.depth.get())
            .finish_non_exhaustive()
    }
}

impl Db {
    /// Opens a private in-memory database.
    ///
    /// # Errors
    ///
    /// [`Error::Check`] when the registered models fail a system check;
    /// [`Error::Sqlite`] when SQLite cannot open.
    pub fn open_in_memory() -> Result<Db> {
        Self::from_connection(Connection::open_in_memory()?)
    }

    /// Opens (or creates) a database file.
    ///
    /// # Errors
    ///
    /// As [`Db::open_in_memory`].
    pub fn open(path: impl AsRef<Path>) -> Result<Db> {
        Self::from_connection(Connection::open(path)?)
    }

    /// Wraps an existing rusqlite connection (turning foreign keys on).
    ///
    /// # Errors
    ///
    /// As [`Db::open_in_memory`].
    pub fn from_connection(conn: Connection) -> Result<Db> {
        let errors = registry().check_errors();
        if !errors.is_empty() {
            return Err(Error::Check(errors.to_vec()));
        }
        conn.execute_batch("PRAGMA foreign_keys = ON;")?;
        conn.set_prepared_statement_cache_capacity(256);
        Ok(Db {
            conn,
            queries: Cell::new(0),
            log: RefCell::new(None),
            depth: Cell::new(0),
            cache: RefCell::new(RelationCache::default()),
            hooks: Hooks::default(),
        })
    }

    /// The underlying rusqlite connection, for SQL the ORM does not express.
    /// Statements run through it are not counted, and writes made through it
    /// do not invalidate the reverse-relation cache: call [`Db::clear_cache`].
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Drops every cached reverse one-to-one result.
    pub fn clear_cache(&self) {
        self.cache.borrow_mut().clear();
    }

    /// How many SQL statements this handle has run (transaction control excluded).
    pub fn query_count(&self) -> u64 {
        self.queries.get()
    }

    /// Runs `f` and returns its result with the SQL it ran (Django's
    /// `CaptureQueriesContext`; `assertNumQueries` is `captured.len()`).
    ///
    /// # Examples
    ///
    /// ```
    /// # use orm_core::Db;
    /// let db = Db::open_in_memory()?;
    /// let ((), captured) = db.capture(|| ());
    /// assert_eq!(captured.len(), 0);
    /// # Ok::<(), orm_core::Error>(())
    /// ```
    pub fn capture<T>(&self, f: impl FnOnce() -> T) -> (T, Captured) {
        let outer = self.log.replace(Some(Vec::new()));
        let out = f();
        let mine = self.log.replace(outer).unwrap_or_default();
        if let Some(outer) = self.log.borrow_mut().as_mut() {
            outer.extend(mine.iter().cloned());
        }
        (out, Captured { queries: mine })
    }

    /// Records one statement about to run.
    #[inline]
    pub(crate) fn note(&self, sql: &str) {
        self.queries.set(self.queries.get() + 1);
        if let Some(log) = self.log.borrow_mut().as_mut() {
            log.push(sql.to_string());
        }
    }

    /// A prepared statement from the cache, counted as one statement.
    #[inline]
    pub(crate) fn prepare(&self, sql: &str) -> Result<CachedStatement<'_>> {
        self.note(sql);
        self.conn.prepare_cached(sql).map_err(Error::from_sqlite)
    }

    /// Runs one statement with bound values; returns the number of changed rows.
    pub(crate) fn execute(&self, sql: &str, params: &[rusqlite::types::Value]) -> Result<usize> {
        let mut stmt = self.prepare(sql)?;
        stmt.execute(rusqlite::params_from_iter(params.iter()))
            .map_err(Error::from_sqlite)
    }

    /// True inside [`Db::atomic`].
    pub fn in_transaction(&self) -> bool {
        self.depth.get() > 0
    }

    /// Runs `f` in a transaction (Django's `atomic`): committed when `f`
    /// returns `Ok`, rolled back when it returns `Err`. Nested calls use
    /// savepoints, so an inner failure rolls back only the inner block.
    ///
    /// # Errors
    ///
    /// Whatever `f` returns, or the error of `BEGIN`/`COMMIT` (a deferred
    /// foreign key violation surfaces at `COMMIT` as [`Error::Integrity`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # use orm_core::{Db, Error};
    /// let db = Db::open_in_memory()?;
    /// let r: Result<(), Error> = db.atomic(|_| Err(Error::Usage("nope".into())));
    /// assert!(r.is_err());
    /// # Ok::<(), orm_core::Error>(())
    /// ```
    pub fn atomic<T>(&self, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        let depth = self.depth.get();
        let (begin, commit, rollback) = if depth == 0 {
            (
                "BEGIN".to_string(),
                "COMMIT".to_string(),
                "ROLLBACK".to_string(),
            )
        } else {
            let name = format!("orm_sp_{depth}");
            (
                format!("SAVEPOINT {name}"),
                format!("RELEASE {name}"),
                format!("ROLLBACK TO {name}; RELEASE {name}"),
            )
        };
        self.conn
            .execute_batch(&begin)
            .map_err(Error::from_sqlite)?;
        self.depth.set(depth + 1);
        let out = f(self);
        self.depth.set(depth);
        match out {
            Ok(v) => match self.conn.execute_batch(&commit) {
                Ok(()) => Ok(v),
                Err(e) => {
                    let _ = self.conn.execute_batch(&rollback);
                    self.clear_cache();
                    Err(Error::from_sqlite(e))
                }
            },
            Err(e) => {
                let _ = self.conn.execute_batch(&rollback);
                self.clear_cache();
                Err(e)
            }
        }
    }

    /// Creates the table of every registered model that does not exist yet, in
    /// dependency order (Django's `migrate` for new models). Idempotent.
    ///
    /// # Errors
    ///
    /// [`Error::Sqlite`] when SQLite rejects the DDL.
    pub fn migrate(&self) -> Result<()> {
        self.atomic(|db| {
            for stmt in crate::schema::create_statements(crate::registry::models()) {
                db.note(&stmt.sql);
                db.conn
                    .execute_batch(&stmt.sql_if_not_exists())
                    .map_err(Error::from_sqlite)?;
            }
            Ok(())
        })
    }

    /// The DDL `migrate` runs, as Django's `sqlmigrate` prints it.
    pub fn sql_create_all(&self) -> String {
        crate::schema::sql_create_all(crate::registry::models())
    }

    /// Forgets cached reverse results for relations declared on `model`; called
    /// on every write to it.
    pub(crate) fn wrote(&self, model: &'static ModelMeta) {
        self.cache.borrow_mut().invalidate(model);
    }
}
