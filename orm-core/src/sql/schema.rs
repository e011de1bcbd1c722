//! DDL: `CREATE TABLE` statements as Django emits them on SQLite, in
//! dependency order.

use std::fmt::Write;

use crate::meta::{FieldMeta, ModelMeta};
use crate::sql::select::quote;
use crate::sql::{self, Dialect};

/// One `CREATE TABLE` statement.
#[derive(Debug, Clone)]
pub struct CreateTable {
    /// The model.
    pub model: &'static ModelMeta,
    /// The statement as Django's SQLite backend writes it.
    pub sql: String,
}

/// Whether a column comes before the relation columns, following Django's
/// `CreateModel` order: the auto key and implicit parent pointer first, then
/// plain fields, then relation fields (a declared one-to-one primary key stays
/// in place).
fn early(f: &FieldMeta) -> bool {
    match f.relation {
        None => true,
        Some(rel) => f.primary_key && (!rel.parent_link || rel.auto_created),
    }
}

/// The column definitions of a model's own table, in Django's order.
pub fn column_order(model: &ModelMeta) -> Vec<&'static FieldMeta> {
    let fields: &'static [FieldMeta] = model.fields;
    let mut cols: Vec<&'static FieldMeta> = fields.iter().filter(|f| early(f)).collect();
    cols.sort_by_key(|f| !f.primary_key);
    cols.extend(fields.iter().filter(|f| !early(f)));
    cols
}

/// The column definition of `f` in the statement tree: Django's grammar
/// (`NULL`/`NOT NULL`, `PRIMARY KEY AUTOINCREMENT`, `UNIQUE`, `REFERENCES ...
/// DEFERRABLE INITIALLY DEFERRED`), the type chosen by the dialect.
fn column_def(dialect: &dyn Dialect, f: &'static FieldMeta) -> sql::ColumnDef {
    let references = match (f.relation, f.target_field()) {
        (Some(rel), Some(target)) if rel.db_constraint => {
            Some(((rel.target)().table.into(), target.column.into()))
        }
        _ => None,
    };
    sql::ColumnDef {
        name: f.column.into(),
        ty: dialect.column_type(f).into(),
        null: f.null,
        primary_key: f.primary_key,
        auto: f.auto,
        unique: f.unique,
        references,
        json: f.ty == crate::meta::types::ColumnType::Json,
    }
}

/// The CREATE TABLE tree of one model.
pub(crate) fn table_tree(
    dialect: &dyn Dialect,
    model: &'static ModelMeta,
    if_not_exists: bool,
) -> sql::Statement {
    sql::Statement::CreateTable(sql::CreateTable {
        temp: false,
        if_not_exists,
        name: model.table.into(),
        columns: column_order(model)
            .into_iter()
            .map(|f| column_def(dialect, f))
            .collect(),
        primary_key: Vec::new(),
    })
}

/// `CREATE TABLE` for one model, as Django's SQLite backend writes it.
pub fn create_table(model: &'static ModelMeta) -> CreateTable {
    let (mut sql, _) =
        sql::render(&sql::Sqlite, &table_tree(&sql::Sqlite, model, false)).unwrap_or_default();
    sql.push(';');
    CreateTable { model, sql }
}

/// Statements for `models`, each table after the tables it references.
pub fn create_statements(models: &[&'static ModelMeta]) -> Vec<CreateTable> {
    let mut done: Vec<&'static ModelMeta> = Vec::new();
    let mut out = Vec::new();
    // A proxy has no table of its own.
    let models: Vec<&'static ModelMeta> =
        models.iter().copied().filter(|m| !m.is_proxy()).collect();
    let mut pending = models.clone();
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|m| {
            let ready = m.relations().all(|(_, r)| {
                let t = (r.target)().concrete();
                t.is(m) || done.iter().any(|d| d.is(t)) || !models.iter().any(|x| x.is(t))
            });
            if ready {
                done.push(m);
                out.push(create_table(m));
            }
            !ready
        });
        if pending.len() == before {
            // A reference cycle: deferred constraints let any order work.
            for m in pending.drain(..) {
                out.push(create_table(m));
            }
        }
    }
    out
}

/// Every statement, joined like `sqlmigrate` prints it.
pub fn sql_create_all(models: &[&'static ModelMeta]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{};", sql::sqlite::BEGIN);
    for stmt in create_statements(models) {
        let _ = writeln!(
            s,
            "--\n-- Create model {}\n--\n{}",
            stmt.model.name, stmt.sql
        );
    }
    let _ = writeln!(s, "{};", sql::sqlite::COMMIT);
    s
}

/// One column as the database has it (`PRAGMA table_xinfo`).
struct LiveColumn {
    name: String,
    decl_type: String,
    not_null: bool,
    has_default: bool,
    pk: bool,
}

/// Every difference between the models and the live tables that exist, as
/// readable lines (`migrate` refuses to go on while there are any). A table
/// that does not exist yet is not a difference: `migrate` creates it.
pub(crate) fn drift(
    conn: &rusqlite::Connection,
    models: &[&'static ModelMeta],
) -> rusqlite::Result<Vec<String>> {
    let mut out = Vec::new();
    for m in models.iter().filter(|m| !m.is_proxy()) {
        let mut stmt = conn.prepare(&sql::sqlite::table_xinfo(m.table))?;
        let live: Vec<LiveColumn> = stmt
            .query_map([], |r| {
                Ok(LiveColumn {
                    name: r.get(1)?,
                    decl_type: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                    not_null: r.get::<_, i64>(3)? != 0,
                    has_default: r.get::<_, Option<String>>(4)?.is_some(),
                    pk: r.get::<_, i64>(5)? != 0,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        if live.is_empty() {
            continue;
        }
        let t = m.table;
        for f in m.fields {
            let what = format!("{}.{}", m.name, f.name);
            let Some(c) = live.iter().find(|c| c.name == f.column) else {
                out.push(format!(
                    "{t}: column {} of {what} is missing",
                    quote(f.column)
                ));
                continue;
            };
            let want = f.db_type();
            if !c.decl_type.trim().eq_ignore_ascii_case(want.trim()) {
                out.push(format!(
                    "{t}.{}: type is {}, {what} needs {want}",
                    c.name,
                    if c.decl_type.is_empty() {
                        "(none)".to_string()
                    } else {
                        c.decl_type.to_lowercase()
                    }
                ));
            }
            // A primary key column is NOT NULL whatever it declares.
            if !f.primary_key && c.not_null == f.null {
                out.push(format!(
                    "{t}.{}: is {}, {what} is {}",
                    c.name,
                    if c.not_null { "NOT NULL" } else { "NULL" },
                    if f.null {
                        "NULL (an Option)"
                    } else {
                        "NOT NULL"
                    }
                ));
            }
            if c.pk != f.primary_key {
                out.push(format!(
                    "{t}.{}: is {}the primary key, {what} is {}",
                    c.name,
                    if c.pk { "" } else { "not " },
                    if f.primary_key {
                        "the primary key"
                    } else {
                        "not"
                    }
                ));
            }
        }
        for c in &live {
            let known = m.fields.iter().any(|f| f.column == c.name);
            if !known && c.not_null && !c.has_default && !c.pk {
                out.push(format!(
                    "{t}.{}: NOT NULL with no default and no field of {}, so every insert would fail",
                    c.name, m.name
                ));
            }
        }
    }
    Ok(out)
}
