//! SQLite's connection administration: transaction control, the PRAGMAs the
//! handle sets and the introspection it reads (`table_xinfo`,
//! `foreign_key_check`, `data_version`).

use super::dialect::{Dialect, Sqlite};

/// Starts the outermost transaction, taking the write lock at once: two
/// handles writing the same file then queue on the busy timeout instead of
/// failing when the second first writes.
pub(crate) const BEGIN_IMMEDIATE: &str = "BEGIN IMMEDIATE";
/// Starts a transaction (as `sqlmigrate` prints it).
pub(crate) const BEGIN: &str = "BEGIN";
/// Commits the outermost transaction.
pub(crate) const COMMIT: &str = "COMMIT";
/// Rolls the outermost transaction back.
pub(crate) const ROLLBACK: &str = "ROLLBACK";
/// Turns foreign keys on for the connection.
pub(crate) const FOREIGN_KEYS_ON: &str = "PRAGMA foreign_keys = ON";
/// Switches a file database to WAL (answers the mode now in force).
pub(crate) const JOURNAL_WAL: &str = "PRAGMA journal_mode = WAL";
/// Changes whenever another connection commits.
pub(crate) const DATA_VERSION: &str = "PRAGMA data_version";
/// The rows violating a foreign key: table, rowid, parent, constraint id.
pub(crate) const FOREIGN_KEY_CHECK: &str = "PRAGMA foreign_key_check";

fn quoted(name: &str) -> String {
    let mut s = String::new();
    Sqlite.quote(&mut s, name);
    s
}

/// `SAVEPOINT name`.
pub(crate) fn savepoint(name: &str) -> String {
    format!("SAVEPOINT {}", quoted(name))
}

/// `RELEASE name`.
pub(crate) fn release(name: &str) -> String {
    format!("RELEASE {}", quoted(name))
}

/// Rolls back to a savepoint and releases it.
pub(crate) fn rollback_to(name: &str) -> String {
    let n = quoted(name);
    format!("ROLLBACK TO {n}; RELEASE {n}")
}

/// The columns of a table: cid, name, type, notnull, default, pk, hidden.
pub(crate) fn table_xinfo(table: &str) -> String {
    format!("PRAGMA table_xinfo({})", quoted(table))
}

/// The foreign keys of a table: id, seq, table, from, to...
pub(crate) fn foreign_key_list(table: &str) -> String {
    format!("PRAGMA foreign_key_list({})", quoted(table))
}

/// One column of the row with `rowid` (bound).
pub(crate) fn column_by_rowid(table: &str, column: &str) -> String {
    format!(
        "SELECT {} FROM {} WHERE rowid = ?",
        quoted(column),
        quoted(table)
    )
}
