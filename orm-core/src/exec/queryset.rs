//! Running queries: map rows to models, count, update, stream.

use rusqlite::types::Value;
use rusqlite::{CachedStatement, Row};

use crate::error::{Error, Result};
use crate::exec::db::Db;
use crate::exec::record::{Record, RowReader};
use crate::exec::related::fill_child;
use crate::query::{Col, QuerySet};
use crate::sql;
use crate::sql::select::LoadPlan;

// Inlined into the row loops (`all`, `Stream::iter`): saves a move of the
// `Result<M>` per row, about 1-2 % of a load's instructions (benches W2, W6, W7).
#[inline(always)]
fn map_row<M: Record>(db: &Db, row: &Row<'_>, plan: &LoadPlan) -> Result<M> {
    let mut row = RowReader::new(row);
    let mut obj = M::__from_row(&mut row)?;
    for child in &plan.children {
        fill_child(db, &mut obj, &mut row, child)?;
    }
    Ok(obj)
}

impl<M: Record> QuerySet<M> {
    /// Runs the query and returns every matching instance.
    ///
    /// # Errors
    ///
    /// [`Error::Field`] for a bad lookup, [`Error::FieldValue`] when a stored
    /// value does not fit its field, [`Error::NoSuchTable`] before `migrate`.
    pub fn all(&self, db: &Db) -> Result<Vec<M>> {
        self.spec.check()?;
        let sel = crate::sql::select::select_with(db.dialect, M::__META, &self.spec)?;
        let mut stmt = db.prepare(&sel.sql)?;
        bind_all(&mut stmt, &sel.params)?;
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(Error::from_sqlite)? {
            out.push(map_row::<M>(db, row, &sel.plan)?);
        }
        drop(rows);
        drop(stmt);
        for spec in &self.spec.prefetch {
            let path = spec.resolve(M::__META, "prefetch_related")?;
            crate::exec::prefetch::run(db, &mut out, &path)?;
        }
        Ok(out)
    }

    /// Prepares the query for streaming: [`Stream::iter`] then yields one
    /// instance at a time, holding one row in memory.
    ///
    /// # Examples
    ///
    /// ```
    /// # use orm_core::prelude::*;
    /// # #[derive(Model, Debug, Clone)]
    /// # #[model(app = "docs")]
    /// # pub struct Tick { pub id: Option<i64>, pub n: i64 }
    /// let db = Db::open_in_memory()?;
    /// db.migrate()?;
    /// for n in 0..3 { Tick { id: None, n }.save(&db)?; }
    /// let mut stream = Tick::objects().order_by("n").stream(&db)?;
    /// let mut sum = 0;
    /// for tick in stream.iter() {
    ///     sum += tick?.n;
    /// }
    /// assert_eq!(sum, 3);
    /// # Ok::<(), orm_core::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`QuerySet::all`].
    pub fn stream<'db>(&self, db: &'db Db) -> Result<Stream<'db, M>> {
        self.spec.check()?;
        let sel = crate::sql::select::select_with(db.dialect, M::__META, &self.spec)?;
        let mut stmt = db.prepare(&sel.sql)?;
        bind_all(&mut stmt, &sel.params)?;
        let tables: Vec<_> = M::__META.chain().collect();
        db.stream_opened(&tables);
        Ok(Stream {
            db,
            stmt,
            plan: sel.plan,
            tables,
            _m: std::marker::PhantomData,
        })
    }

    /// The first instance (by the query's ordering, else by primary key).
    ///
    /// # Errors
    ///
    /// As [`QuerySet::all`].
    pub fn first(&self, db: &Db) -> Result<Option<M>> {
        self.spec.check()?;
        let mut qs = self.clone();
        // Django's `first()`: an unordered query is ordered by the key; a
        // default ordering (`Meta.ordering`) counts as an order.
        if qs.spec.order.is_empty() && M::__META.ordering().is_empty() {
            qs.spec.order.push(crate::query::Order {
                target: crate::query::Target::own(M::__META, M::__META.pk_field()),
                desc: false,
            });
        }
        qs.spec.limit = Some(1);
        Ok(qs.all(db)?.into_iter().next())
    }

    /// The one matching instance.
    ///
    /// # Errors
    ///
    /// [`Error::DoesNotExist`] or [`Error::MultipleObjectsReturned`].
    pub fn get(&self, db: &Db) -> Result<M> {
        self.spec.check()?;
        let mut qs = self.clone();
        if qs.spec.limit.is_none() {
            qs.spec.limit = Some(21);
        }
        // Like Django, `get()` drops the default ordering (not an explicit one).
        qs.spec.unordered = true;
        let mut found = qs.all(db)?;
        match found.len() {
            0 => Err(Error::DoesNotExist {
                model: M::__META.name,
            }),
            1 => Ok(found.remove(0)),
            n => {
                let count = if n < 21 { n } else { self.count(db)? as usize };
                Err(Error::MultipleObjectsReturned {
                    model: M::__META.name,
                    count,
                })
            }
        }
    }

    /// How many rows match.
    ///
    /// # Errors
    ///
    /// As [`QuerySet::all`].
    pub fn count(&self, db: &Db) -> Result<u64> {
        self.spec.check()?;
        let (sql, params) =
            crate::sql::select::aggregate(db.dialect, M::__META, &self.spec, false)?;
        let mut stmt = db.prepare(&sql)?;
        bind_all(&mut stmt, &params)?;
        let mut rows = stmt.raw_query();
        let row = rows
            .next()
            .map_err(Error::from_sqlite)?
            .ok_or(Error::DoesNotExist {
                model: M::__META.name,
            })?;
        Ok(row.get::<_, i64>(0)? as u64)
    }

    /// True when at least one row matches.
    ///
    /// # Errors
    ///
    /// As [`QuerySet::all`].
    pub fn exists(&self, db: &Db) -> Result<bool> {
        self.spec.check()?;
        exists_spec(db, M::__META, &self.spec)
    }

    /// Sets columns on every matching row in one statement per table (Django's
    /// `QuerySet.update`), without hooks. Returns the number of rows matched.
    ///
    /// # Errors
    ///
    /// [`Error::Field`] for a column that does not belong to `M`,
    /// [`Error::Integrity`] for constraint violations.
    pub fn update(&self, db: &Db, values: Vec<(Col<M>, Value)>) -> Result<u64> {
        self.spec.check()?;
        if self.spec.limit.is_some() || self.spec.offset.is_some() {
            return Err(Error::Usage(
                "Cannot update a query once a slice has been taken.".into(),
            ));
        }
        let mut by_depth: Vec<Vec<(&'static str, Value)>> = Vec::new();
        for (col, v) in values {
            let (path, depth, field) = col.target().resolve(M::__META)?;
            if !path.steps.is_empty() {
                return Err(Error::Field {
                    message: format!(
                        "Cannot update model field {} (only non-relations and foreign keys permitted).",
                        field.name
                    ),
                });
            }
            // The value must load back into the field, or the rows it is
            // written to could no longer be read.
            field
                .check_value(&v)
                .map_err(|reason| Error::InvalidValue {
                    model: M::__META.ancestor(depth).name,
                    field: field.name,
                    value: crate::error::display_value(&v),
                    reason,
                })?;
            // Cannot overflow: `resolve` refuses a depth beyond `M`'s chain.
            if by_depth.len() <= depth {
                by_depth.resize_with(depth + 1, Vec::new);
            }
            by_depth[depth].push((field.column, v));
        }
        for (depth, sets) in by_depth.iter().enumerate() {
            if !sets.is_empty() {
                db.before_write(M::__META.ancestor(depth))?;
            }
        }
        let tables = by_depth.iter().filter(|s| !s.is_empty()).count();
        db.atomic(|db| {
            // One table: one UPDATE ... WHERE pk IN (<filter subquery>). Several
            // tables (a child and its ancestors): the first UPDATE may change a
            // column the filter reads, so the keys are read once first and each
            // table is updated by those keys (Django does the same).
            let keys: Option<Vec<Value>> = if tables > 1 {
                Some(self.pks(db)?)
            } else {
                None
            };
            let mut matched = 0u64;
            for (depth, sets) in by_depth.iter().enumerate() {
                if sets.is_empty() {
                    continue;
                }
                let m = M::__META.ancestor(depth);
                let pk = sql::Expr::bare(m.pk_field().column);
                let filter = match &keys {
                    None => pk.in_query(crate::sql::select::keys_query(M::__META, &self.spec)?),
                    // Any number of keys: a long list is bound as one value.
                    Some(keys) => sql::Expr::In(Box::new(pk), keys.clone()),
                };
                let stmt = sql::Statement::Update(sql::Update {
                    table: m.table.into(),
                    sets: sets
                        .iter()
                        .map(|(c, v)| ((*c).into(), sql::Expr::Param(v.clone())))
                        .collect(),
                    filter: Some(filter),
                });
                let (text, params) = crate::sql::select::write(db.dialect, m, &stmt)?;
                let n = db.execute(&text, &params)? as u64;
                matched = match &keys {
                    None => n,
                    Some(keys) => keys.len() as u64,
                };
                db.wrote(m);
            }
            Ok(matched)
        })
    }

    /// The primary keys of every matching row.
    ///
    /// # Errors
    ///
    /// As [`QuerySet::all`].
    pub fn pks(&self, db: &Db) -> Result<Vec<Value>> {
        self.spec.check()?;
        let q = crate::sql::select::keys_query(M::__META, &self.spec)?;
        let (text, params) =
            crate::sql::select::write(db.dialect, M::__META, &sql::Statement::Query(None, q))?;
        let mut stmt = db.prepare(&text)?;
        bind_all(&mut stmt, &params)?;
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(Error::from_sqlite)? {
            out.push(row.get::<_, Value>(0)?);
        }
        Ok(out)
    }
}

/// Binds `params` to `stmt` (1-based).
pub(crate) fn bind_all(stmt: &mut CachedStatement<'_>, params: &[Value]) -> Result<()> {
    for (i, p) in params.iter().enumerate() {
        stmt.raw_bind_parameter(i + 1, p)
            .map_err(Error::from_sqlite)?;
    }
    Ok(())
}

/// A prepared query whose rows are read one at a time; see [`QuerySet::stream`].
///
/// While a stream is alive, writes through the same [`Db`] to the streamed
/// model's tables (its own and its parents') fail with [`Error::Usage`]:
/// SQLite does not isolate statements of one connection from each other, so
/// the stream could see them (Django documents the same hazard for
/// `iterator()`). Writes to other tables are fine.
pub struct Stream<'db, M> {
    db: &'db Db,
    stmt: CachedStatement<'db>,
    plan: LoadPlan,
    tables: Vec<&'static crate::meta::ModelMeta>,
    _m: std::marker::PhantomData<fn() -> M>,
}

impl<M> Drop for Stream<'_, M> {
    fn drop(&mut self) {
        self.db.stream_closed(&self.tables);
    }
}

impl<M: Record> Stream<'_, M> {
    /// Iterates the rows; each item holds only its own row.
    pub fn iter(&mut self) -> impl Iterator<Item = Result<M>> + '_ {
        let db = self.db;
        let plan = &self.plan;
        let mut rows = self.stmt.raw_query();
        let mut done = false;
        std::iter::from_fn(move || {
            if done {
                return None;
            }
            match rows.next() {
                Ok(Some(row)) => Some(map_row::<M>(db, row, plan)),
                Ok(None) => {
                    done = true;
                    None
                }
                Err(e) => {
                    done = true;
                    Some(Err(Error::from_sqlite(e)))
                }
            }
        })
    }

    /// Calls `f` for every row.
    ///
    /// # Errors
    ///
    /// The first error of a row or of `f`.
    pub fn for_each(&mut self, mut f: impl FnMut(M) -> Result<()>) -> Result<()> {
        for item in self.iter() {
            f(item?)?;
        }
        Ok(())
    }
}

/// `exists()` for a model known only by its metadata.
pub(crate) fn exists_dyn(
    db: &Db,
    model: &'static crate::meta::ModelMeta,
    q: crate::query::Q,
) -> Result<bool> {
    let spec = crate::query::Spec {
        filter: Some(q),
        ..Default::default()
    };
    exists_spec(db, model, &spec)
}

fn exists_spec(
    db: &Db,
    model: &'static crate::meta::ModelMeta,
    spec: &crate::query::Spec,
) -> Result<bool> {
    let (sql, params) = crate::sql::select::aggregate(db.dialect, model, spec, true)?;
    let mut stmt = db.prepare(&sql)?;
    bind_all(&mut stmt, &params)?;
    let mut rows = stmt.raw_query();
    Ok(rows.next().map_err(Error::from_sqlite)?.is_some())
}
