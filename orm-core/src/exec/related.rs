//! One-to-one relations: the [`OneToOne`] field type (forward side, with its
//! per-instance cache) and the reverse accessors' runtime (the per-`Db`
//! reverse cache).

use std::any::Any;
use std::fmt;
use std::sync::OnceLock;

use rusqlite::types::{Value, ValueRef};

use crate::error::{Error, Result};
use crate::exec::db::{CacheKey, CachedRelated, Db};
use crate::exec::record::{key_of, Record, RowReader};
use crate::meta::types::{Stored, ToValue};
use crate::meta::{FieldMeta, ModelMeta, RelationMeta};
use crate::sql::select::LoadPlan;

/// The forward side of a one-to-one relation: the key stored in this row, and
/// the related object once loaded.
///
/// The key is readable without a query ([`OneToOne::key`]); [`OneToOne::get`]
/// loads the object with at most one query and none once cached.
///
/// # Examples
///
/// ```
/// use orm_core::prelude::*;
///
/// #[derive(Model, Debug, Clone)]
/// #[model(app = "docs")]
/// pub struct Account { pub id: Option<i64>, pub name: String }
///
/// #[derive(Model, Debug, Clone)]
/// #[model(app = "docs")]
/// pub struct Settings {
///     pub id: Option<i64>,
///     #[one_to_one(on_delete = "cascade", related_name = "settings")]
///     pub account: OneToOne<Account>,
///     pub theme: String,
/// }
///
/// let db = Db::open_in_memory()?;
/// db.migrate()?;
/// let a = Account { id: None, name: "ann".into() }.create(&db)?;
/// let s = Settings { id: None, account: OneToOne::to(&a), theme: "dark".into() }.create(&db)?;
/// let s = Settings::get(&db, s.id)?;
/// assert_eq!(s.account.id(), a.id);                // no query
/// assert_eq!(s.account.get(&db)?.name, "ann");    // one query, then cached
/// # Ok::<(), orm_core::Error>(())
/// ```
pub struct OneToOne<T: Record> {
    /// The stored key; or why the key given to `from_key`/`set_key` could not
    /// be converted (a save or `get` then fails naming the field instead of
    /// storing NULL).
    key: Key,
    /// The target column the key refers to (`to_field`); `None` is the target's
    /// primary key. Set when the value is loaded or saved.
    to_field: Option<&'static &'static str>,
    /// True when the key is `obj.__pk()` taken by [`OneToOne::to`] before the
    /// value was attached to a relation: a relation with `to_field` stores
    /// another field of `obj`, so the key is only a guess until then.
    guessed: bool,
    /// The related object once loaded. Type-erased (it is always a `T`), so
    /// `OneToOne<T>` does not contain a `T`: a chain of models each pointing
    /// at the previous one needs no recursive drop-check or auto-trait proof.
    /// Shared on clone.
    cache: Cache,
    _target: std::marker::PhantomData<fn() -> T>,
}

/// A relation's key (kept in one enum, so the field stays small: relations
/// are copied with every row).
#[derive(Clone, PartialEq)]
enum Key {
    Unset,
    /// The common case, kept inline.
    Int(i64),
    Other(Box<Value>),
    // A thin pointer keeps `Key` at 16 bytes (a `Box<str>` or `String` would
    // make it 24): an invalid key is rare, the size is paid by every row.
    #[allow(clippy::box_collection)]
    Invalid(Box<String>),
}

impl Key {
    fn value(&self) -> Option<Value> {
        match self {
            Key::Int(i) => Some(Value::Integer(*i)),
            Key::Other(v) => Some((**v).clone()),
            _ => None,
        }
    }

    fn is_set(&self) -> bool {
        matches!(self, Key::Int(_) | Key::Other(_))
    }

    fn of(v: Option<Value>) -> Key {
        match v {
            None | Some(Value::Null) => Key::Unset,
            Some(Value::Integer(i)) => Key::Int(i),
            Some(v) => Key::Other(Box::new(v)),
        }
    }
}

/// A relation's loaded object. `Loaded` when it came with the value
/// (`select_related`, prefetch, `OneToOne::to`): a plain box, nothing to
/// synchronise. `Lazy` is filled at most once by `get` through a shared
/// reference, which needs a lock.
enum Cache {
    Loaded(Box<dyn Any + Send + Sync>),
    Lazy(OnceLock<Box<dyn Any + Send + Sync>>),
}

impl Cache {
    /// Nothing loaded yet.
    fn empty() -> Cache {
        Cache::Lazy(OnceLock::new())
    }

    fn get(&self) -> Option<&(dyn Any + Send + Sync)> {
        match self {
            Cache::Loaded(b) => Some(&**b),
            Cache::Lazy(cell) => cell.get().map(|b| &**b),
        }
    }
}

/// The cache of a relation to `obj`.
fn cached<T: Record>(obj: T) -> Cache {
    Cache::Loaded(Box::new(obj))
}

impl<T: Record> OneToOne<T> {
    /// Points at `obj` and caches a copy of it, so `get` runs no query
    /// (Django's `Profile(user=u)`).
    ///
    /// The relation holds a **copy**: saving `obj` afterwards does not give
    /// the copy a key. For an unsaved object, either save it first, or hand
    /// it over with [`OneToOne::new`] and save it through the relation
    /// ([`OneToOne::cached_mut`]); the key is read from the cached object at
    /// save time. Saving while the cached object is unsaved is Django's
    /// [`Error::UnsavedRelated`] ("save() prohibited to prevent data loss due
    /// to unsaved related object 'user'.").
    pub fn to(obj: &T) -> Self {
        Self::new(obj.clone())
    }

    /// Points at `obj`, taking it over as the cached related object: the
    /// form for a related object that is not saved yet (Django's
    /// `pr = Profile(user=User(...)); pr.user.save(); pr.save()`, ticket
    /// #28147).
    ///
    /// ```
    /// # use orm_core::prelude::*;
    /// # #[derive(Model, Debug, Clone)]
    /// # #[model(app = "docs")]
    /// # pub struct Place { pub id: Option<i64>, pub name: String }
    /// # #[derive(Model, Debug, Clone)]
    /// # #[model(app = "docs")]
    /// # pub struct Bar {
    /// #     pub id: Option<i64>,
    /// #     #[one_to_one(on_delete = "cascade")]
    /// #     pub place: OneToOne<Place>,
    /// # }
    /// let db = Db::open_in_memory()?;
    /// db.migrate()?;
    /// let mut bar = Bar { id: None, place: OneToOne::new(Place { id: None, name: "Demon Dogs".into() }) };
    /// bar.place.cached_mut().expect("cached").save(&db)?; // the place gets its key
    /// bar.save(&db)?;                                       // and the bar stores it
    /// assert_eq!(bar.place.id(), Bar::get(&db, bar.id)?.place.id());
    /// # Ok::<(), orm_core::Error>(())
    /// ```
    pub fn new(obj: T) -> Self {
        OneToOne {
            _target: std::marker::PhantomData,
            to_field: None,
            key: Key::of(obj.__pk()),
            guessed: true,
            cache: cached(obj),
        }
    }

    /// Points at the row with this key (Django's `user_id = 5`), without
    /// loading it.
    ///
    /// A key that cannot be converted (a `u64` beyond `i64::MAX`, say) makes
    /// the next save or [`OneToOne::get`] fail with [`Error::InvalidValue`].
    pub fn from_key(key: impl ToValue) -> Self {
        let mut rel = Self::default();
        rel.set_key(key);
        rel
    }

    /// The stored key, without a query.
    pub fn key(&self) -> Option<Value> {
        self.key.value()
    }

    /// The stored key as an integer, without a query.
    pub fn id(&self) -> Option<i64> {
        match self.key {
            Key::Int(i) => Some(i),
            _ => None,
        }
    }

    /// True when the related object is loaded.
    pub fn is_cached(&self) -> bool {
        self.cached().is_some()
    }

    /// The cached related object, if loaded.
    pub fn cached(&self) -> Option<&T> {
        self.cache.get().and_then(|b| b.downcast_ref::<T>())
    }

    /// The cached related object, mutably (to save an object handed over
    /// with [`OneToOne::new`], say). Its key is read again at save time.
    pub fn cached_mut(&mut self) -> Option<&mut T> {
        let boxed = match &mut self.cache {
            Cache::Loaded(b) => b,
            Cache::Lazy(cell) => cell.get_mut()?,
        };
        boxed.downcast_mut::<T>()
    }

    /// Points at `obj` (key and cache), like assigning `profile.user = u`.
    pub fn set(&mut self, obj: &T) {
        *self = Self::to(obj);
    }

    /// Points at another key; a cached object for a different key is dropped.
    pub fn set_key(&mut self, key: impl ToValue) {
        let key = match crate::query::try_value(&key) {
            Ok(v) => Key::of(Some(v)),
            Err(reason) => Key::Invalid(Box::new(reason)),
        };
        if key != self.key || matches!(key, Key::Invalid(_)) {
            self.cache = Cache::empty();
        }
        self.key = key;
        self.guessed = false;
    }

    #[inline]
    fn invalid_key(&self, model: &'static str, field: &'static str) -> Option<Error> {
        let Key::Invalid(reason) = &self.key else {
            return None;
        };
        Some(Error::InvalidValue {
            model,
            field,
            value: "the key given to OneToOne::from_key".into(),
            reason: reason.to_string(),
        })
    }

    /// Drops the cached object; the next `get` queries again.
    pub fn forget(&mut self) {
        self.cache = Cache::empty();
    }

    /// The related object: from the cache, or loaded with one query by the
    /// target's primary key (or by the `to_field` column the relation names).
    ///
    /// # Errors
    ///
    /// [`Error::DoesNotExist`] when no key is set or the row is gone (possible
    /// with `db_constraint = false`).
    pub fn get(&self, db: &Db) -> Result<&T> {
        if let Some(obj) = self.cached() {
            return Ok(obj);
        }
        if let Some(e) = self.invalid_key(T::__META.name, T::__META.pk_field().name) {
            return Err(e);
        }
        let key = self.key.value().ok_or(Error::DoesNotExist {
            model: T::__META.name,
        })?;
        // A key of the wrong kind (text in an integer relation column) can
        // match no row: say so rather than "does not exist".
        let target = match self.to_field {
            None => Some(T::__META.pk_field()),
            Some(f) => T::__META.local_field(f),
        };
        if let Some(t) = target {
            t.check_value(&key).map_err(|reason| Error::InvalidValue {
                model: T::__META.name,
                field: t.name,
                value: crate::error::display_value(&key),
                reason: format!(
                    "the relation's key cannot refer to a {}: {reason}",
                    T::__META.name
                ),
            })?;
        }
        let obj = match self.to_field {
            None => crate::exec::record::get_by_pk::<T>(db, &key)?.ok_or(Error::DoesNotExist {
                model: T::__META.name,
            })?,
            Some(&field) => match T::__META.local_field(field) {
                Some(f) => crate::query::QuerySet::<T>::new()
                    .filter(crate::query::Q::column_eq(T::__META, f, key.clone()))
                    .get(db)?,
                None => {
                    return Err(Error::Field {
                        message: format!("{} has no field named '{field}'", T::__META.name),
                    })
                }
            },
        };
        let any: &(dyn Any + Send + Sync) = match &self.cache {
            Cache::Loaded(b) => &**b,
            Cache::Lazy(cell) => &**cell.get_or_init(|| Box::new(obj)),
        };
        // Cannot fail: only `T`s are ever stored in a `OneToOne<T>`'s cache.
        any.downcast_ref::<T>().ok_or(Error::DoesNotExist {
            model: T::__META.name,
        })
    }

    /// Records the target column the key refers to (called by the derive).
    #[doc(hidden)]
    pub fn __with_to_field(mut self, to_field: Option<&'static &'static str>) -> Self {
        self.to_field = to_field;
        self.guessed = false;
        self
    }

    /// Called before save: refuses an unsaved cached object and refreshes the
    /// key from it (Django's `_prepare_related_fields_for_save`).
    #[doc(hidden)]
    pub fn __prepare(
        &mut self,
        op: &'static str,
        model: &'static ModelMeta,
        field: &'static str,
        to_field: Option<&'static &'static str>,
    ) -> Result<()> {
        if let Some(e) = self.invalid_key(model.name, field) {
            return Err(e);
        }
        if let Some(obj) = self.cached() {
            match key_of(obj, to_field.copied()) {
                None => {
                    return Err(Error::UnsavedRelated {
                        op,
                        model: model.name,
                        field,
                    })
                }
                Some(k) => self.key = Key::of(Some(k)),
            }
        }
        self.to_field = to_field;
        self.guessed = false;
        Ok(())
    }

    /// Stores a loaded object in the cache (prefetch).
    #[doc(hidden)]
    pub fn __cache(&mut self, obj: T) {
        self.cache = cached(obj);
    }

    /// Stores a boxed object in the cache, keeping its box; false (and
    /// nothing stored) when it is not a `T`.
    #[doc(hidden)]
    pub fn __cache_boxed(&mut self, obj: Box<dyn Any + Send + Sync>) -> bool {
        if !obj.is::<T>() {
            return false;
        }
        self.cache = Cache::Loaded(obj);
        true
    }

    /// Fills the cache from a `select_related` row.
    #[doc(hidden)]
    pub fn __fill(&mut self, db: &Db, row: &mut RowReader<'_, '_>, plan: &LoadPlan) -> Result<()> {
        match load_related::<T>(db, row, plan)? {
            Some(obj) => self.cache = cached(obj),
            None => self.cache = Cache::empty(),
        }
        Ok(())
    }
}

/// Reads a related object from a `select_related` row; `None` when the LEFT
/// JOIN found no row.
pub(crate) fn load_related<T: Record>(
    db: &Db,
    row: &mut RowReader<'_, '_>,
    plan: &LoadPlan,
) -> Result<Option<T>> {
    if row.row.get_ref(row.idx + plan.pk_offset)? == ValueRef::Null {
        row.skip_plan(plan);
        return Ok(None);
    }
    let mut obj = T::__from_row(row)?;
    for child in &plan.children {
        fill_child(db, &mut obj, row, child)?;
    }
    Ok(Some(obj))
}

/// Fills one `select_related` child into `owner`.
pub(crate) fn fill_child(
    db: &Db,
    owner: &mut dyn crate::exec::record::DynModel,
    row: &mut RowReader<'_, '_>,
    plan: &LoadPlan,
) -> Result<()> {
    match plan.step {
        Some(crate::query::Step::Forward { field, .. }) => {
            // The target's reverse side is not primed with `owner`: that
            // would copy every loaded row into the handle's cache (twice the
            // memory of a load, and no constant memory for streams). Going
            // back is one query, or none with `select_related("user__userstat")`
            // (README, "Where this differs from Django").
            owner.fill_forward_dyn(db, field, row, plan)
        }
        Some(crate::query::Step::Reverse { rel, .. }) => {
            let key = match rel.rel.to_field {
                None => owner.pk_value(),
                Some(f) => owner.field_value(f),
            };
            let missing = row.row.get_ref(row.idx + plan.pk_offset)? == ValueRef::Null;
            let value: CachedRelated = if missing {
                row.skip_plan(plan);
                None
            } else {
                let mut obj = crate::exec::record::loader(plan.model)?(row)?;
                for child in &plan.children {
                    fill_child(db, obj.as_mut(), row, child)?;
                }
                Some(obj.into_any())
            };
            if let Some(key) = key.as_ref().and_then(CacheKey::of) {
                db.cache.borrow_mut().put(rel.rel, key, value);
            }
            Ok(())
        }
        None => Ok(()),
    }
}

impl<T: Record> OneToOne<T> {
    fn some_relation_uses_to_field() -> bool {
        crate::meta::registry::registry()
            .reverse_of(T::__META)
            .iter()
            .any(|r| r.rel.to_field.is_some())
    }
}

impl<T: Record> Clone for OneToOne<T> {
    fn clone(&self) -> Self {
        OneToOne {
            key: self.key.clone(),
            guessed: self.guessed,
            to_field: self.to_field,
            cache: match self.cached() {
                Some(t) => cached(t.clone()),
                None => Cache::empty(),
            },
            _target: std::marker::PhantomData,
        }
    }
}

impl<T: Record> Default for OneToOne<T> {
    /// No key: saving it fails with a NOT NULL error.
    fn default() -> Self {
        OneToOne {
            to_field: None,
            key: Key::Unset,
            guessed: false,
            cache: Cache::empty(),
            _target: std::marker::PhantomData,
        }
    }
}

impl<T: Record> PartialEq for OneToOne<T> {
    /// Two relations are equal when they store the same key.
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl<T: Record> fmt::Debug for OneToOne<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            Key::Int(i) => write!(f, "OneToOne<{}>({i})", T::__META.name),
            Key::Other(v) => write!(f, "OneToOne<{}>({v:?})", T::__META.name),
            Key::Unset => write!(f, "OneToOne<{}>(unset)", T::__META.name),
            Key::Invalid(r) => write!(f, "OneToOne<{}>(invalid: {r})", T::__META.name),
        }
    }
}

impl<T: Record> ToValue for OneToOne<T> {
    fn to_stored(&self) -> std::result::Result<Stored<'_>, String> {
        if let Key::Invalid(reason) = &self.key {
            return Err(reason.to_string());
        }
        if self.guessed && self.key.is_set() && Self::some_relation_uses_to_field() {
            // As a filter value (`Q::kw("target", OneToOne::to(&t))`) the
            // primary key may be the wrong field: refuse rather than match
            // nothing.
            return Err(format!(
                "a relation to {} refers to a field other than its primary key, \
                 so OneToOne::to(&obj) cannot tell which key to compare: \
                 use Rel::is(&obj) (e.g. Model::relation().is(&obj)) or \
                 OneToOne::from_key(<the referenced value>)",
                T::__META.name
            ));
        }
        Ok(match &self.key {
            Key::Int(i) => Stored::Ref(ValueRef::Integer(*i)),
            Key::Other(v) => Stored::Ref((&**v).into()),
            _ => Stored::Ref(ValueRef::Null),
        })
    }
}

impl<T: Record> OneToOne<T> {
    /// Reads a relation's key from a row (the derive's `FieldType` impl).
    #[doc(hidden)]
    pub fn __from_stored(value: ValueRef<'_>) -> std::result::Result<Self, String> {
        match value {
            ValueRef::Null => Err("NULL in a relation that is not an Option".into()),
            v => Ok(OneToOne {
                to_field: None,
                guessed: false,
                key: Key::of(Some(crate::query::value_of_ref(v))),
                cache: Cache::empty(),
                _target: std::marker::PhantomData,
            }),
        }
    }
}

/// The reverse accessor's lookup: the `T` whose relation field points at
/// `owner`, from the `Db` cache or with one query (none for an unsaved owner).
#[doc(hidden)]
pub fn reverse_get<O: Record, T: Record>(
    db: &Db,
    owner: &O,
    field: &'static FieldMeta,
) -> Result<Option<T>> {
    let rel = relation_of(O::__META, field)?;
    let Some(key) = key_of(owner, rel.to_field) else {
        return Ok(None);
    };
    let ck = CacheKey::of(&key);
    db.sync_cache();
    if let Some(ck) = &ck {
        // Cannot panic: only `T::clone` runs under this shared borrow (see
        // `Db::cache`).
        let hit = db
            .cache
            .borrow()
            .get(rel, ck)
            .map(|hit| hit.as_ref().and_then(|b| b.downcast_ref::<T>()).cloned());
        if let Some(hit) = hit {
            return Ok(hit.map(|t| with_owner(t, owner, field, rel)));
        }
    }
    let found = reverse_query::<T>(db, field, rel, &key)?;
    if let Some(ck) = ck {
        let boxed: CachedRelated = found.clone().map(|t| Box::new(t) as _);
        db.cache.borrow_mut().put(rel, ck, boxed);
    }
    Ok(found.map(|t| with_owner(t, owner, field, rel)))
}

/// Primes the forward cache of `obj.field` with `owner` (Django's reverse
/// descriptor sets the fetched object's forward cache to the instance), so
/// `user.profile(db)?.user.get(db)` runs no query. A parent link needs no
/// priming: the child embeds its parent.
fn with_owner<O: Record, T: Record>(
    mut obj: T,
    owner: &O,
    field: &'static FieldMeta,
    rel: &'static RelationMeta,
) -> T {
    if !rel.parent_link {
        obj.__set_cached(field, Box::new(owner.clone()));
    }
    obj
}

pub(crate) fn reverse_query<T: Record>(
    db: &Db,
    field: &'static FieldMeta,
    rel: &'static RelationMeta,
    key: &Value,
) -> Result<Option<T>> {
    let _ = rel;
    let mut stmt = db.prepare_reverse(T::__META, field)?;
    stmt.raw_bind_parameter(1, key)?;
    let mut rows = stmt.raw_query();
    match rows.next().map_err(Error::from_sqlite)? {
        Some(row) => Ok(Some(T::__from_row(&mut RowReader::new(row))?)),
        None => Ok(None),
    }
}

/// The relation of `field`; the derive only passes relation fields.
#[inline]
pub(crate) fn relation_of(
    owner: &'static ModelMeta,
    field: &'static FieldMeta,
) -> Result<&'static RelationMeta> {
    field.relation.ok_or_else(|| {
        Error::Usage(format!(
            "{} is not a relation field pointing at {}",
            field.name, owner.name
        ))
    })
}

/// `owner.accessor`: the related object or `RelatedObjectDoesNotExist`.
#[doc(hidden)]
pub fn reverse_require<O: Record, T: Record>(
    db: &Db,
    owner: &O,
    field: &'static FieldMeta,
    accessor: &'static str,
) -> Result<T> {
    reverse_get::<O, T>(db, owner, field)?.ok_or(Error::RelatedObjectDoesNotExist {
        model: O::__META.name,
        accessor,
    })
}

impl<R: Record, T: Record> crate::query::Rel<R, T> {
    /// Rows related to `obj` (Django's `filter(user=u)`): compares the key the
    /// relation stores, so a relation with `to_field` compares that field of
    /// `obj`, not its primary key. An unsaved `obj` is an
    /// [`Error::InvalidValue`] when the query runs.
    pub fn is(self, obj: &T) -> crate::query::Q {
        let key = match self.path.steps.as_slice() {
            // Django refuses unsaved instances even when another field is the key.
            _ if obj.__pk().is_none() => None,
            [crate::query::Step::Forward { rel, .. }] => {
                crate::exec::record::key_of(obj, rel.to_field)
            }
            _ => obj.__pk(),
        };
        let col = self.key();
        match key {
            Some(k) => col.eq(k),
            None => col.leaf(
                crate::query::Op::Exact,
                crate::query::Rhs::Invalid {
                    value: format!("an unsaved {}", T::__META.name),
                    reason: "model instances passed to related filters must be saved".into(),
                },
            ),
        }
    }
}
