//! The database handle: connection, transactions, statement cache, the query
//! counter, the reverse-relation cache and the hooks.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::Path;

use rusqlite::{CachedStatement, Connection};

use crate::error::{Error, Result};
use crate::exec::hooks::Hooks;
use crate::meta::registry::registry;
use crate::meta::{ModelMeta, RelationMeta};

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
pub(crate) type CachedRelated = Option<Box<dyn Any + Send + Sync>>;

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

/// Reverse one-to-one results, per relation and owner key. Any write through
/// the handle empties it (a cached object may embed rows of any model through
/// its own `select_related` caches), and so does a commit by another
/// connection (`PRAGMA data_version`), so a cached answer is never stale with
/// respect to writes the program made.
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

    pub(crate) fn clear(&mut self) {
        if !self.by_rel.is_empty() {
            self.by_rel.clear();
        }
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
    /// True for a file database, which other connections may change.
    shared: bool,
    /// The last `PRAGMA data_version` seen, see [`Db::sync_cache`].
    data_version: Cell<i64>,
    /// Borrowed only for one `get`/`put`/`clear` at a time, never while user
    /// code (a hook, a `capture` closure) runs, so the `borrow`/`borrow_mut`
    /// calls cannot meet another borrow. (A cached model is cloned under the
    /// shared borrow in `reverse_get`, and replaced entries are dropped under
    /// the exclusive one: the derived `Clone` and the fields' drops never
    /// reach a `Db`; only a hand-written `Clone` or `Drop` on a model that
    /// writes through this `Db`, found in some global, could.)
    pub(crate) cache: RefCell<RelationCache>,
    /// Tables read by the [`crate::Stream`]s open on this handle (one entry
    /// per stream and table); writes to them are refused while it is open.
    streaming: RefCell<Vec<&'static ModelMeta>>,
    pub(crate) hooks: std::sync::Arc<Hooks>,
    /// How statements are written for this connection's database.
    pub(crate) dialect: &'static dyn crate::sql::Dialect,
    /// Model statements rendered with `dialect`, see `crate::exec::statements`.
    pub(crate) texts: RefCell<crate::exec::statements::Texts>,
    /// Deletes running on this handle (a hook may delete inside a delete);
    /// each uses its own range of numbers in the collector's key table.
    delete_depth: Cell<u32>,
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
        Self::open_with_hooks(path, std::sync::Arc::default())
    }

    /// [`Db::open`] sharing `hooks` (how a [`crate::Pool`] opens its handles).
    pub(crate) fn open_with_hooks(
        path: impl AsRef<Path>,
        hooks: std::sync::Arc<Hooks>,
    ) -> Result<Db> {
        let conn = Connection::open(path)?;
        // WAL: readers never block the writer and the writer never blocks
        // readers, so several handles (threads, processes) can share the file;
        // commits also fsync less. It is a property of the file and stays on.
        // (An in-memory database answers "memory" and is left as it is.)
        let _: String = conn.query_row(crate::sql::sqlite::JOURNAL_WAL, [], |r| r.get(0))?;
        let mut db = Self::from_connection(conn)?;
        db.hooks = hooks;
        Ok(db)
    }

    /// Writes every statement with numbered placeholders (`$1`, `$2`...),
    /// PostgreSQL's style, which SQLite also accepts: the golden tests run
    /// the suite's statements through a second dialect with it.
    #[doc(hidden)]
    pub fn __use_numbered_placeholders(&mut self) {
        self.dialect = &crate::sql::Numbered;
        self.texts = RefCell::default();
    }

    /// Checks that the connection answers (used by the pool).
    #[cfg(feature = "pool")]
    pub(crate) fn ping(&self) -> Result<()> {
        self.conn.execute_batch("").map_err(Error::from_sqlite)
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
        conn.execute_batch(crate::sql::sqlite::FOREIGN_KEYS_ON)?;
        // Another handle holding the write lock makes this one wait up to
        // five seconds (Django's default `timeout`) before `Error::Busy`.
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.set_prepared_statement_cache_capacity(256);
        let shared = conn.path().is_some_and(|p| !p.is_empty());
        Ok(Db {
            shared,
            data_version: Cell::new(-1),
            conn,
            queries: Cell::new(0),
            log: RefCell::new(None),
            depth: Cell::new(0),
            cache: RefCell::new(RelationCache::default()),
            streaming: RefCell::new(Vec::new()),
            dialect: &crate::sql::Sqlite,
            texts: RefCell::default(),
            hooks: std::sync::Arc::default(),
            delete_depth: Cell::new(0),
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
        // Cannot panic: `log` is borrowed only inside `note` and for each
        // statement below, never while `f` (or a hook it triggers) runs, so a
        // nested `capture` finds it free.
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
    #[inline(always)]
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

    /// Enters a delete: returns how many deletes were already running on this
    /// handle (see [`Db::leave_delete`]).
    pub(crate) fn enter_delete(&self) -> u32 {
        let depth = self.delete_depth.get();
        self.delete_depth.set(depth + 1);
        depth
    }

    /// Leaves the delete that [`Db::enter_delete`] entered at `depth`.
    pub(crate) fn leave_delete(&self, depth: u32) {
        self.delete_depth.set(depth);
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
            // IMMEDIATE takes the write lock at once, so two handles writing
            // the same file queue on the busy timeout instead of failing with
            // SQLITE_BUSY when the second one first writes (a DEFERRED
            // transaction cannot wait: its read snapshot may be stale).
            (
                crate::sql::sqlite::BEGIN_IMMEDIATE.to_string(),
                crate::sql::sqlite::COMMIT.to_string(),
                crate::sql::sqlite::ROLLBACK.to_string(),
            )
        } else {
            let name = format!("orm_sp_{depth}");
            (
                crate::sql::sqlite::savepoint(&name),
                crate::sql::sqlite::release(&name),
                crate::sql::sqlite::rollback_to(&name),
            )
        };
        self.conn
            .execute_batch(&begin)
            .map_err(Error::from_sqlite)?;
        self.depth.set(depth + 1);
        // Rolls back and restores the depth when `f` panics: the unwinding
        // drops the guard. Without it the handle would stay inside an open
        // transaction and every later write would be silently discarded.
        let guard = Unwind {
            db: self,
            depth,
            rollback: &rollback,
        };
        let out = f(self);
        std::mem::forget(guard);
        self.depth.set(depth);
        match out {
            Ok(v) => match self.conn.execute_batch(&commit) {
                Ok(()) => Ok(v),
                Err(e) => {
                    let err = Error::from_sqlite(e);
                    // A deferred foreign key fails at COMMIT without saying
                    // which row: ask SQLite before rolling back.
                    let err = match err {
                        Error::Integrity {
                            kind: crate::error::Constraint::ForeignKey,
                            ..
                        } => self.foreign_key_failure().unwrap_or(err),
                        err => err,
                    };
                    let _ = self.conn.execute_batch(&rollback);
                    self.clear_cache();
                    Err(err)
                }
            },
            Err(e) => {
                let _ = self.conn.execute_batch(&rollback);
                self.clear_cache();
                Err(e)
            }
        }
    }

    /// Names the row a deferred foreign key failure is about (`PRAGMA
    /// foreign_key_check`, run inside the failing transaction).
    fn foreign_key_failure(&self) -> Option<Error> {
        let mut stmt = self
            .conn
            .prepare(crate::sql::sqlite::FOREIGN_KEY_CHECK)
            .ok()?;
        let mut rows = stmt.query([]).ok()?;
        let row = rows.next().ok()??;
        let table: String = row.get(0).ok()?;
        let rowid: Option<i64> = row.get(1).ok()?;
        let parent: String = row.get(2).ok()?;
        let fkid: i64 = row.get(3).ok()?;
        drop(rows);
        drop(stmt);
        let mut list = self
            .conn
            .prepare(&crate::sql::sqlite::foreign_key_list(&table))
            .ok()?;
        let column: String = list
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(3)?)))
            .ok()?
            .filter_map(|r| r.ok())
            .find(|(id, _)| *id == fkid)
            .map(|(_, c)| c)?;
        let value: Option<rusqlite::types::Value> = rowid.and_then(|id| {
            self.conn
                .query_row(
                    &crate::sql::sqlite::column_by_rowid(&table, &column),
                    [id],
                    |r| r.get(0),
                )
                .ok()
        });
        let value = value
            .map(|v| crate::error::display_value(&v))
            .unwrap_or_else(|| "?".into());
        Some(Error::Integrity {
            kind: crate::error::Constraint::ForeignKey,
            message: format!(
                "FOREIGN KEY constraint failed: {table}.{column} = {value} refers to no row of {parent}"
            ),
            table,
            columns: vec![column],
        })
    }

    /// Creates the table of every registered model that does not exist yet, in
    /// dependency order (Django's `migrate` for new models). Idempotent.
    ///
    /// Tables that exist are compared with the models first (`PRAGMA
    /// table_xinfo`): a missing column, a different type, nullability or
    /// primary key, or an unknown NOT NULL column is reported, every one at
    /// once, and nothing is created. Until migrations exist, change such a
    /// table by hand (or recreate it).
    ///
    /// # Errors
    ///
    /// [`Error::SchemaDrift`] listing every difference; [`Error::Sqlite`]
    /// when SQLite rejects the DDL.
    pub fn migrate(&self) -> Result<()> {
        self.atomic(|db| {
            let models = crate::meta::registry::models();
            // Tables that already exist must match the models: a missing
            // column or a changed type would otherwise fail (or silently
            // convert values) at the first query.
            let drift = crate::sql::schema::drift(&db.conn, models).map_err(Error::from_sqlite)?;
            if !drift.is_empty() {
                return Err(Error::SchemaDrift { differences: drift });
            }
            for stmt in crate::sql::schema::create_statements(models) {
                db.note(&stmt.sql);
                let tree = crate::sql::schema::table_tree(db.dialect, stmt.model, true);
                let (text, _) = crate::sql::select::write(db.dialect, stmt.model, &tree)?;
                db.conn.execute_batch(&text).map_err(Error::from_sqlite)?;
            }
            Ok(())
        })
    }

    /// The DDL `migrate` runs, as Django's `sqlmigrate` prints it.
    pub fn sql_create_all(&self) -> String {
        crate::sql::schema::sql_create_all(crate::meta::registry::models())
    }

    /// Refuses a write to `table` while a stream over it is open on this
    /// handle: SQLite gives no isolation between statements of one connection,
    /// so the stream could see the write (a loop creating a row per streamed
    /// row would never end). Django documents the same hazard for
    /// `iterator()`; here it is an error instead of undefined results.
    #[inline]
    pub(crate) fn before_write(&self, table: &'static ModelMeta) -> Result<()> {
        let streaming = self.streaming.borrow();
        if streaming.is_empty() {
            return Ok(());
        }
        if let Some(m) = streaming.iter().find(|m| m.same_concrete(table)) {
            return Err(Error::Usage(format!(
                "cannot write to {} ({}) while a stream over it is open on this handle: \
                 collect the rows first (`all()`), or drop the stream before writing",
                m.name, m.table
            )));
        }
        Ok(())
    }

    /// Registers the tables a stream reads, until [`Db::stream_closed`].
    pub(crate) fn stream_opened(&self, tables: &[&'static ModelMeta]) {
        self.streaming.borrow_mut().extend_from_slice(tables);
    }

    /// Unregisters what [`Db::stream_opened`] registered.
    pub(crate) fn stream_closed(&self, tables: &[&'static ModelMeta]) {
        let mut streaming = self.streaming.borrow_mut();
        for t in tables {
            if let Some(i) = streaming.iter().position(|m| m.is(t)) {
                streaming.swap_remove(i);
            }
        }
    }

    /// Forgets cached reverse results; called on every write (to `model`).
    ///
    /// The whole cache goes, not only the relations declared on `model`: a
    /// cached object can hold rows of any model in its nested caches
    /// (`select_related("b__c")` then `c.save()`), and an empty map is cheap
    /// to clear, so writes cost nothing when nothing is cached.
    pub(crate) fn wrote(&self, _model: &'static ModelMeta) {
        self.cache.borrow_mut().clear();
    }

    /// Empties the reverse cache when another connection committed since the
    /// last look (`PRAGMA data_version`; file databases only, since a private
    /// in-memory database has no other connection). Called before every
    /// cache read.
    #[inline]
    pub(crate) fn sync_cache(&self) {
        if self.shared {
            self.sync_shared_cache();
        }
    }

    /// [`Db::sync_cache`] for a file database.
    fn sync_shared_cache(&self) {
        let version = self
            .conn
            .prepare_cached(crate::sql::sqlite::DATA_VERSION)
            .and_then(|mut s| s.query_row([], |r| r.get::<_, i64>(0)));
        match version {
            Ok(v) if v == self.data_version.get() => {}
            Ok(v) => {
                self.data_version.set(v);
                self.clear_cache();
            }
            Err(_) => self.clear_cache(),
        }
    }
}

/// Rolls an [`Db::atomic`] block back when a panic unwinds through it.
struct Unwind<'a> {
    db: &'a Db,
    depth: u32,
    rollback: &'a str,
}

impl Drop for Unwind<'_> {
    fn drop(&mut self) {
        let _ = self.db.conn.execute_batch(self.rollback);
        self.db.depth.set(self.depth);
        if let Ok(mut cache) = self.db.cache.try_borrow_mut() {
            cache.clear();
        }
    }
}
