//! SQL: the statement tree ([`ast`]), the one writer that quotes identifiers
//! and binds values in the same call ([`writer`]), and the [`Dialect`] that
//! owns what differs between databases. No SQL text is written outside this
//! folder.

pub(crate) mod ast;
pub(crate) mod dialect;
pub(crate) mod model;
pub(crate) mod schema;
pub(crate) mod select;
pub(crate) mod sqlite;
pub(crate) mod writer;

pub(crate) use ast::*;
pub(crate) use dialect::{Dialect, Numbered, Sqlite};
pub(crate) use writer::Writer;

use rusqlite::types::Value;

/// Renders `s` with `dialect`.
pub(crate) fn render(
    dialect: &dyn Dialect,
    s: &Statement,
) -> Result<(String, Vec<Value>), Unwritable> {
    let mut w = Writer::new(dialect);
    w.statement(s)?;
    Ok(w.finish())
}
