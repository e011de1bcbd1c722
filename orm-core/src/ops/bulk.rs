//! `bulk_create` and `bulk_update` (Django's `QuerySet` methods of the same
//! names): many rows per statement, batched under the database's limit of
//! bound values, in one transaction, without hooks.

use rusqlite::types::Value;

use crate::error::{Error, Result};
use crate::exec::db::Db;
use crate::exec::record::Binder;
use crate::meta::{FieldMeta, ModelMeta};
use crate::ops::model::Model;
use crate::query::{Col, QuerySet};

/// The most rows one bulk statement carries (Django's SQLite backend uses
/// 500 for one field; more rows make statement texts longer with no gain).
const MAX_BATCH_ROWS: usize = 500;

/// Rows per statement when each row binds `per_row` values.
fn batch_rows(db: &Db, per_row: usize) -> usize {
    (db.dialect.param_limit() / per_row.max(1)).clamp(1, MAX_BATCH_ROWS)
}

/// Why `bulk_create`/`bulk_update` refuse, in Django's words.
fn refused(op: &'static str, model: &'static ModelMeta, message: &str) -> Error {
    Error::Refused {
        op,
        model: model.name,
        message: message.into(),
    }
}

impl<M: Model> QuerySet<M> {
    /// Inserts every object with multi-row `INSERT` statements (Django's
    /// `bulk_create`), in one transaction, and sets their primary keys.
    ///
    /// Call it on `Model::objects()`; the query's filters play no part (as in
    /// Django). Objects with a key set are inserted with it; the others get the
    /// keys the database assigns (read with `RETURNING`: the key column is
    /// `AUTOINCREMENT`, so the keys of one statement increase in row order).
    /// Statements carry at most 500 rows, and fewer when the rows would bind
    /// more values than the database allows.
    ///
    /// Like Django, no `pre_save`/`post_save` hook runs, and a multi-table
    /// child is refused (its rows span several tables). On any error nothing
    /// is inserted and the objects that had no key have none again.
    ///
    /// # Examples
    ///
    /// ```
    /// use orm_core::prelude::*;
    ///
    /// #[derive(Model, Debug, Clone)]
    /// #[model(app = "docs")]
    /// pub struct Country {
    ///     pub id: Option<i64>,
    ///     #[field(max_length = 50)]
    ///     pub name: String,
    /// }
    ///
    /// let db = Db::open_in_memory()?;
    /// db.migrate()?;
    /// let mut countries: Vec<Country> = ["Netherlands", "Germany", "Czech Republic"]
    ///     .into_iter()
    ///     .map(|name| Country { id: None, name: name.into() })
    ///     .collect();
    /// let ((), captured) = {
    ///     let (r, c) = db.capture(|| Country::objects().bulk_create(&db, &mut countries));
    ///     (r?, c)
    /// };
    /// assert_eq!(captured.len(), 1); // one multi-row insert, keys returned
    /// assert_eq!(countries.iter().map(|c| c.id).collect::<Vec<_>>(), [Some(1), Some(2), Some(3)]);
    /// # Ok::<(), orm_core::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Refused`] for a multi-table child ("Can't bulk create a
    /// multi-table inherited model"); [`Error::UnsavedRelated`] when a related
    /// object is unsaved ("bulk_create() prohibited to prevent data loss due
    /// to unsaved related object 'user'."); [`Error::InvalidValue`] for a
    /// value that cannot be stored or a missing key that is not automatic;
    /// [`Error::Integrity`] for constraint violations. Nothing is inserted then.
    pub fn bulk_create(&self, db: &Db, objs: &mut [M]) -> Result<()> {
        let meta = M::META;
        if meta.parent.is_some() {
            return Err(refused(
                "bulk_create",
                meta,
                "Can't bulk create a multi-table inherited model",
            ));
        }
        if objs.is_empty() {
            return Ok(());
        }
        let pk_field = meta.pk_field();
        let mut with_pk = Vec::new();
        let mut auto = Vec::new();
        for (i, obj) in objs.iter_mut().enumerate() {
            obj.__prepare_related("bulk_create")?;
            // Django's insert runs each field's `pre_save(obj, add=True)`.
            obj.__pre_save(true);
            match obj.pk() {
                Some(_) => with_pk.push(i),
                None if pk_field.auto => auto.push(i),
                None => {
                    return Err(Error::InvalidValue {
                        model: meta.name,
                        field: pk_field.name,
                        value: "None".into(),
                        reason: "the primary key must be set before saving".into(),
                    })
                }
            }
        }
        db.before_write(meta)?;
        let out = db.atomic(|db| {
            insert_batches(db, objs, &with_pk, true)?;
            insert_batches(db, objs, &auto, false)
        });
        db.wrote(meta);
        if out.is_err() {
            // Rolled back: the keys the database assigned do not exist.
            for &i in &auto {
                if let Some(obj) = objs.get_mut(i) {
                    obj.set_pk(None);
                }
            }
        }
        out
    }

    /// Updates `fields` of every object with one `UPDATE ... SET f = CASE
    /// WHEN pk = ? THEN ? ... END WHERE pk IN (...)` per batch and table
    /// (Django's `bulk_update`), in one transaction, without hooks. A field of
    /// a multi-table parent updates the parent's table. Returns the number of
    /// rows matched.
    ///
    /// Every object is checked before anything runs: each must have a key,
    /// each value must fit its field, and a related object must be saved (as
    /// for `save`, every relation of the object is checked, not only those in
    /// `fields`).
    ///
    /// # Examples
    ///
    /// ```
    /// use orm_core::prelude::*;
    ///
    /// #[derive(Model, Debug, Clone)]
    /// #[model(app = "docs")]
    /// pub struct Entry {
    ///     pub id: Option<i64>,
    ///     pub headline: String,
    ///     pub rating: i64,
    /// }
    ///
    /// let db = Db::open_in_memory()?;
    /// db.migrate()?;
    /// let mut entries = vec![
    ///     Entry { id: None, headline: "a".into(), rating: 1 },
    ///     Entry { id: None, headline: "b".into(), rating: 2 },
    /// ];
    /// Entry::objects().bulk_create(&db, &mut entries)?;
    /// for e in &mut entries {
    ///     e.rating *= 10;
    ///     e.headline = "ignored".into();
    /// }
    /// let (n, captured) = db.capture(|| Entry::objects().bulk_update(&db, &entries, &[Entry::rating()]));
    /// assert_eq!(n?, 2);
    /// assert_eq!(
    ///     captured.queries,
    ///     [r#"UPDATE "docs_entry" SET "rating" = CASE WHEN "id" = ? THEN ? WHEN "id" = ? THEN ? END WHERE "id" IN (?, ?)"#]
    /// );
    /// let stored = Entry::objects().order_by("id").all(&db)?;
    /// assert_eq!((stored[1].headline.as_str(), stored[1].rating), ("b", 20));
    /// # Ok::<(), orm_core::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Refused`] with Django's messages: no fields ("Field names must
    /// be given to bulk_update()."), a primary key among them ("bulk_update()
    /// cannot be used with primary key fields."), an unsaved object ("All
    /// bulk_update() objects must have a primary key set."); [`Error::Field`]
    /// for a column reached through a relation or of another model;
    /// [`Error::UnsavedRelated`], [`Error::InvalidValue`],
    /// [`Error::Integrity`]. Nothing is written then.
    pub fn bulk_update(&self, db: &Db, objs: &[M], fields: &[Col<M>]) -> Result<u64> {
        let meta = M::META;
        if fields.is_empty() {
            return Err(refused(
                "bulk_update",
                meta,
                "Field names must be given to bulk_update().",
            ));
        }
        let mut by_depth: Vec<Vec<&'static FieldMeta>> = Vec::new();
        for col in fields {
            let (path, depth, field) = col.target().resolve(meta)?;
            if !path.steps.is_empty() {
                return Err(Error::Field {
                    message: "bulk_update() can only be used with concrete fields.".into(),
                });
            }
            if field.primary_key {
                return Err(refused(
                    "bulk_update",
                    meta,
                    "bulk_update() cannot be used with primary key fields.",
                ));
            }
            if by_depth.len() <= depth {
                by_depth.resize_with(depth + 1, Vec::new);
            }
            if !by_depth[depth].iter().any(|f| std::ptr::eq(*f, field)) {
                by_depth[depth].push(field);
            }
        }
        if objs.is_empty() {
            return Ok(0);
        }
        // Every key and value, checked before anything runs.
        let mut rows: Vec<(Value, Vec<Vec<Value>>)> = Vec::with_capacity(objs.len());
        for obj in objs {
            let Some(pk) = obj.pk() else {
                return Err(refused(
                    "bulk_update",
                    meta,
                    "All bulk_update() objects must have a primary key set.",
                ));
            };
            // Refuses unsaved related objects and takes keys from saved ones,
            // on a copy: the caller's objects are borrowed.
            let mut obj = obj.clone();
            obj.__prepare_related("bulk_update")?;
            let mut values = Vec::with_capacity(by_depth.len());
            for (depth, fields) in by_depth.iter().enumerate() {
                let m = meta.ancestor(depth);
                let mut vs = Vec::with_capacity(fields.len());
                for f in fields {
                    let v = obj.value_of(f.name).unwrap_or(Value::Null);
                    f.check_value(&v).map_err(|reason| Error::InvalidValue {
                        model: m.name,
                        field: f.name,
                        value: crate::error::display_value(&v),
                        reason,
                    })?;
                    vs.push(v);
                }
                values.push(vs);
            }
            rows.push((pk, values));
        }
        for (depth, fields) in by_depth.iter().enumerate() {
            if !fields.is_empty() {
                db.before_write(meta.ancestor(depth))?;
            }
        }
        let widest = by_depth.iter().map(Vec::len).max().unwrap_or(1);
        // Each row binds its key and value per field, and its key in the IN list.
        let batch = batch_rows(db, 2 * widest + 1);
        // Rows of an ancestor's table exist for keys that are not this
        // model's (a parent row without its child): as Django does, the keys
        // that are this model's are read first and only those are updated.
        let ancestors = by_depth.iter().skip(1).any(|f| !f.is_empty());
        let out = db.atomic(|db| {
            let mut matched = 0u64;
            for chunk in rows.chunks(batch) {
                let keys: Vec<Value> = chunk.iter().map(|(pk, _)| pk.clone()).collect();
                let keys = if ancestors {
                    let found = QuerySet::<M>::new()
                        .filter(Col::<M>::__new(0, meta.pk_field()).is_in(keys))
                        .pks(db)?;
                    matched += found.len() as u64;
                    found
                } else {
                    keys
                };
                if keys.is_empty() {
                    continue;
                }
                for (depth, fields) in by_depth.iter().enumerate() {
                    if fields.is_empty() {
                        continue;
                    }
                    let m = meta.ancestor(depth);
                    let sets = fields
                        .iter()
                        .enumerate()
                        .map(|(j, f)| {
                            let whens = chunk
                                .iter()
                                .map(|(pk, values)| (pk.clone(), values[depth][j].clone()))
                                .collect();
                            (f.column, whens)
                        })
                        .collect();
                    let stmt = crate::sql::model::update_cases(m, sets, keys.clone());
                    let (text, params) = crate::sql::select::write(db.dialect, m, &stmt)?;
                    let n = db.execute(&text, &params)? as u64;
                    if !ancestors {
                        matched += n;
                    }
                }
            }
            Ok(matched)
        });
        for (depth, fields) in by_depth.iter().enumerate() {
            if !fields.is_empty() {
                db.wrote(meta.ancestor(depth));
            }
        }
        out
    }
}

/// Inserts `objs[i]` for every `i` of `which`, as many rows per statement as
/// the limit of bound values allows; without `with_pk`, sets each object's
/// key from `RETURNING`.
fn insert_batches<M: Model>(db: &Db, objs: &mut [M], which: &[usize], with_pk: bool) -> Result<()> {
    let meta = M::META;
    let width = crate::sql::model::insert_width(meta, with_pk);
    // A table with nothing but an auto key inserts `DEFAULT VALUES`, one row
    // per statement.
    let batch = if width == 0 { 1 } else { batch_rows(db, width) };
    let mut text: Option<(usize, String)> = None;
    for chunk in which.chunks(batch) {
        let n = chunk.len();
        if text.as_ref().is_none_or(|(rows, _)| *rows != n) {
            let stmt = crate::sql::model::insert_rows(meta, with_pk, n);
            let (t, _) = crate::sql::select::write(db.dialect, meta, &stmt)?;
            text = Some((n, t));
        }
        let Some((_, sql)) = &text else {
            continue;
        };
        let mut stmt = db.prepare(sql)?;
        let mut b = Binder::new(&mut stmt);
        for &i in chunk {
            if let Some(obj) = objs.get(i) {
                obj.__bind_local(&mut b, with_pk)?;
            }
        }
        if with_pk {
            stmt.raw_execute().map_err(Error::from_sqlite)?;
            continue;
        }
        let mut ids = Vec::with_capacity(n);
        {
            let mut rows = stmt.raw_query();
            while let Some(row) = rows.next().map_err(Error::from_sqlite)? {
                ids.push(row.get::<_, i64>(0).map_err(Error::from_sqlite)?);
            }
        }
        if ids.len() != n {
            return Err(Error::Usage(format!(
                "bulk_create() of {}: the database returned {} keys for {n} rows",
                meta.name,
                ids.len()
            )));
        }
        // SQLite returns the rows in no promised order, but an AUTOINCREMENT
        // key grows with every row inserted: sorted, the keys are in row order.
        ids.sort_unstable();
        for (&i, id) in chunk.iter().zip(ids) {
            let Some(obj) = objs.get_mut(i) else {
                continue;
            };
            obj.set_pk(Some(Value::Integer(id)));
            if obj.pk() != Some(Value::Integer(id)) {
                // The caller's transaction rolls the rows back.
                return Err(Error::InvalidValue {
                    model: meta.name,
                    field: meta.pk_field().name,
                    value: id.to_string(),
                    reason: "the key the database assigned does not fit the field's type".into(),
                });
            }
        }
    }
    Ok(())
}
