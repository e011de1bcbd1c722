//! The user-facing [`Model`] trait: Django's model methods (`save`,
//! `delete`, `refresh_from_db`, `full_clean`...) and `Model.objects`, for
//! every type that derives `Model`.

use rusqlite::types::Value;

use crate::error::{Error, Result};
use crate::exec::db::Db;
use crate::exec::record::{get_by_pk, Record};
use crate::meta::{Metadata, ModelMeta};
use crate::ops::delete::Deleted;
use crate::query::QuerySet;

/// A database model: the API of every `#[derive(Model)]` type (Django's
/// model methods and `Model.objects`).
pub trait Model: Record {
    /// The model's metadata.
    const META: &'static ModelMeta = <Self as Metadata>::__META;

    /// The primary key, `None` while unsaved. For a multi-table child this is
    /// the parent's key.
    fn pk(&self) -> Option<Value> {
        self.__pk()
    }

    /// Sets the primary key at every level of the inheritance chain.
    fn set_pk(&mut self, pk: Option<Value>) {
        self.__set_pk(pk)
    }

    /// The value of a field of this model or an ancestor, by Rust name (a
    /// relation gives its key). `None` for an unknown name.
    fn value_of(&self, field: &str) -> Option<Value> {
        self.__value_of(field)
    }

    /// Every row of this model, as a lazy [`QuerySet`] (Django's `Model.objects`).
    fn objects() -> QuerySet<Self> {
        QuerySet::new()
    }

    /// Inserts the instance if it is unsaved, updates it otherwise (Django's
    /// `save()`). A multi-table child writes its parent rows first, in one
    /// transaction. Runs the `pre_save`/`post_save` hooks.
    ///
    /// # Errors
    ///
    /// [`Error::UnsavedRelated`] when a related object has no key,
    /// [`Error::Integrity`] for constraint violations, [`Error::Hook`] when a
    /// hook fails (the save is then rolled back).
    fn save(&mut self, db: &Db) -> Result<()> {
        crate::ops::save::save(db, self, false, false)
    }

    /// Updates only the named fields (Django's `save(update_fields=[...])`):
    /// one `UPDATE ... SET <those columns> WHERE pk = ?` per table that holds
    /// one of them, so a field of a multi-table parent updates the parent's
    /// table. Names are Rust field names (or columns, `user_id`). The
    /// `pre_save`/`post_save` hooks run, with `created = false`; everything
    /// runs in one transaction. An empty list saves nothing and runs no hook,
    /// as in Django.
    ///
    /// # Examples
    ///
    /// ```
    /// use orm_core::prelude::*;
    ///
    /// #[derive(Model, Debug, Clone)]
    /// #[model(app = "docs")]
    /// pub struct Article {
    ///     pub id: Option<i64>,
    ///     #[field(max_length = 100)]
    ///     pub headline: String,
    ///     pub views: i64,
    /// }
    ///
    /// let db = Db::open_in_memory()?;
    /// db.migrate()?;
    /// let mut a = Article { id: None, headline: "Old".into(), views: 0 }.create(&db)?;
    /// a.headline = "New".into();
    /// a.views = 99;
    /// let (saved, captured) = db.capture(|| a.save_fields(&db, &["views"]));
    /// saved?;
    /// assert_eq!(captured.queries, [r#"UPDATE "docs_article" SET "views" = ? WHERE "id" = ?"#]);
    /// let stored = Article::get(&db, a.id)?;
    /// assert_eq!((stored.headline.as_str(), stored.views), ("Old", 99));
    /// # Ok::<(), orm_core::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Field`] naming every unknown (or primary-key) field, with
    /// Django's "The following fields do not exist in this model, are m2m
    /// fields, or are non-concrete fields: x"; [`Error::Refused`] for an
    /// unsaved instance ("Cannot force an update in save() with no primary
    /// key.") and when a table has no row with the key ("Save with
    /// update_fields did not affect any rows.", rolled back);
    /// [`Error::UnsavedRelated`], [`Error::InvalidValue`], a hook's error.
    fn save_fields(&mut self, db: &Db, fields: &[&str]) -> Result<()> {
        crate::ops::save::save_fields(db, self, fields)
    }

    /// Inserts, then returns the instance (Django's `objects.create(...)`).
    /// Unlike `save`, it never updates: with a primary key that already exists
    /// (a one-to-one primary key, say) it fails with a UNIQUE error.
    ///
    /// # Errors
    ///
    /// As [`Model::save`].
    fn create(mut self, db: &Db) -> Result<Self> {
        crate::ops::save::save(db, &mut self, false, true)?;
        Ok(self)
    }

    /// Reloads every column from the database (Django's `refresh_from_db`);
    /// cached related objects are dropped.
    ///
    /// # Errors
    ///
    /// [`Error::Unsaved`] for an unsaved instance, [`Error::DoesNotExist`]
    /// when the row is gone.
    fn refresh(&mut self, db: &Db) -> Result<()> {
        let pk = self.pk().ok_or(Error::Unsaved {
            model: Self::META.name,
            op: "refresh_from_db",
        })?;
        *self = get_by_pk::<Self>(db, &pk)?.ok_or(Error::DoesNotExist {
            model: Self::META.name,
        })?;
        Ok(())
    }

    /// Reloads every column from the database: Django's name for
    /// [`Model::refresh`], which it calls.
    ///
    /// # Examples
    ///
    /// ```
    /// use orm_core::prelude::*;
    ///
    /// #[derive(Model, Debug, Clone)]
    /// #[model(app = "docs")]
    /// pub struct Note {
    ///     pub id: Option<i64>,
    ///     pub text: String,
    /// }
    ///
    /// let db = Db::open_in_memory()?;
    /// db.migrate()?;
    /// let mut note = Note { id: None, text: "draft".into() }.create(&db)?;
    /// Note::objects().update(&db, vec![(Note::text(), Value::Text("final".into()))])?;
    /// note.refresh_from_db(&db)?;
    /// assert_eq!(note.text, "final");
    /// # Ok::<(), orm_core::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Model::refresh`].
    fn refresh_from_db(&mut self, db: &Db) -> Result<()> {
        self.refresh(db)
    }

    /// Reloads only the named fields (Django's `refresh_from_db(fields=[...])`):
    /// the row is read once by primary key and only those fields change in
    /// `self`; the others keep their unsaved values. Names are Rust field
    /// names (or columns), of this model or an ancestor. An empty list runs no
    /// query, as in Django.
    ///
    /// # Examples
    ///
    /// ```
    /// use orm_core::prelude::*;
    ///
    /// #[derive(Model, Debug, Clone)]
    /// #[model(app = "docs")]
    /// pub struct Draft {
    ///     pub id: Option<i64>,
    ///     pub title: String,
    ///     pub body: String,
    /// }
    ///
    /// let db = Db::open_in_memory()?;
    /// db.migrate()?;
    /// let mut d = Draft { id: None, title: "t".into(), body: "b".into() }.create(&db)?;
    /// Draft::objects().update(&db, vec![(Draft::title(), Value::Text("T".into()))])?;
    /// d.body = "unsaved edit".into();
    /// d.refresh_from_db_fields(&db, &["title"])?;
    /// assert_eq!((d.title.as_str(), d.body.as_str()), ("T", "unsaved edit"));
    /// # Ok::<(), orm_core::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Field`] for a name that is not a field ("Draft has no field
    /// named 'x'"), checked before any query; then as [`Model::refresh`].
    fn refresh_from_db_fields(&mut self, db: &Db, fields: &[&str]) -> Result<()> {
        let mut names = Vec::with_capacity(fields.len());
        for &name in fields {
            let Some((_, f)) = Self::META.find_field(name) else {
                return Err(Error::Field {
                    message: format!("{} has no field named '{name}'", Self::META.name),
                });
            };
            names.push(f.name);
        }
        if names.is_empty() {
            return Ok(());
        }
        let pk = self.pk().ok_or(Error::Unsaved {
            model: Self::META.name,
            op: "refresh_from_db",
        })?;
        let fresh = get_by_pk::<Self>(db, &pk)?.ok_or(Error::DoesNotExist {
            model: Self::META.name,
        })?;
        for name in names {
            if !self.__copy_field(&fresh, name) {
                return Err(Error::Field {
                    message: format!("{} has no field named '{name}'", Self::META.name),
                });
            }
        }
        Ok(())
    }

    /// True when `self` and `other` are the same database row (Django's
    /// `Model.__eq__`): both have a primary key and the keys are equal. The
    /// type makes the "same concrete model" part of Django's rule hold.
    /// An unsaved instance equals only itself (the same object in memory,
    /// as Django compares identity), never another unsaved instance.
    ///
    /// # Examples
    ///
    /// ```
    /// use orm_core::prelude::*;
    ///
    /// #[derive(Model, Debug, Clone)]
    /// #[model(app = "docs")]
    /// pub struct Tag {
    ///     pub id: Option<i64>,
    ///     pub name: String,
    /// }
    ///
    /// let a = Tag { id: Some(1), name: "a".into() };
    /// let b = Tag { id: Some(1), name: "changed".into() };
    /// assert!(a.same_row(&b));
    /// let unsaved = Tag { id: None, name: "a".into() };
    /// assert!(unsaved.same_row(&unsaved));
    /// assert!(!unsaved.same_row(&unsaved.clone()));
    /// ```
    fn same_row(&self, other: &Self) -> bool {
        match (self.pk(), other.pk()) {
            (Some(a), Some(b)) => a == b,
            (None, _) => std::ptr::eq(self, other),
            (Some(_), None) => false,
        }
    }

    /// Deletes the instance and everything its `on_delete` rules reach, in one
    /// transaction; the instance then reads as unsaved.
    ///
    /// # Errors
    ///
    /// [`Error::DeleteUnsaved`], [`Error::Protected`], [`Error::Restricted`],
    /// or a hook's error; nothing is deleted then.
    fn delete(&mut self, db: &Db) -> Result<Deleted> {
        crate::ops::delete::delete_instance(db, self, false)
    }

    /// Deletes a multi-table child's own row only, keeping its parent rows
    /// (Django's `delete(keep_parents=True)`).
    ///
    /// # Errors
    ///
    /// As [`Model::delete`].
    fn delete_keep_parents(&mut self, db: &Db) -> Result<Deleted> {
        crate::ops::delete::delete_instance(db, self, true)
    }

    /// Turns an existing parent row into this multi-table child without
    /// touching the parent's columns (the call Django's ticket #7623 asks for):
    /// only the missing child-level rows are inserted, then the instance is
    /// reloaded. `self` must carry the parent's primary key.
    ///
    /// # Errors
    ///
    /// [`Error::Unsaved`] without a key, [`Error::Usage`] for a model with no
    /// parent, [`Error::Integrity`] when the row is already this child.
    fn extend_parent(&mut self, db: &Db) -> Result<()> {
        crate::ops::save::extend_parent(db, self)
    }

    /// The instance with this primary key.
    ///
    /// # Errors
    ///
    /// [`Error::DoesNotExist`] when there is none.
    fn get(db: &Db, pk: impl crate::meta::types::ToValue) -> Result<Self> {
        let pk = crate::query::try_value(&pk).map_err(|reason| Error::InvalidValue {
            model: Self::META.name,
            field: Self::META.pk_field().name,
            value: "the key given to get()".into(),
            reason,
        })?;
        get_by_pk::<Self>(db, &pk)?.ok_or(Error::DoesNotExist {
            model: Self::META.name,
        })
    }

    /// Validates the instance (Django's `full_clean`): `max_length`, blank
    /// required text, uniqueness against the database, and each relation's
    /// `limit_choices_to`. All problems are reported at once, per field.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] listing every problem.
    fn full_clean(&self, db: &Db) -> Result<()> {
        crate::ops::validate::full_clean(db, self)
    }

    /// The object a forward one-to-one of this instance points at, named by
    /// its accessor (`profile.related(&db, Profile::user())`, Django's
    /// `profile.user`): knowing the owner, an unset key is Django's
    /// `RelatedObjectDoesNotExist` ("Profile has no user."). One query;
    /// [`OneToOne::get`](crate::OneToOne::get) caches on the field instead.
    ///
    /// # Errors
    ///
    /// [`Error::RelatedObjectDoesNotExist`] when the key is unset,
    /// [`Error::DoesNotExist`] when no row has it.
    fn related<T: Model>(&self, db: &Db, rel: crate::query::Rel<Self, T>) -> Result<T> {
        let field = match rel.path().steps.as_slice() {
            [crate::query::Step::Forward { field, .. }] => *field,
            _ => {
                return Err(Error::Usage(format!(
                    "related() on {} needs one forward relation of it",
                    Self::META.name
                )))
            }
        };
        let key = self.value_of(field.name).unwrap_or(Value::Null);
        if matches!(key, Value::Null) {
            return Err(Error::RelatedObjectDoesNotExist {
                model: Self::META.name,
                accessor: field.name,
            });
        }
        let target = field.target_field().unwrap_or_else(|| T::META.pk_field());
        QuerySet::<T>::new()
            .filter(crate::query::Q::column_eq(T::META, target, key))
            .get(db)
    }
}

impl<T: Record> Model for T {}
