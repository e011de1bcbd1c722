//! `get_or_create` and `update_or_create` (Django's `QuerySet` methods of the
//! same names): the queryset's filter is the lookup, a closure builds the
//! object to create.

use crate::error::{Error, Result};
use crate::exec::db::Db;
use crate::ops::model::Model;
use crate::query::QuerySet;

impl<M: Model> QuerySet<M> {
    /// The one object the query matches, or a new one built by `create` and
    /// inserted (Django's `get_or_create`); the flag is true when it was
    /// created.
    ///
    /// The query's filter plays the part of Django's lookup keywords and
    /// `create` the part of the keywords plus `defaults`: it runs only when
    /// nothing matches, and should build an object the filter matches (as in
    /// Django, nothing checks that; an object that does not match is created
    /// again by the next call). Everything runs in one transaction
    /// ([`Db::atomic`]; on SQLite a write transaction, `BEGIN IMMEDIATE`, so
    /// two handles cannot both miss and both create). The insert runs in a
    /// savepoint: when it fails with an [`Error::Integrity`] (another writer
    /// created the row, or a UNIQUE column clashes), the lookup is tried again
    /// and its object returned, like Django does; if it still finds nothing
    /// the integrity error is returned.
    ///
    /// The object is created with [`Model::create`] (an insert, never an
    /// update), so its hooks run.
    ///
    /// # Examples
    ///
    /// ```
    /// use orm_core::prelude::*;
    ///
    /// #[derive(Model, Debug, Clone)]
    /// #[model(app = "docs")]
    /// pub struct Person {
    ///     pub id: Option<i64>,
    ///     #[field(max_length = 50)]
    ///     pub first_name: String,
    ///     #[field(max_length = 50)]
    ///     pub last_name: String,
    ///     pub birth_year: i64,
    /// }
    ///
    /// let db = Db::open_in_memory()?;
    /// db.migrate()?;
    /// let lookup = Person::objects()
    ///     .filter(Person::first_name().eq("George") & Person::last_name().eq("Harrison"));
    /// let build = || Person { id: None, first_name: "George".into(), last_name: "Harrison".into(), birth_year: 1943 };
    /// let (george, created) = lookup.get_or_create(&db, build)?;
    /// assert!(created);
    /// let (again, created) = lookup.get_or_create(&db, build)?;
    /// assert!(!created);
    /// assert!(again.same_row(&george));
    /// assert_eq!(Person::objects().count(&db)?, 1);
    /// # Ok::<(), orm_core::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::MultipleObjectsReturned`] when the filter matches more than
    /// one row; [`Error::Integrity`] when the insert fails and the lookup
    /// still finds nothing; the errors of [`QuerySet::get`] and
    /// [`Model::create`]. Nothing is written then.
    pub fn get_or_create(&self, db: &Db, create: impl FnOnce() -> M) -> Result<(M, bool)> {
        db.atomic(|db| get_or_create_in(self, db, create))
    }

    /// Updates the one object the query matches with `update` and saves it,
    /// or creates one with `create` (Django's `update_or_create`, where
    /// `update` plays `defaults` and `create` plays the lookup plus
    /// `create_defaults`); the flag is true when it was created, in which case
    /// `update` does not run.
    ///
    /// Django locks the row with `select_for_update()` so that nobody changes
    /// it between the read and the save. On SQLite every write transaction
    /// here starts `BEGIN IMMEDIATE`, which takes the database's write lock
    /// before the read, so the whole call is already serialized with other
    /// writers; the read, `update` and the save run in that one transaction.
    /// The save is a full [`Model::save`] (hooks run with `created = false`).
    ///
    /// # Examples
    ///
    /// ```
    /// use orm_core::prelude::*;
    ///
    /// #[derive(Model, Debug, Clone)]
    /// #[model(app = "docs")]
    /// pub struct Counter {
    ///     pub id: Option<i64>,
    ///     #[field(unique, max_length = 20)]
    ///     pub name: String,
    ///     pub hits: i64,
    /// }
    ///
    /// let db = Db::open_in_memory()?;
    /// db.migrate()?;
    /// let home = Counter::objects().filter(Counter::name().eq("home"));
    /// for _ in 0..3 {
    ///     home.update_or_create(
    ///         &db,
    ///         |c| c.hits += 1,
    ///         || Counter { id: None, name: "home".into(), hits: 1 },
    ///     )?;
    /// }
    /// assert_eq!(home.get(&db)?.hits, 3);
    /// # Ok::<(), orm_core::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`QuerySet::get_or_create`], and those of [`Model::save`]; nothing
    /// is written then.
    pub fn update_or_create(
        &self,
        db: &Db,
        update: impl FnOnce(&mut M),
        create: impl FnOnce() -> M,
    ) -> Result<(M, bool)> {
        db.atomic(|db| {
            let (mut obj, created) = get_or_create_in(self, db, create)?;
            if !created {
                update(&mut obj);
                obj.save(db)?;
            }
            Ok((obj, created))
        })
    }
}

/// [`QuerySet::get_or_create`] inside the caller's transaction.
fn get_or_create_in<M: Model>(
    qs: &QuerySet<M>,
    db: &Db,
    create: impl FnOnce() -> M,
) -> Result<(M, bool)> {
    match qs.get(db) {
        Ok(obj) => return Ok((obj, false)),
        Err(Error::DoesNotExist { .. }) => {}
        Err(e) => return Err(e),
    }
    let obj = create();
    // A savepoint, so that a failed insert leaves the transaction usable for
    // the second lookup.
    match db.atomic(|db| obj.create(db)) {
        Ok(obj) => Ok((obj, true)),
        Err(err @ Error::Integrity { .. }) => match qs.get(db) {
            Ok(obj) => Ok((obj, false)),
            Err(Error::DoesNotExist { .. }) => Err(err),
            Err(other) => Err(other),
        },
        Err(err) => Err(err),
    }
}
