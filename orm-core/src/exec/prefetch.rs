//! `prefetch_related`: for a batch of loaded objects, load one relation with
//! one `IN (...)` query per chunk of keys (chunks stay under SQLite's bound
//! parameter limit), then fill the caches as `select_related` does.

use std::collections::HashMap;

use rusqlite::types::Value;

use crate::error::{Error, Result};
use crate::exec::bind_all;
use crate::exec::db::{CacheKey, Db};
use crate::exec::record::{DynModel, Record};
use crate::meta::{FieldMeta, ModelMeta};
use crate::query::{Path, RelatedSpec, Spec, Step, Q};

/// Keys per `IN (...)` query: well under SQLite's 32,766-parameter limit, and
/// Django's own batch size for SQLite.
pub(crate) const CHUNK: usize = 500;

/// Loads the relation named by `spec` for every object in `objs` (Django's
/// `prefetch_related_objects`): one query per chunk of 500 keys. The
/// accessors then run no query, including for objects with no related row.
///
/// # Errors
///
/// [`Error::Field`] for an unknown relation, [`Error::Usage`] for a path of
/// more than one hop (chain `select_related` for depth), database errors.
pub fn prefetch_related_objects<M: Record>(
    db: &Db,
    objs: &mut [M],
    spec: impl Into<RelatedSpec>,
) -> Result<()> {
    let path = spec.into().resolve(M::__META, "prefetch_related")?;
    run(db, objs, &path)
}

pub(crate) fn run<M: Record>(db: &Db, objs: &mut [M], path: &Path) -> Result<()> {
    let [step] = path.steps.as_slice() else {
        return Err(Error::Usage(
            "prefetch_related() follows one relation; use select_related(\"a__b\") for chains"
                .into(),
        ));
    };
    match *step {
        Step::Forward { field, rel, .. } => {
            let target = (rel.target)();
            let to = rel.to_field.unwrap_or("pk");
            let keys: Vec<Value> = distinct(objs.iter().filter_map(|o| o.__value_of(field.name)));
            let mut loaded: HashMap<CacheKey, Box<dyn DynModel>> = HashMap::new();
            for chunk in keys.chunks(CHUNK) {
                let column = field.target_field().unwrap_or_else(|| target.pk_field());
                for obj in load(db, target, column, chunk)? {
                    if let Some(k) = obj.field_value(to).as_ref().and_then(CacheKey::of) {
                        loaded.insert(k, obj);
                    }
                }
            }
            for o in objs.iter_mut() {
                let key = o.__value_of(field.name).as_ref().and_then(CacheKey::of);
                if let Some(obj) = key.and_then(|k| loaded.remove(&k)) {
                    o.__set_cached(field, obj.into_any());
                }
            }
            Ok(())
        }
        Step::Reverse { rel, .. } => {
            let own = rel.rel.to_field.unwrap_or("pk");
            let keys: Vec<Value> = distinct(objs.iter().filter_map(|o| o.__value_of(own)));
            let mut found: HashMap<CacheKey, Box<dyn DynModel>> = HashMap::new();
            for chunk in keys.chunks(CHUNK) {
                for obj in load(db, rel.source, rel.field, chunk)? {
                    if let Some(k) = obj
                        .field_value(rel.field.name)
                        .as_ref()
                        .and_then(CacheKey::of)
                    {
                        found.insert(k, obj);
                    }
                }
            }
            // Cannot panic: no other borrow is alive, and no user code runs
            // in the loop (see `Db::cache`).
            let mut cache = db.cache.borrow_mut();
            for k in keys.iter().filter_map(CacheKey::of) {
                let v = found.remove(&k).map(|o| o.into_any());
                cache.put(rel.rel, k, v);
            }
            Ok(())
        }
    }
}

fn distinct(values: impl Iterator<Item = Value>) -> Vec<Value> {
    let mut seen = std::collections::HashSet::new();
    values
        .filter(|v| !matches!(v, Value::Null))
        .filter(|v| CacheKey::of(v).is_some_and(|k| seen.insert(k)))
        .collect()
}

/// `SELECT <model> WHERE <field> IN (chunk)`, rows loaded dynamically.
fn load(
    db: &Db,
    model: &'static ModelMeta,
    field: &'static FieldMeta,
    chunk: &[Value],
) -> Result<Vec<Box<dyn DynModel>>> {
    let spec = Spec {
        filter: Some(Q::column_in(model, field, chunk.to_vec())),
        ..Default::default()
    };
    let sel = crate::sql::select::select_with(db.dialect, model, &spec)?;
    let mut stmt = db.prepare(&sel.sql)?;
    bind_all(&mut stmt, &sel.params)?;
    let load = crate::exec::record::loader(model)?;
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(Error::from_sqlite)? {
        out.push(load(&mut crate::exec::record::RowReader::new(row))?);
    }
    Ok(out)
}
