//! The one writer: appends SQL text and pushes bound values in the same
//! call, so the two cannot get out of step, and quotes identifiers through the
//! dialect (the only place identifiers are written).

use rusqlite::types::Value;

use super::dialect::Dialect;

/// SQL text being written, with its bound values in order.
pub(crate) struct Writer<'d> {
    pub(crate) sql: String,
    pub(crate) params: Vec<Value>,
    pub(crate) dialect: &'d dyn Dialect,
    /// Placeholders written so far (bound values and slots).
    placeholders: usize,
}

impl<'d> Writer<'d> {
    pub(crate) fn new(dialect: &'d dyn Dialect) -> Writer<'d> {
        Writer {
            sql: String::with_capacity(128),
            params: Vec::new(),
            dialect,
            placeholders: 0,
        }
    }

    /// Appends SQL keywords or punctuation (never an identifier or a value).
    #[inline]
    pub(crate) fn push(&mut self, s: &str) {
        self.sql.push_str(s);
    }

    /// Appends a quoted identifier.
    #[inline]
    pub(crate) fn ident(&mut self, name: &str) {
        self.dialect.quote(&mut self.sql, name);
    }

    /// Appends a placeholder and binds `v` to it.
    #[inline]
    pub(crate) fn bind(&mut self, v: Value) {
        self.params.push(v);
        self.slot();
    }

    /// Appends a placeholder whose value the caller binds when it runs the
    /// statement (statements prepared once and run with each row's values).
    #[inline]
    pub(crate) fn slot(&mut self) {
        self.placeholders += 1;
        self.dialect.placeholder(&mut self.sql, self.placeholders);
    }

    /// Appends an integer literal (LIMIT/OFFSET: a bound LIMIT makes SQLite
    /// re-prepare, and the text stays cacheable per value).
    pub(crate) fn int(&mut self, n: i64) {
        use std::fmt::Write;
        let _ = write!(self.sql, "{n}");
    }

    /// The finished statement.
    pub(crate) fn finish(self) -> (String, Vec<Value>) {
        (self.sql, self.params)
    }
}
