//! SQL text that depends only on a model, built once and kept in its metadata,
//! so hot paths (get by key, insert, update, reverse lookup) never format SQL.

use std::fmt::Write;
use std::sync::OnceLock;

use crate::meta::{FieldMeta, ModelMeta, RelationMeta};
use crate::query::Spec;
use crate::render::quote;

/// Per-model SQL, filled on first use.
#[derive(Debug, Default)]
pub struct SqlCache {
    get_by_pk: OnceLock<String>,
    insert_with_pk: OnceLock<String>,
    insert_auto: OnceLock<String>,
    update: OnceLock<String>,
    exists: OnceLock<String>,
}

impl SqlCache {
    /// An empty cache (used in the derive's `static`).
    pub const fn new() -> SqlCache {
        SqlCache {
            get_by_pk: OnceLock::new(),
            insert_with_pk: OnceLock::new(),
            insert_auto: OnceLock::new(),
            update: OnceLock::new(),
            exists: OnceLock::new(),
        }
    }
}

/// `SELECT <all columns, ancestors joined> WHERE pk = ?` (no LIMIT: the key is unique).
pub(crate) fn get_by_pk(m: &'static ModelMeta) -> &'static str {
    m.sql.get_by_pk.get_or_init(|| {
        let pk = m.pk_field();
        let sel =
            // Cannot panic: with no filter, order or relation there is no
            // name to resolve, the only way `select` fails.
            crate::render::select(m, &Spec::default()).expect("a plain select always renders");
        format!(
            "{} WHERE {}.{} = ?",
            sel.sql,
            quote(m.table),
            quote(pk.column)
        )
    })
}

/// `SELECT <columns> FROM <source> WHERE <fk> = ?` for a reverse accessor.
pub(crate) fn reverse_lookup(
    source: &'static ModelMeta,
    field: &FieldMeta,
    rel: &'static RelationMeta,
) -> &'static str {
    rel.reverse_sql.get_or_init(|| {
        let sel =
            // Cannot panic, as in `get_by_pk`.
            crate::render::select(source, &Spec::default()).expect("a plain select always renders");
        format!(
            "{} WHERE {}.{} = ?",
            sel.sql,
            quote(source.table),
            quote(field.column)
        )
    })
}

fn columns(m: &ModelMeta, with_pk: bool) -> Vec<&'static FieldMeta> {
    let fields: &'static [FieldMeta] = m.fields;
    fields
        .iter()
        .enumerate()
        .filter(|(i, _)| with_pk || *i != m.pk)
        .map(|(_, f)| f)
        .collect()
}

/// `INSERT INTO t (cols) VALUES (?...)`, with or without the primary key.
pub(crate) fn insert(m: &'static ModelMeta, with_pk: bool) -> &'static str {
    let cell = if with_pk {
        &m.sql.insert_with_pk
    } else {
        &m.sql.insert_auto
    };
    cell.get_or_init(|| {
        let cols = columns(m, with_pk);
        if cols.is_empty() {
            return format!("INSERT INTO {} DEFAULT VALUES", quote(m.table));
        }
        let mut s = format!("INSERT INTO {} (", quote(m.table));
        for (i, f) in cols.iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            s.push_str(&quote(f.column));
        }
        s.push_str(") VALUES (");
        for i in 0..cols.len() {
            s.push_str(if i == 0 { "?" } else { ", ?" });
        }
        s.push(')');
        s
    })
}

/// `UPDATE t SET c = ?... WHERE pk = ?`; `None` when the table has no column besides the key.
pub(crate) fn update(m: &'static ModelMeta) -> Option<&'static str> {
    let s = m.sql.update.get_or_init(|| {
        let cols = columns(m, false);
        if cols.is_empty() {
            return String::new();
        }
        let mut s = format!("UPDATE {} SET ", quote(m.table));
        for (i, f) in cols.iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            let _ = write!(s, "{} = ?", quote(f.column));
        }
        let _ = write!(s, " WHERE {} = ?", quote(m.pk_field().column));
        s
    });
    (!s.is_empty()).then_some(s.as_str())
}

/// `SELECT 1 FROM t WHERE pk = ?`.
pub(crate) fn exists(m: &'static ModelMeta) -> &'static str {
    m.sql.exists.get_or_init(|| {
        format!(
            "SELECT 1 AS \"a\" FROM {} WHERE {} = ?",
            quote(m.table),
            quote(m.pk_field().column)
        )
    })
}
