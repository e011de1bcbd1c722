//! Hooks (Django's signals): `pre_save`, `post_save` (with `created`),
//! `pre_delete` and `post_delete`, registered per model once per application:
//! every [`Db`] handle of a [`crate::Pool`] shares them.
//!
//! A hook returning `Err` aborts the operation; the save or delete it belongs
//! to runs in a transaction and is rolled back.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use crate::error::{Error, Result};
use crate::exec::db::Db;
use crate::exec::record::{DynModel, Record};
use crate::meta::ModelMeta;

type SaveHook = Arc<dyn Fn(&Db, &mut dyn Any, bool) -> Result<()> + Send + Sync>;
type DeleteHook = Arc<dyn Fn(&Db, &dyn DynModel) -> Result<()> + Send + Sync>;

#[derive(Default, Clone)]
struct ModelHooks {
    pre_save: Vec<SaveHook>,
    post_save: Vec<SaveHook>,
    pre_delete: Vec<DeleteHook>,
    post_delete: Vec<DeleteHook>,
}

/// The hooks of an application: shared by every [`Db`] handle opened from
/// the same [`crate::Pool`], so a hook
/// registered once runs whichever handle saves.
#[derive(Default)]
pub struct Hooks {
    by_model: RwLock<HashMap<usize, ModelHooks>>,
}

fn key(m: &ModelMeta) -> usize {
    m as *const ModelMeta as usize
}

fn tag(err: Error, hook: &'static str, model: &'static str) -> Error {
    match err {
        Error::Hook {
            hook: "user",
            message,
            ..
        } => Error::Hook {
            hook,
            model,
            message,
        },
        e => e,
    }
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("models", &self.read().len())
            .finish()
    }
}

impl Hooks {
    // A hook that panicked poisons nothing we rely on: the map is only
    // replaced whole under the lock, so a poisoned lock is still consistent.
    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<usize, ModelHooks>> {
        self.by_model.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<usize, ModelHooks>> {
        self.by_model
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn has_save_hooks(&self, m: &ModelMeta) -> bool {
        let map = self.read();
        if map.is_empty() {
            return false;
        }
        map.get(&key(m))
            .is_some_and(|h| !h.pre_save.is_empty() || !h.post_save.is_empty())
    }

    /// True when `m` has a delete hook: the collector then loads its rows.
    pub(crate) fn has_delete_hooks(&self, m: &ModelMeta) -> bool {
        let map = self.read();
        if map.is_empty() {
            return false;
        }
        map.get(&key(m))
            .is_some_and(|h| !h.pre_delete.is_empty() || !h.post_delete.is_empty())
    }

    /// A copy of `m`'s hooks (`Rc`s): the table is borrowed only while it is
    /// cloned, so a running hook may register or clear hooks (`borrow_mut`
    /// in `on_*` and `clear_hooks` cannot meet this borrow).
    fn get(&self, m: &ModelMeta) -> ModelHooks {
        self.read().get(&key(m)).cloned().unwrap_or_default()
    }

    pub(crate) fn pre_save<M: Record>(&self, db: &Db, obj: &mut M) -> Result<()> {
        for h in self.get(M::__META).pre_save {
            h(db, obj, false).map_err(|e| tag(e, "pre_save", M::__META.name))?;
        }
        Ok(())
    }

    pub(crate) fn post_save<M: Record>(&self, db: &Db, obj: &mut M, created: bool) -> Result<()> {
        for h in self.get(M::__META).post_save {
            h(db, obj, created).map_err(|e| tag(e, "post_save", M::__META.name))?;
        }
        Ok(())
    }

    pub(crate) fn pre_delete(&self, db: &Db, obj: &dyn DynModel) -> Result<()> {
        let m = obj.meta();
        for h in self.get(m).pre_delete {
            h(db, obj).map_err(|e| tag(e, "pre_delete", m.name))?;
        }
        Ok(())
    }

    pub(crate) fn post_delete(&self, db: &Db, obj: &dyn DynModel) -> Result<()> {
        let m = obj.meta();
        for h in self.get(m).post_delete {
            h(db, obj).map_err(|e| tag(e, "post_delete", m.name))?;
        }
        Ok(())
    }
}

impl Hooks {
    /// Adds a hook to the entry of model `m`.
    fn add(&self, m: &ModelMeta, put: impl FnOnce(&mut ModelHooks)) {
        put(self.write().entry(key(m)).or_default());
    }

    /// Registers a `pre_save` hook for `M`: runs before the row is written and
    /// may change the instance.
    pub fn on_pre_save<M: Record>(
        &self,
        f: impl Fn(&Db, &mut M) -> Result<()> + Send + Sync + 'static,
    ) {
        let hook: SaveHook = Arc::new(move |db, any, _| match any.downcast_mut::<M>() {
            Some(m) => f(db, m),
            None => Ok(()),
        });
        self.add(M::__META, |h| h.pre_save.push(hook));
    }

    /// Registers a `post_save` hook for `M`; `created` is true after an INSERT.
    ///
    /// # Examples
    ///
    /// The seed's auto-create-profile pattern:
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # #[derive(Model, Debug, Clone)]
    /// # #[model(app = "docs")]
    /// # pub struct Member { pub id: Option<i64>, pub name: String }
    /// # #[derive(Model, Debug, Clone)]
    /// # #[model(app = "docs")]
    /// # pub struct Card {
    /// #     pub id: Option<i64>,
    /// #     #[one_to_one(on_delete = "cascade", related_name = "card")]
    /// #     pub member: OneToOne<Member>,
    /// # }
    /// let db = Db::open_in_memory()?;
    /// db.migrate()?;
    /// db.hooks().on_post_save::<Member>(|db, member, created| {
    ///     if created {
    ///         Card { id: None, member: OneToOne::to(member) }.save(db)?;
    ///     }
    ///     Ok(())
    /// });
    /// let m = Member { id: None, name: "ann".into() }.create(&db)?;
    /// assert!(m.card_opt(&db)?.is_some());
    /// # Ok::<(), orm_core::Error>(())
    /// ```
    pub fn on_post_save<M: Record>(
        &self,
        f: impl Fn(&Db, &M, bool) -> Result<()> + Send + Sync + 'static,
    ) {
        let hook: SaveHook = Arc::new(move |db, any, created| match any.downcast_mut::<M>() {
            Some(m) => f(db, m, created),
            None => Ok(()),
        });
        self.add(M::__META, |h| h.post_save.push(hook));
    }

    /// Registers a `pre_delete` hook for `M`, called for every collected
    /// instance (cascaded ones and multi-table parents included) before any
    /// row is deleted. Registering one makes the collector load `M`'s rows.
    pub fn on_pre_delete<M: Record>(
        &self,
        f: impl Fn(&Db, &M) -> Result<()> + Send + Sync + 'static,
    ) {
        let hook: DeleteHook = Arc::new(move |db, obj| match downcast::<M>(obj) {
            Some(m) => f(db, m),
            None => Ok(()),
        });
        self.add(M::__META, |h| h.pre_delete.push(hook));
    }

    /// Registers a `post_delete` hook for `M`, called after `M`'s rows are
    /// deleted, inside the delete's transaction.
    pub fn on_post_delete<M: Record>(
        &self,
        f: impl Fn(&Db, &M) -> Result<()> + Send + Sync + 'static,
    ) {
        let hook: DeleteHook = Arc::new(move |db, obj| match downcast::<M>(obj) {
            Some(m) => f(db, m),
            None => Ok(()),
        });
        self.add(M::__META, |h| h.post_delete.push(hook));
    }

    /// Removes every hook of every model.
    pub fn clear(&self) {
        self.write().clear();
    }
}

impl Db {
    /// The hooks of this handle's application (shared with every handle of
    /// the same [`crate::Pool`]).
    pub fn hooks(&self) -> &Hooks {
        &self.hooks
    }

    /// [`Hooks::on_pre_save`] on this handle's application hooks.
    pub fn on_pre_save<M: Record>(
        &self,
        f: impl Fn(&Db, &mut M) -> Result<()> + Send + Sync + 'static,
    ) {
        self.hooks.on_pre_save(f);
    }

    /// [`Hooks::on_post_save`] on this handle's application hooks.
    pub fn on_post_save<M: Record>(
        &self,
        f: impl Fn(&Db, &M, bool) -> Result<()> + Send + Sync + 'static,
    ) {
        self.hooks.on_post_save(f);
    }

    /// [`Hooks::on_pre_delete`] on this handle's application hooks.
    pub fn on_pre_delete<M: Record>(
        &self,
        f: impl Fn(&Db, &M) -> Result<()> + Send + Sync + 'static,
    ) {
        self.hooks.on_pre_delete(f);
    }

    /// [`Hooks::on_post_delete`] on this handle's application hooks.
    pub fn on_post_delete<M: Record>(
        &self,
        f: impl Fn(&Db, &M) -> Result<()> + Send + Sync + 'static,
    ) {
        self.hooks.on_post_delete(f);
    }

    /// [`Hooks::clear`].
    pub fn clear_hooks(&self) {
        self.hooks.clear();
    }
}

fn downcast<M: Record>(obj: &dyn DynModel) -> Option<&M> {
    let any: &dyn Any = obj;
    // `&dyn DynModel` upcasts to `&dyn Any` (trait upcasting), then downcasts.
    any.downcast_ref::<M>()
}
