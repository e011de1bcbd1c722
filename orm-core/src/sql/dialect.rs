//! What differs between databases, behind one trait. SQLite is the first
//! implementation; `Numbered` renders PostgreSQL-style `$1` placeholders (and
//! runs on SQLite, which accepts `$NNN` parameters), which proves the seam in
//! the golden tests.

use std::fmt::Write;

use rusqlite::types::Value;

use crate::meta::FieldMeta;
use crate::query::Transform;

use super::writer::Writer;

pub(crate) use crate::query::resolve::PatternKind;

/// The database-specific part of rendering and running statements.
pub(crate) trait Dialect: Send + Sync + std::fmt::Debug {
    /// Appends a quoted identifier: `"name"`, inner quotes doubled.
    fn quote(&self, out: &mut String, ident: &str) {
        out.push('"');
        for c in ident.chars() {
            if c == '"' {
                out.push('"');
            }
            out.push(c);
        }
        out.push('"');
    }

    /// Appends the placeholder of the `n`th bound value (1-based).
    fn placeholder(&self, out: &mut String, n: usize);

    /// The most values one statement may bind.
    fn param_limit(&self) -> usize;

    /// Appends `LIMIT`/`OFFSET` (each at most `i64::MAX`).
    fn limit_offset(&self, w: &mut Writer<'_>, limit: Option<i64>, offset: Option<i64>) {
        match (limit, offset) {
            (Some(l), o) => {
                w.push(" LIMIT ");
                w.int(l);
                if let Some(o) = o {
                    w.push(" OFFSET ");
                    w.int(o);
                }
            }
            (None, Some(o)) => {
                // SQLite needs a LIMIT before OFFSET: -1 is "no limit".
                w.push(" LIMIT -1 OFFSET ");
                w.int(o);
            }
            (None, None) => {}
        }
    }

    /// Writes a byte-exact text pattern test of the expression `col` (already
    /// rendered SQL) against `needle` (non-empty). The `insensitive` forms fold
    /// ASCII case. Returns whether the test can be NULL for a non-NULL column.
    ///
    /// SQLite's GLOB and LIKE stop at the first NUL of the pattern and of the
    /// value, so they are used only where that cannot change the answer (a
    /// prefix test with a needle free of NUL, which an index can serve);
    /// elsewhere bytes are compared (`instr`/`substr` over BLOBs).
    fn pattern(
        &self,
        w: &mut Writer<'_>,
        col: &str,
        kind: PatternKind,
        insensitive: bool,
        needle: &str,
    ) -> bool {
        let lowered;
        let needle = if insensitive {
            lowered = needle.to_ascii_lowercase();
            lowered.as_str()
        } else {
            needle
        };
        let has_nul = needle.contains('\0');
        let hay = if insensitive {
            format!("CAST(lower({col}) AS BLOB)")
        } else {
            format!("CAST({col} AS BLOB)")
        };
        match kind {
            PatternKind::StartsWith if !has_nul && !insensitive => {
                w.push(col);
                w.push(" GLOB ");
                let mut p = String::with_capacity(needle.len() + 1);
                for c in needle.chars() {
                    match c {
                        '*' => p.push_str("[*]"),
                        '?' => p.push_str("[?]"),
                        '[' => p.push_str("[[]"),
                        c => p.push(c),
                    }
                }
                p.push('*');
                w.bind(Value::Text(p));
                false
            }
            PatternKind::StartsWith if !has_nul => {
                w.push(col);
                w.push(" LIKE ");
                w.bind(Value::Text(like_escape(needle, "", "%")));
                w.push(" ESCAPE '\\'");
                false
            }
            PatternKind::StartsWith => {
                let _ = write!(w.sql, "instr({hay}, ");
                w.bind(Value::Blob(needle.as_bytes().to_vec()));
                w.push(") = 1");
                true
            }
            PatternKind::Contains => {
                let _ = write!(w.sql, "instr({hay}, ");
                w.bind(Value::Blob(needle.as_bytes().to_vec()));
                w.push(") > 0");
                true
            }
            PatternKind::EndsWith => {
                // The last len(needle) bytes equal the needle; a value shorter
                // than the needle yields fewer bytes, so never equals it. The
                // `substr` of an empty BLOB is NULL.
                let _ = write!(w.sql, "substr({hay}, -");
                w.bind(Value::Integer(needle.len() as i64));
                w.push(") = ");
                w.bind(Value::Blob(needle.as_bytes().to_vec()));
                true
            }
        }
    }

    /// Writes `col IN <values>` for a list too long to bind value by value
    /// (`json_each` over one bound JSON array on SQLite).
    ///
    /// # Errors
    ///
    /// Why the values cannot be passed that way.
    fn long_in(&self, w: &mut Writer<'_>, col: &str, values: &[Value]) -> Result<(), String> {
        let json = json_array(values)?;
        w.push(col);
        if matches!(values.first(), Some(Value::Blob(_))) {
            w.push(" IN (SELECT unhex(\"value\") FROM json_each(");
        } else {
            w.push(" IN (SELECT \"value\" FROM json_each(");
        }
        w.bind(Value::Text(json));
        w.push("))");
        Ok(())
    }

    /// The DDL type of a column.
    fn column_type(&self, f: &FieldMeta) -> &'static str {
        f.db_type()
    }

    /// The text around a column for a date or time transform (Django's
    /// `django_date_extract` on SQLite, written with `strftime`).
    fn transform(&self, t: &Transform) -> (&'static str, &'static str) {
        let part = |f: &'static str| (f, ") AS INTEGER)");
        match t {
            Transform::Year => part("CAST(strftime('%Y', "),
            Transform::Month => part("CAST(strftime('%m', "),
            Transform::Day => part("CAST(strftime('%d', "),
            Transform::Hour => part("CAST(strftime('%H', "),
            Transform::Minute => part("CAST(strftime('%M', "),
            Transform::Second => part("CAST(strftime('%S', "),
            Transform::Quarter => ("((CAST(strftime('%m', ", ") AS INTEGER) + 2) / 3)"),
            Transform::WeekDay => ("(CAST(strftime('%w', ", ") AS INTEGER) + 1)"),
            Transform::IsoWeekDay => ("((CAST(strftime('%w', ", ") AS INTEGER) + 6) % 7 + 1)"),
            Transform::Date => ("date(", ")"),
            // The text after `YYYY-MM-DD `: the time with its fraction.
            Transform::Time => ("substr(", ", 12)"),
            // Written by the writer with `json_extract` (see below).
            _ => ("", ""),
        }
    }

    /// `json_extract(<col>, <path>)`: the text before the column and after
    /// the bound path.
    fn json_extract(&self) -> (&'static str, &'static str) {
        ("json_extract(", ")")
    }

    /// `json_type(<col>, <path>)`: the JSON type at a path.
    fn json_type(&self) -> (&'static str, &'static str) {
        ("json_type(", ")")
    }

    /// `json_type(<col>, <path>) IS NOT NULL`: a key is present.
    fn json_has_key(&self) -> (&'static str, &'static str) {
        ("json_type(", ") IS NOT NULL")
    }

    /// True when a JSON column is text checked with `JSON_VALID` (SQLite);
    /// false when the type itself is JSON (PostgreSQL's `jsonb`).
    fn json_check(&self) -> bool {
        true
    }

    /// The DDL of an auto-incrementing primary key after its name and type.
    fn auto_key(&self) -> &'static str {
        " NOT NULL PRIMARY KEY AUTOINCREMENT"
    }

    /// `INSERT` that skips rows whose key already exists: the head...
    fn insert_or_ignore_head(&self) -> &'static str {
        "INSERT OR IGNORE INTO "
    }

    /// ...and what follows the values.
    fn insert_or_ignore_tail(&self) -> &'static str {
        ""
    }

    /// The schema-qualified name prefix of temporary tables.
    fn temp_schema(&self) -> Option<&'static str> {
        Some("temp")
    }
}

/// SQLite (rusqlite, bundled).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Sqlite;

impl Dialect for Sqlite {
    #[inline]
    fn placeholder(&self, out: &mut String, _n: usize) {
        out.push('?');
    }

    fn param_limit(&self) -> usize {
        32_766
    }
}

/// SQLite with PostgreSQL-style numbered placeholders (`$1`, `$2`...), which
/// SQLite accepts: every statement the ORM writes renders and runs through a
/// second dialect, so the seam is proven before PostgreSQL arrives.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Numbered;

impl Dialect for Numbered {
    fn placeholder(&self, out: &mut String, n: usize) {
        let _ = write!(out, "${n}");
    }

    fn param_limit(&self) -> usize {
        32_766
    }
}

/// A LIKE pattern matching `text` literally, between `pre` and `post`.
pub(crate) fn like_escape(text: &str, pre: &str, post: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push_str(pre);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push_str(post);
    p
}

/// A JSON array of the values, for `json_each`. Blobs are written as hex
/// (read back with `unhex`), so a list is all blobs or none.
pub(crate) fn json_array(vs: &[Value]) -> Result<String, String> {
    let blobs = matches!(vs.first(), Some(Value::Blob(_)));
    let mut s = String::with_capacity(vs.len() * 8);
    s.push('[');
    for (i, v) in vs.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        match v {
            Value::Blob(b) if blobs => {
                s.push('"');
                for byte in b {
                    let _ = write!(s, "{byte:02x}");
                }
                s.push('"');
            }
            Value::Null if !blobs => s.push_str("null"),
            Value::Integer(n) if !blobs => {
                let _ = write!(s, "{n}");
            }
            Value::Real(r) if !blobs && r.is_finite() => {
                let _ = write!(s, "{r:?}");
            }
            Value::Text(t) if !blobs => {
                s.push('"');
                for c in t.chars() {
                    match c {
                        '"' => s.push_str("\\\""),
                        '\\' => s.push_str("\\\\"),
                        c if (c as u32) < 0x20 => {
                            let _ = write!(s, "\\u{:04x}", c as u32);
                        }
                        c => s.push(c),
                    }
                }
                s.push('"');
            }
            Value::Real(r) if !blobs => return Err(format!("{r} cannot be compared in a list")),
            _ => return Err("a list mixes byte strings with other values".into()),
        }
    }
    s.push(']');
    Ok(s)
}

/// A JSON path as Django compiles it: `$."owner"."name"`, `$[0]` for a
/// number. Keys are JSON-quoted, and the path is a bound value, never text
/// in the statement.
pub(crate) fn json_path(keys: &[String]) -> String {
    let mut out = String::from("$");
    for k in keys {
        if let Ok(i) = k.parse::<u32>() {
            let _ = write!(out, "[{i}]");
        } else {
            out.push('.');
            out.push('"');
            for c in k.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    c => out.push(c),
                }
            }
            out.push('"');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_escapes_wildcards() {
        assert_eq!(like_escape("50%_off\\", "%", "%"), "%50\\%\\_off\\\\%");
    }

    #[test]
    fn long_lists_are_json_arrays_of_one_kind() {
        assert_eq!(
            json_array(&[Value::Integer(1), Value::Text("a\"b".into()), Value::Null]).as_deref(),
            Ok(r#"[1,"a\"b",null]"#)
        );
        assert!(json_array(&[Value::Integer(1), Value::Blob(vec![1])]).is_err());
        assert!(json_array(&[Value::Real(f64::INFINITY)]).is_err());
    }

    #[test]
    fn json_paths_quote_keys_and_index_arrays() {
        let keys =
            |ks: &[&str]| super::json_path(&ks.iter().map(|k| k.to_string()).collect::<Vec<_>>());
        assert_eq!(keys(&["owner", "name"]), r#"$."owner"."name""#);
        assert_eq!(keys(&["tags", "0"]), r#"$."tags"[0]"#);
        assert_eq!(keys(&["we\"ird\\"]), r#"$."we\"ird\\""#);
    }
}
