//! Saving: INSERT when unsaved, UPDATE otherwise, parents first for a
//! multi-table child (Django's `save_base` / `_save_parents` / `_save_table`).

use rusqlite::types::Value;

use crate::error::{Error, Result};
use crate::exec::db::CacheKey;
use crate::exec::db::Db;
use crate::exec::record::key_of;
use crate::exec::record::Binder;
use crate::exec::related::{relation_of, reverse_query};
use crate::meta::FieldMeta;
use crate::ops::model::Model;

/// Saves `obj`; `raw` inserts only missing parent rows (used by
/// `extend_parent`); `force_insert` never UPDATEs this model's own row (used by
/// `create`, so an existing key is a UNIQUE error rather than an overwrite).
pub(crate) fn save<M: Model>(db: &Db, obj: &mut M, raw: bool, force_insert: bool) -> Result<()> {
    obj.__prepare_related("save")?;
    obj.__pre_save(force_insert || obj.pk().is_none());
    let hooks = db.hooks.has_save_hooks(M::META);
    // An auto key narrower than i64 may not fit the key SQLite assigns: the
    // insert must then be undone, so it runs in a transaction.
    let narrow_key = M::META.pk_field().is_narrow_auto_key();
    if M::META.parent.is_none() && !hooks && !narrow_key {
        save_table(db, obj, force_insert)?;
        db.wrote(M::META);
        return Ok(());
    }
    // Hooks and parent rows run in one transaction: a failing hook or a
    // failing child insert leaves nothing behind.
    let was_unsaved = obj.pk().is_none();
    let out = db.atomic(|db| {
        if hooks {
            db.hooks.pre_save(db, obj)?;
        }
        let parent_inserted = obj.__save_parents(db, raw)?;
        let created = save_table(db, obj, parent_inserted || raw || force_insert)?;
        db.wrote(M::META);
        if hooks {
            db.hooks.post_save(db, obj, created)?;
        }
        Ok(())
    });
    // The INSERTs were rolled back: the keys they assigned (at every level of
    // a multi-table chain) no longer exist, so the instance reads as unsaved.
    if out.is_err() && was_unsaved {
        obj.set_pk(None);
    }
    out
}

/// Django's message for names `save_fields` cannot update.
const NOT_CONCRETE: &str =
    "The following fields do not exist in this model, are m2m fields, or are non-concrete fields";

/// Saves only the fields named in `fields` (Django's
/// `save(update_fields=[...])`): one `UPDATE ... WHERE pk = ?` per table of
/// the chain that holds one of them, hooks around it with `created = false`,
/// all in one transaction.
pub(crate) fn save_fields<M: Model>(db: &Db, obj: &mut M, fields: &[&str]) -> Result<()> {
    // Resolve every name first: nothing runs when one is wrong.
    let mut by_depth: Vec<Vec<&'static FieldMeta>> = Vec::new();
    let mut unknown: Vec<&str> = Vec::new();
    for &name in fields {
        match M::META.find_field(name) {
            Some((depth, f)) if !f.primary_key => {
                if by_depth.len() <= depth {
                    by_depth.resize_with(depth + 1, Vec::new);
                }
                if !by_depth[depth].iter().any(|g| std::ptr::eq(*g, f)) {
                    by_depth[depth].push(f);
                }
            }
            _ => {
                if !unknown.contains(&name) {
                    unknown.push(name);
                }
            }
        }
    }
    if !unknown.is_empty() {
        return Err(Error::Field {
            message: format!("{NOT_CONCRETE}: {}", unknown.join(", ")),
        });
    }
    // Django: an empty `update_fields` saves nothing and sends no signal.
    if fields.is_empty() {
        return Ok(());
    }
    let Some(pk) = obj.pk() else {
        return Err(Error::Refused {
            op: "save",
            model: M::META.name,
            message: "Cannot force an update in save() with no primary key.".into(),
        });
    };
    obj.__prepare_related("save")?;
    // Django runs `pre_save` for the named fields only: an `auto_now` field
    // is touched when it is named, and only then.
    let mut touched = obj.clone();
    touched.__pre_save(false);
    for &name in fields {
        obj.__copy_field(&touched, name);
    }
    let hooks = db.hooks.has_save_hooks(M::META);
    db.atomic(|db| {
        if hooks {
            db.hooks.pre_save(db, obj)?;
        }
        for (depth, fields) in by_depth.iter().enumerate() {
            if fields.is_empty() {
                continue;
            }
            let m = M::META.ancestor(depth);
            db.before_write(m)?;
            let mut sets = Vec::with_capacity(fields.len());
            for f in fields {
                let v = obj.value_of(f.name).unwrap_or(Value::Null);
                f.check_value(&v).map_err(|reason| Error::InvalidValue {
                    model: m.name,
                    field: f.name,
                    value: crate::error::display_value(&v),
                    reason,
                })?;
                sets.push((f.column, v));
            }
            let stmt = crate::sql::model::update_by_pk(m, sets, pk.clone());
            let (text, params) = crate::sql::select::write(db.dialect, m, &stmt)?;
            let n = db.execute(&text, &params)?;
            db.wrote(m);
            if n == 0 {
                return Err(Error::Refused {
                    op: "save",
                    model: M::META.name,
                    message: "Save with update_fields did not affect any rows.".into(),
                });
            }
        }
        if hooks {
            db.hooks.post_save(db, obj, false)?;
        }
        Ok(())
    })
}

/// Saves the ancestors of a child, then the ancestor itself (called by the
/// generated `__save_parents`).
///
/// With `raw` (extending an existing parent), an ancestor row that exists is
/// left untouched and stops the walk; a missing one is inserted.
pub(crate) fn save_chain<P: Model>(db: &Db, parent: &mut P, raw: bool) -> Result<bool> {
    if raw {
        let pk = parent.pk().ok_or(Error::Unsaved {
            model: P::META.name,
            op: "extend_parent",
        })?;
        let mut stmt = db.prepare_exists(P::META)?;
        stmt.raw_bind_parameter(1, &pk)?;
        let exists = stmt
            .raw_query()
            .next()
            .map_err(Error::from_sqlite)?
            .is_some();
        drop(stmt);
        if exists {
            return Ok(false);
        }
        parent.__save_parents(db, true)?;
        save_table(db, parent, true)?;
        db.wrote(P::META);
        return Ok(true);
    }
    let inserted = parent.__save_parents(db, raw)?;
    let inserted = save_table(db, parent, inserted)?;
    db.wrote(P::META);
    Ok(inserted)
}

/// Writes `obj`'s own table; returns true when a row was inserted.
pub(crate) fn save_table<M: Model>(db: &Db, obj: &mut M, force_insert: bool) -> Result<bool> {
    let meta = M::META;
    db.before_write(meta)?;
    let pk_field = meta.pk_field();
    let pk = obj.pk();
    match pk {
        None if pk_field.auto => {
            let mut stmt = db.prepare_insert(meta, false)?;
            obj.__bind_local(&mut Binder::new(&mut stmt), false)?;
            stmt.raw_execute().map_err(Error::from_sqlite)?;
            let id = db.connection().last_insert_rowid();
            obj.set_pk(Some(Value::Integer(id)));
            // Only a key narrower than i64 can fail to take the id.
            if pk_field.is_narrow_auto_key() && obj.pk() != Some(Value::Integer(id)) {
                // The caller's transaction (see `save`) rolls the row back.
                return Err(Error::InvalidValue {
                    model: meta.name,
                    field: pk_field.name,
                    value: id.to_string(),
                    reason: "the key the database assigned does not fit the field's type".into(),
                });
            }
            Ok(true)
        }
        None => Err(Error::InvalidValue {
            model: meta.name,
            field: pk_field.name,
            value: "None".into(),
            reason: "the primary key must be set before saving".into(),
        }),
        Some(pk) => {
            if !force_insert {
                let updated = match db.prepare_update(meta)? {
                    Some(mut stmt) => {
                        let mut b = Binder::new(&mut stmt);
                        obj.__bind_local(&mut b, false)?;
                        let next = b.next;
                        stmt.raw_bind_parameter(next, &pk)?;
                        stmt.raw_execute().map_err(Error::from_sqlite)? > 0
                    }
                    None => {
                        let mut stmt = db.prepare_exists(meta)?;
                        stmt.raw_bind_parameter(1, &pk)?;
                        let mut rows = stmt.raw_query();
                        rows.next().map_err(Error::from_sqlite)?.is_some()
                    }
                };
                if updated {
                    return Ok(false);
                }
            }
            let mut stmt = db.prepare_insert(meta, true)?;
            obj.__bind_local(&mut Binder::new(&mut stmt), true)?;
            stmt.raw_execute().map_err(Error::from_sqlite)?;
            Ok(true)
        }
    }
}

/// Turns an existing parent row into a child without touching the parent's
/// columns (Django ticket #7623): inserts only the child's own row(s) for
/// the levels that do not exist yet.
///
/// `child` must carry the parent's primary key (for example built from a
/// loaded parent); the parent's other field values in `child` are ignored and
/// reloaded from the database afterwards.
pub(crate) fn extend_parent<M: Model>(db: &Db, child: &mut M) -> Result<()> {
    let Some(pk) = child.pk() else {
        return Err(Error::Unsaved {
            model: M::META.name,
            op: "extend_parent",
        });
    };
    if M::META.parent.is_none() {
        return Err(Error::Usage(format!(
            "extend_parent() needs a multi-table child; {} has no parent model",
            M::META.name
        )));
    }
    db.atomic(|db| {
        save(db, child, true, false)?;
        *child = crate::exec::record::get_by_pk::<M>(db, &pk)?.ok_or(Error::DoesNotExist {
            model: M::META.name,
        })?;
        Ok(())
    })
}

/// Reverse assignment (`place.restaurant = r; r.save()` in Django; the
/// generated `place.set_restaurant(db, &mut r)`): points `value`'s key at
/// `owner` and saves `value`, in one transaction.
///
/// - When another row already points at `owner` through a nullable key, it
///   lets go first (its key becomes NULL), so the UNIQUE constraint does not
///   trip. Through a required key it cannot: the database's UNIQUE error is
///   returned, as Django's `save()` would raise it, and nothing is written.
/// - When the relation is `value`'s primary key (a one-to-one primary key or
///   a parent link), the key moves: saving updates the row of the new key if
///   there is one, else inserts it (Django's `test_setter`); the row of the
///   old key stays.
#[doc(hidden)]
pub fn reverse_set<O: Model, T: Model>(
    db: &Db,
    owner: &O,
    value: &mut T,
    field: &'static FieldMeta,
    set_key: fn(&mut T, &O),
) -> Result<()> {
    let rel = relation_of(O::__META, field)?;
    let key = key_of(owner, rel.to_field).ok_or(Error::Unsaved {
        model: O::__META.name,
        op: "reverse assignment",
    })?;
    db.atomic(|db| {
        // The current partner, if it is another row and its key can be NULL,
        // lets go first. A key that is `value`'s primary key identifies the
        // row itself: `value` takes it over.
        let current: Option<T> = if rel.parent_link || field.primary_key || !field.null {
            None
        } else {
            reverse_query::<T>(db, field, rel, &key)?
        };
        if let Some(cur) = current {
            if cur.__pk() != value.__pk() || value.__pk().is_none() {
                db.before_write(T::__META)?;
                let (sql, params) = crate::sql::select::write(
                    db.dialect,
                    T::__META,
                    &crate::sql::model::set_null(
                        T::__META,
                        field.column,
                        cur.__pk().unwrap_or(Value::Null),
                    ),
                )?;
                db.execute(&sql, &params)?;
            }
        }
        set_key(value, owner);
        value.save(db)?;
        if let Some(ck) = CacheKey::of(&key) {
            // Cloned before the cache is borrowed: no model code runs under it.
            let cached: Box<dyn std::any::Any + Send + Sync> = Box::new(value.clone());
            db.cache.borrow_mut().put(rel, ck, Some(cached));
        }
        Ok(())
    })
}

/// Reverse assignment of `None` (`user.profile = None; profile.save()` in
/// Django; the generated `user.clear_profile(db)`): the related row's key
/// becomes NULL and it is saved, in one transaction. Through a required key
/// the save fails with the database's NOT NULL error and nothing changes,
/// as in Django. Returns the unlinked object, `None` when nothing pointed at
/// `owner` (Django then does nothing).
///
/// A relation that is the related model's primary key cannot be unset: that
/// is an [`Error::InvalidValue`] naming the field, and nothing runs.
#[doc(hidden)]
pub fn reverse_clear<O: Model, T: Model>(
    db: &Db,
    owner: &O,
    field: &'static FieldMeta,
    clear_key: fn(&mut T),
) -> Result<Option<T>> {
    let rel = relation_of(O::__META, field)?;
    if rel.parent_link || field.primary_key {
        return Err(Error::InvalidValue {
            model: T::__META.name,
            field: field.name,
            value: "None".into(),
            reason: format!(
                "{}.{} is the primary key of {}: the row cannot be unlinked from its {}, only deleted",
                T::__META.name,
                field.name,
                T::__META.name,
                O::__META.name
            ),
        });
    }
    let Some(key) = key_of(owner, rel.to_field) else {
        return Ok(None);
    };
    db.atomic(|db| {
        let Some(mut value) = reverse_query::<T>(db, field, rel, &key)? else {
            return Ok(None);
        };
        clear_key(&mut value);
        value.save(db)?;
        if let Some(ck) = CacheKey::of(&key) {
            db.cache.borrow_mut().put(rel, ck, None);
        }
        Ok(Some(value))
    })
}
