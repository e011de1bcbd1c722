//! Statements that depend only on a model (and the dialect): get by key,
//! insert, update, exists, the reverse accessor's lookup. Built once per
//! handle and kept in its statement-text cache; values are bound by the
//! caller in `ModelMeta::fields` order (slots).

use crate::meta::{FieldMeta, ModelMeta};

use super::ast::*;

fn own_columns(m: &ModelMeta, with_pk: bool) -> impl Iterator<Item = &'static FieldMeta> + '_ {
    let fields: &'static [FieldMeta] = m.fields;
    fields
        .iter()
        .enumerate()
        .filter(move |(i, _)| with_pk || *i != m.pk)
        .map(|(_, f)| f)
}

/// `INSERT INTO t (cols) VALUES (slots)`, with or without the primary key.
pub(crate) fn insert(m: &'static ModelMeta, with_pk: bool) -> Statement {
    let columns: Vec<Ident> = own_columns(m, with_pk).map(|f| f.column.into()).collect();
    let rows = if columns.is_empty() {
        Rows::Default
    } else {
        Rows::Values(vec![vec![Expr::Slot; columns.len()]])
    };
    Statement::Insert(Insert {
        with: None,
        table: Source::table(m.table),
        columns,
        rows,
        or_ignore: false,
        returning: None,
    })
}

/// `INSERT INTO t (cols) VALUES (slots), (slots)...` for `rows` rows of a
/// `bulk_create`, with or without the primary key; without it, `RETURNING
/// <pk>` gives the keys the database assigned. A table with no column besides
/// an auto key takes one row per statement (`DEFAULT VALUES`).
pub(crate) fn insert_rows(m: &'static ModelMeta, with_pk: bool, rows: usize) -> Statement {
    let columns: Vec<Ident> = own_columns(m, with_pk).map(|f| f.column.into()).collect();
    let rows = if columns.is_empty() {
        Rows::Default
    } else {
        Rows::Values(vec![vec![Expr::Slot; columns.len()]; rows])
    };
    Statement::Insert(Insert {
        with: None,
        table: Source::table(m.table),
        columns,
        rows,
        or_ignore: false,
        returning: (!with_pk).then(|| m.pk_field().column.into()),
    })
}

/// How many columns an INSERT of `m`'s own table binds per row.
pub(crate) fn insert_width(m: &'static ModelMeta, with_pk: bool) -> usize {
    own_columns(m, with_pk).count()
}

/// `UPDATE t SET c = CASE WHEN pk = v THEN value ... END, ... WHERE pk IN
/// (keys)`: one batch of a `bulk_update` on one table of the chain (Django's
/// `bulk_update` writes the same statement).
pub(crate) fn update_cases(
    m: &'static ModelMeta,
    sets: Vec<(
        &'static str,
        Vec<(rusqlite::types::Value, rusqlite::types::Value)>,
    )>,
    keys: Vec<rusqlite::types::Value>,
) -> Statement {
    let pk = || Expr::bare(m.pk_field().column);
    Statement::Update(Update {
        table: m.table.into(),
        sets: sets
            .into_iter()
            .map(|(c, whens)| {
                let whens = whens
                    .into_iter()
                    .map(|(k, v)| (pk().eq(Expr::Param(k)), Expr::Param(v)))
                    .collect();
                (c.into(), Expr::Case(whens))
            })
            .collect(),
        filter: Some(Expr::In(Box::new(pk()), keys)),
    })
}

/// `UPDATE t SET c = slot... WHERE pk = slot`; `None` when the table has no
/// column besides the key.
pub(crate) fn update(m: &'static ModelMeta) -> Option<Statement> {
    let sets: Vec<(Ident, Expr)> = own_columns(m, false)
        .map(|f| (f.column.into(), Expr::Slot))
        .collect();
    if sets.is_empty() {
        return None;
    }
    Some(Statement::Update(Update {
        table: m.table.into(),
        sets,
        filter: Some(Expr::bare(m.pk_field().column).eq(Expr::Slot)),
    }))
}

/// `SELECT 1 AS "a" FROM t WHERE pk = slot`.
pub(crate) fn exists(m: &'static ModelMeta) -> Statement {
    let mut s = Select::from_table(
        vec![Expr::Int(1)],
        m.table,
        Some(Expr::bare(m.pk_field().column).eq(Expr::Slot)),
    );
    s.columns[0].1 = Some("a".into());
    Statement::Query(None, s.into())
}

/// `SELECT <all columns, ancestors joined> WHERE <table>.<column> = slot`:
/// a get by key (no LIMIT: the key is unique), or a reverse accessor's
/// lookup by the relation column.
pub(crate) fn select_where(base: Select, table: &'static str, column: &'static str) -> Statement {
    let mut s = base;
    s.filter = Some(Expr::col(table, column).eq(Expr::Slot));
    Statement::Query(None, s.into())
}

/// `UPDATE t SET c = NULL WHERE pk = value`: a reverse assignment letting go
/// of the previous partner.
pub(crate) fn set_null(
    m: &'static ModelMeta,
    column: &'static str,
    pk: rusqlite::types::Value,
) -> Statement {
    Statement::Update(Update {
        table: m.table.into(),
        sets: vec![(column.into(), Expr::Null)],
        filter: Some(Expr::bare(m.pk_field().column).eq(Expr::Param(pk))),
    })
}

/// `UPDATE t SET c = value... WHERE pk = value`: a save with
/// `update_fields`, one table of the chain.
pub(crate) fn update_by_pk(
    m: &'static ModelMeta,
    sets: Vec<(&'static str, rusqlite::types::Value)>,
    pk: rusqlite::types::Value,
) -> Statement {
    Statement::Update(Update {
        table: m.table.into(),
        sets: sets
            .into_iter()
            .map(|(c, v)| (c.into(), Expr::Param(v)))
            .collect(),
        filter: Some(Expr::bare(m.pk_field().column).eq(Expr::Param(pk))),
    })
}
