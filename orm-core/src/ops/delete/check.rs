//! Check (Django's PROTECT and RESTRICT handlers): one SELECT per relation,
//! run before anything is written, and the errors Django raises. RESTRICT is
//! resolved against the complete collected sets: a restricted row is allowed
//! when it is itself deleted.

use rusqlite::types::Value;

use crate::error::{Blocker, Error, Result};
use crate::exec::bind_all;
use crate::exec::db::Db;
use crate::meta::registry::ReverseRelation;
use crate::sql::{Expr, Query, Select, Statement};

use super::collect::{Collector, KeySet};
use super::display_value;
use super::plan::{Protect, Restrict};
use super::run::{pk_col, select_keys, union_all, Text, Trees};

/// `SELECT pk, top FROM source WHERE <points at a deleted row>`, a UNION ALL
/// over the top-level relations the PROTECT relation is reached through;
/// `None` when it applies to no key.
pub(super) fn protect_query(trees: &Trees<'_, '_>, p: &Protect) -> Option<Statement> {
    let rel = &p.rel;
    let mut selects = Vec::new();
    for (top, from) in &p.tops {
        if let Some(m) = trees.mapped(rel, from) {
            let top = Expr::Param(Value::Integer(*top as i64));
            let s = Select::from_table(vec![pk_col(rel.source), top], rel.source.table, Some(m));
            selects.push(Query::from(s));
        }
    }
    if selects.is_empty() {
        return None;
    }
    Some(Statement::Query(None, union_all(selects)))
}

/// The rows pointing at deleted rows through a RESTRICT relation that are not
/// deleted themselves; `None` when it applies to no key.
///
/// "Deleted" is a membership test on the row's own keys (`fk IN (...)`),
/// which is NULL, not false, for a NULL key (a nullable CASCADE that points
/// nowhere) or against a `to_field` subquery yielding a NULL: `NOT (NULL)`
/// would drop the row from the check, so the test is `IS NOT TRUE`.
pub(super) fn restrict_query(trees: &Trees<'_, '_>, r: &Restrict) -> Option<Statement> {
    let m = trees.mapped(&r.rel, &r.from)?;
    let source = r.rel.source;
    let pk = pk_col(source);
    let filter = match trees.cond(&pk, &[KeySet::all(source)], Some(source)) {
        Some(deleted) => Expr::And(vec![m, Expr::IsNotTrue(Box::new(deleted))]),
        None => m,
    };
    Some(Statement::Query(None, select_keys(source, filter)))
}

/// PROTECT always blocks. Django's key is the relation at the top level:
/// the protecting field itself, or the cascading field that led to it.
pub(super) fn protected<'a>(
    db: &Db,
    c: &Collector,
    checks: impl Iterator<Item = (&'a Protect, &'a Text)>,
) -> Result<()> {
    let mut tops: Vec<usize> = Vec::new();
    let mut objects: Vec<Blocker> = Vec::new();
    for (p, sql) in checks {
        for (pk, top) in query_pairs(db, sql, true)? {
            tops.push(top as usize);
            add_blocker(&mut objects, &p.rel, &pk);
        }
    }
    if objects.is_empty() {
        return Ok(());
    }
    tops.sort_unstable();
    tops.dedup();
    let mut keys: Vec<String> = Vec::new();
    for t in tops {
        // Cannot panic: `t` is the `top` the PROTECT query bound (its second
        // column), an index of `tops` (`Collector::dispatch`).
        let key = c.tops[t].key();
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    Err(Error::Protected {
        model: c.top.name,
        keys,
        objects,
    })
}

/// RESTRICT blocks unless the restricted row is itself deleted.
pub(super) fn restricted<'a>(
    db: &Db,
    c: &Collector,
    checks: impl Iterator<Item = (&'a Restrict, &'a Text)>,
) -> Result<()> {
    let mut keys: Vec<String> = Vec::new();
    let mut objects: Vec<Blocker> = Vec::new();
    for (r, sql) in checks {
        let rows = query_pairs(db, sql, false)?;
        if rows.is_empty() {
            continue;
        }
        if !keys.contains(&r.rel.key()) {
            keys.push(r.rel.key());
        }
        for (pk, _) in rows {
            add_blocker(&mut objects, &r.rel, &pk);
        }
    }
    if keys.is_empty() {
        return Ok(());
    }
    Err(Error::Restricted {
        model: c.top.name,
        keys,
        objects,
    })
}

/// Adds the row `pk` of `rel`'s model, once.
fn add_blocker(objects: &mut Vec<Blocker>, rel: &ReverseRelation, pk: &Value) {
    let b = Blocker {
        model: rel.source.label(),
        pk: pk_text(pk),
        through: rel.key(),
    };
    if !objects.iter().any(|o| o.model == b.model && o.pk == b.pk) {
        objects.push(b);
    }
}

/// Runs a check: `(pk, top)` rows when `tagged`, else `(pk, 0)`.
fn query_pairs(db: &Db, sql: &Text, tagged: bool) -> Result<Vec<(Value, i64)>> {
    let mut stmt = db.prepare(&sql.sql)?;
    bind_all(&mut stmt, &sql.params)?;
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(Error::from_sqlite)? {
        let tag = if tagged { row.get::<_, i64>(1)? } else { 0 };
        out.push((row.get::<_, Value>(0)?, tag));
    }
    Ok(out)
}

/// A primary key as Django's `str(obj)` shows it: `Guarded object (5)`.
fn pk_text(v: &Value) -> String {
    match v {
        Value::Text(s) => s.clone(),
        other => display_value(other),
    }
}
