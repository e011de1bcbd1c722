//! Django's everyday model and queryset API: `get_or_create`,
//! `update_or_create`, `bulk_create`, `bulk_update`, `save(update_fields=...)`,
//! `refresh_from_db`, instance equality and the no-argument `select_related()`.
//! Each test names the Django test it is modelled on.

use std::sync::{Arc, Mutex};

use orm_core::prelude::*;
use orm_core::Constraint;

#[derive(Model, Debug, Clone)]
#[model(app = "auth")]
pub struct User {
    pub id: Option<i64>,
    #[field(unique, max_length = 150)]
    pub username: String,
    pub is_staff: bool,
}

#[derive(Model, Debug, Clone)]
#[model(app = "app")]
pub struct Profile {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", related_name = "profile")]
    pub user: OneToOne<User>,
    pub bio: Option<String>,
}

/// Django's `get_or_create.models.Person`.
#[derive(Model, Debug, Clone)]
#[model(app = "goc")]
pub struct Person {
    pub id: Option<i64>,
    #[field(max_length = 100)]
    pub first_name: String,
    #[field(max_length = 100)]
    pub last_name: String,
    pub birthday: Option<String>,
}

/// Django's `get_or_create.models.ManualPrimaryKeyTest`.
#[derive(Model, Debug, Clone)]
#[model(app = "goc")]
pub struct ManualPrimaryKeyTest {
    #[field(primary_key)]
    pub id: i64,
    #[field(max_length = 100)]
    pub data: String,
}

/// Django's `get_or_create.models.Tag`: a unique text.
#[derive(Model, Debug, Clone)]
#[model(app = "goc")]
pub struct Tag {
    pub id: Option<i64>,
    #[field(unique, max_length = 255)]
    pub text: String,
}

#[derive(Model, Debug, Clone)]
#[model(app = "app")]
pub struct Page {
    pub id: Option<i64>,
    pub page_name: String,
}

/// A multi-table child of `Page` (Django's `class Like(Page)`).
#[derive(Model, Debug, Clone)]
#[model(app = "app")]
pub struct Like {
    #[parent]
    pub page: Page,
    pub likes: i64,
}

fn db() -> Result<Db> {
    let db = Db::open_in_memory()?;
    db.migrate()?;
    Ok(db)
}

fn john() -> Person {
    Person {
        id: None,
        first_name: "John".into(),
        last_name: "Lennon".into(),
        birthday: Some("1940-10-09".into()),
    }
}

fn george() -> Person {
    Person {
        id: None,
        first_name: "George".into(),
        last_name: "Harrison".into(),
        birthday: Some("1943-02-25".into()),
    }
}

fn named(first: &str, last: &str) -> QuerySet<Person> {
    Person::objects().filter(Person::first_name().eq(first) & Person::last_name().eq(last))
}

// ---------------------------------------------------------------- get_or_create

// Django: get_or_create.tests.GetOrCreateTests.test_get_or_create_method_with_get
#[test]
fn get_or_create_gets_the_existing_row() -> Result<()> {
    let db = db()?;
    let existing = john().create(&db)?;
    let (p, created) = named("John", "Lennon").get_or_create(&db, || {
        panic!("the closure runs only when nothing matches (test_callable_defaults_not_called)")
    })?;
    assert!(!created);
    assert!(p.same_row(&existing));
    assert_eq!(Person::objects().count(&db)?, 1);
    Ok(())
}

// Django: get_or_create.tests.GetOrCreateTests.test_get_or_create_method_with_create
// and test_get_or_create_redundant_instance
#[test]
fn get_or_create_creates_once() -> Result<()> {
    let db = db()?;
    john().create(&db)?;
    let (p, created) = named("George", "Harrison").get_or_create(&db, george)?;
    assert!(created);
    assert!(p.id.is_some());
    assert_eq!(Person::objects().count(&db)?, 2);
    let (again, created) = named("George", "Harrison").get_or_create(&db, george)?;
    assert!(!created);
    assert!(again.same_row(&p));
    assert_eq!(Person::objects().count(&db)?, 2);
    Ok(())
}

// Django: get_or_create.tests.GetOrCreateTests (get() semantics): more than one
// match is MultipleObjectsReturned, and nothing is created.
#[test]
fn get_or_create_with_two_matches_is_multiple_objects_returned() -> Result<()> {
    let db = db()?;
    john().create(&db)?;
    john().create(&db)?;
    let err = named("John", "Lennon")
        .get_or_create(&db, john)
        .expect_err("two rows match");
    assert!(
        matches!(
            err,
            Error::MultipleObjectsReturned {
                model: "Person",
                count: 2
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "get() returned more than one Person -- it returned 2!"
    );
    assert_eq!(Person::objects().count(&db)?, 2);
    Ok(())
}

// Django: get_or_create.tests.GetOrCreateTestsWithManualPKs.test_create_with_duplicate_primary_key
#[test]
fn get_or_create_duplicate_primary_key_is_integrity_error_and_keeps_the_row() -> Result<()> {
    let db = db()?;
    ManualPrimaryKeyTest {
        id: 1,
        data: "Original".into(),
    }
    .create(&db)?;
    let err = ManualPrimaryKeyTest::objects()
        .filter(ManualPrimaryKeyTest::id().eq(1) & ManualPrimaryKeyTest::data().eq("Different"))
        .get_or_create(&db, || ManualPrimaryKeyTest {
            id: 1,
            data: "Different".into(),
        })
        .expect_err("the key exists");
    assert!(
        matches!(
            err,
            Error::Integrity {
                kind: Constraint::Unique,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(ManualPrimaryKeyTest::get(&db, 1)?.data, "Original");
    Ok(())
}

// Django: get_or_create.tests.GetOrCreateTestsWithManualPKs.test_savepoint_rollback
#[test]
fn get_or_create_failed_insert_leaves_the_handle_usable() -> Result<()> {
    let db = db()?;
    Tag {
        id: None,
        text: "foo".into(),
    }
    .create(&db)?;
    let err = Tag::objects()
        .filter(Tag::id().eq(123_456_789))
        .get_or_create(&db, || Tag {
            id: None,
            text: "foo".into(),
        })
        .expect_err("text is unique");
    assert!(matches!(err, Error::Integrity { .. }), "{err:?}");
    assert!(!db.in_transaction());
    Tag {
        id: None,
        text: "bar".into(),
    }
    .create(&db)?;
    assert_eq!(Tag::objects().count(&db)?, 2);
    Ok(())
}

// Django: get_or_create.tests.UpdateOrCreateTransactionTests.test_updates_in_transaction
// (two threads race on the same lookup). On SQLite the transaction starts
// BEGIN IMMEDIATE, so the second handle waits for the first to commit, then
// finds its row: exactly one is created.
#[test]
fn get_or_create_from_two_handles_creates_one_row() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("orm-everyday-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| Error::Usage(e.to_string()))?;
    let path = dir.join("race.sqlite3");
    let _ = std::fs::remove_file(&path);
    Db::open(&path)?.migrate()?;
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || -> Result<bool> {
                let db = Db::open(&path)?;
                let (_, created) = Tag::objects()
                    .filter(Tag::text().eq("raced"))
                    .get_or_create(&db, || {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        Tag {
                            id: None,
                            text: "raced".into(),
                        }
                    })?;
                Ok(created)
            })
        })
        .collect();
    let mut created = 0;
    for t in threads {
        if t.join().expect("thread")? {
            created += 1;
        }
    }
    assert_eq!(created, 1);
    assert_eq!(Tag::objects().count(&Db::open(&path)?)?, 1);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

// Django: get_or_create.tests.GetOrCreateTests.test_get_or_create_on_related_manager
// (the seed's profile idiom): Profile.objects.get_or_create(user=user).
#[test]
fn get_or_create_through_a_relation() -> Result<()> {
    let db = db()?;
    let user = User {
        id: None,
        username: "ann".into(),
        is_staff: false,
    }
    .create(&db)?;
    let lookup = Profile::objects().filter(Profile::user().eq(user.id));
    let make = || Profile {
        id: None,
        user: OneToOne::to(&user),
        bio: None,
    };
    let (first, created) = lookup.get_or_create(&db, make)?;
    assert!(created);
    let (second, created) = lookup.get_or_create(&db, make)?;
    assert!(!created);
    assert!(first.same_row(&second));
    assert!(user.profile(&db)?.same_row(&first));
    Ok(())
}

// ---------------------------------------------------------------- update_or_create

// Django: get_or_create.tests.UpdateOrCreateTests.test_update
#[test]
fn update_or_create_updates() -> Result<()> {
    let db = db()?;
    john().create(&db)?;
    let (p, created) = named("John", "Lennon").update_or_create(
        &db,
        |p| p.birthday = Some("1940-10-10".into()),
        || panic!("exists"),
    )?;
    assert!(!created);
    assert_eq!(p.birthday.as_deref(), Some("1940-10-10"));
    assert_eq!(
        named("John", "Lennon").get(&db)?.birthday.as_deref(),
        Some("1940-10-10")
    );
    Ok(())
}

// Django: get_or_create.tests.UpdateOrCreateTests.test_create and test_create_twice
#[test]
fn update_or_create_creates_then_updates() -> Result<()> {
    let db = db()?;
    let run = || {
        named("John", "Lennon").update_or_create(
            &db,
            |p| p.birthday = Some("1950-02-02".into()),
            || Person {
                birthday: Some("1940-10-10".into()),
                ..john()
            },
        )
    };
    let (p, created) = run()?;
    assert!(created);
    assert_eq!(p.birthday.as_deref(), Some("1940-10-10"));
    let (p, created) = run()?;
    assert!(!created);
    assert_eq!(p.birthday.as_deref(), Some("1950-02-02"));
    assert_eq!(Person::objects().count(&db)?, 1);
    Ok(())
}

// Django: get_or_create.tests.UpdateOrCreateTests.test_manual_primary_key_test
#[test]
fn update_or_create_duplicate_primary_key_keeps_the_row() -> Result<()> {
    let db = db()?;
    ManualPrimaryKeyTest {
        id: 1,
        data: "Original".into(),
    }
    .create(&db)?;
    let err = ManualPrimaryKeyTest::objects()
        .filter(ManualPrimaryKeyTest::id().eq(1) & ManualPrimaryKeyTest::data().eq("Different"))
        .update_or_create(
            &db,
            |_| {},
            || ManualPrimaryKeyTest {
                id: 1,
                data: "Different".into(),
            },
        )
        .expect_err("the key exists");
    assert!(matches!(err, Error::Integrity { .. }), "{err:?}");
    assert_eq!(ManualPrimaryKeyTest::get(&db, 1)?.data, "Original");
    Ok(())
}

// Django: signals.tests.SignalTests.test_save_signals (update_or_create saves
// through save(): post_save with created = false after the update).
#[test]
fn update_or_create_runs_the_save_hooks() -> Result<()> {
    let db = db()?;
    let log: Arc<Mutex<Vec<bool>>> = Arc::default();
    let seen = log.clone();
    db.on_post_save::<Person>(move |_, _, created| {
        seen.lock().expect("log").push(created);
        Ok(())
    });
    let upsert = || named("John", "Lennon").update_or_create(&db, |p| p.birthday = None, john);
    upsert()?;
    upsert()?;
    assert_eq!(*log.lock().expect("log"), [true, false]);
    Ok(())
}

// ---------------------------------------------------------------- save(update_fields)

// Django: update_only_fields.tests.UpdateOnlyFieldsTests.test_update_fields_basic
#[test]
fn save_fields_updates_only_the_named_columns() -> Result<()> {
    let db = db()?;
    let mut p = john().create(&db)?;
    p.first_name = "Johnny".into();
    p.last_name = "Changed".into();
    let ((), captured) = {
        let (r, c) = db.capture(|| p.save_fields(&db, &["first_name"]));
        (r?, c)
    };
    assert_eq!(
        captured.queries,
        [r#"UPDATE "goc_person" SET "first_name" = ? WHERE "id" = ?"#]
    );
    let stored = Person::get(&db, p.id)?;
    assert_eq!(stored.first_name, "Johnny");
    assert_eq!(stored.last_name, "Lennon");
    Ok(())
}

// Django: update_only_fields.tests.UpdateOnlyFieldsTests.test_update_fields_inheritance
// and model_inheritance (save(update_fields=("name",)) on a child updates the
// parent's table only).
#[test]
fn save_fields_of_a_parent_update_the_parent_table() -> Result<()> {
    let db = db()?;
    let mut like = Like {
        page: Page {
            id: None,
            page_name: "home".into(),
        },
        likes: 1,
    }
    .create(&db)?;
    like.page.page_name = "about".into();
    like.likes = 50;
    let (r, captured) = db.capture(|| like.save_fields(&db, &["page_name"]));
    r?;
    assert_eq!(
        captured.queries,
        [r#"UPDATE "app_page" SET "page_name" = ? WHERE "id" = ?"#]
    );
    let stored = Like::get(&db, like.pk())?;
    assert_eq!((stored.page_name.as_str(), stored.likes), ("about", 1));
    // Both tables at once: one UPDATE each.
    let (r, captured) = db.capture(|| like.save_fields(&db, &["likes", "page_name"]));
    r?;
    assert_eq!(captured.len(), 2, "{captured:#?}");
    assert_eq!(Like::get(&db, like.pk())?.likes, 50);
    Ok(())
}

// Django: update_only_fields.tests.UpdateOnlyFieldsTests.test_update_fields_incorrect_params
#[test]
fn save_fields_unknown_names_are_listed() -> Result<()> {
    let db = db()?;
    let mut p = john().create(&db)?;
    let (r, captured) = db.capture(|| p.save_fields(&db, &["first_name", "nope", "id"]));
    let err = r.expect_err("unknown field");
    assert!(matches!(err, Error::Field { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "The following fields do not exist in this model, are m2m fields, or are non-concrete fields: nope, id"
    );
    assert!(captured.is_empty());
    Ok(())
}

// Django: update_only_fields.tests.UpdateOnlyFieldsTests.test_update_fields_signals
// (pre_save/post_save run, created = false) and test_empty_update_fields (an
// empty list saves nothing and sends no signal).
#[test]
fn save_fields_runs_hooks_and_an_empty_list_does_nothing() -> Result<()> {
    let db = db()?;
    let mut p = john().create(&db)?;
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let (a, b) = (log.clone(), log.clone());
    db.on_pre_save::<Person>(move |_, p| {
        a.lock().expect("log").push(format!("pre {}", p.first_name));
        Ok(())
    });
    db.on_post_save::<Person>(move |_, _, created| {
        b.lock()
            .expect("log")
            .push(format!("post created={created}"));
        Ok(())
    });
    p.first_name = "J".into();
    let (r, captured) = db.capture(|| p.save_fields(&db, &[]));
    r?;
    assert!(captured.is_empty());
    assert!(log.lock().expect("log").is_empty());
    p.save_fields(&db, &["first_name"])?;
    assert_eq!(*log.lock().expect("log"), ["pre J", "post created=false"]);
    Ok(())
}

// Django: update_only_fields.tests.UpdateOnlyFieldsTests (save() with
// update_fields on an unsaved instance: "Cannot force an update in save()
// with no primary key.").
#[test]
fn save_fields_on_an_unsaved_instance_is_refused() -> Result<()> {
    let db = db()?;
    let mut p = john();
    let err = p
        .save_fields(&db, &["first_name"])
        .expect_err("no primary key");
    assert!(
        matches!(
            err,
            Error::Refused {
                op: "save",
                model: "Person",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "Cannot force an update in save() with no primary key."
    );
    assert_eq!(Person::objects().count(&db)?, 0);
    Ok(())
}

// Django: update_only_fields.tests.UpdateOnlyFieldsTests.test_update_fields_deferred
// family: a save with update_fields of a deleted row raises DatabaseError
// "Save with update_fields did not affect any rows." (base.py _save_table).
#[test]
fn save_fields_of_a_deleted_row_is_refused_and_rolled_back() -> Result<()> {
    let db = db()?;
    let mut like = Like {
        page: Page {
            id: None,
            page_name: "home".into(),
        },
        likes: 1,
    }
    .create(&db)?;
    // The child row goes, the parent row stays: the parent UPDATE matches,
    // the child's does not, and the whole save is rolled back.
    let mut ghost = like.clone();
    ghost.delete_keep_parents(&db)?;
    like.page.page_name = "changed".into();
    let err = like
        .save_fields(&db, &["page_name", "likes"])
        .expect_err("no child row");
    assert_eq!(
        err.to_string(),
        "Save with update_fields did not affect any rows."
    );
    assert_eq!(Page::get(&db, like.pk())?.page_name, "home");
    Ok(())
}

// Django: model_fields / many_to_one "save() prohibited to prevent data loss
// due to unsaved related object" applies to update_fields saves too.
#[test]
fn save_fields_refuses_an_unsaved_related_object() -> Result<()> {
    let db = db()?;
    let user = User {
        id: None,
        username: "u".into(),
        is_staff: false,
    }
    .create(&db)?;
    let mut p = Profile {
        id: None,
        user: OneToOne::to(&user),
        bio: None,
    }
    .create(&db)?;
    let unsaved = User {
        id: None,
        username: "v".into(),
        is_staff: false,
    };
    p.user = OneToOne::to(&unsaved);
    let err = p.save_fields(&db, &["user"]).expect_err("unsaved related");
    assert_eq!(
        err.to_string(),
        "save() prohibited to prevent data loss due to unsaved related object 'user'."
    );
    Ok(())
}

// ---------------------------------------------------------------- refresh_from_db, same_row

// Django: basic.tests.ModelRefreshTests.test_refresh
#[test]
fn refresh_from_db_reloads() -> Result<()> {
    let db = db()?;
    let mut p = john().create(&db)?;
    Person::objects().update(&db, vec![(Person::first_name(), Value::Text("Jo".into()))])?;
    p.refresh_from_db(&db)?;
    assert_eq!(p.first_name, "Jo");
    let mut gone = p.clone();
    p.delete(&db)?;
    let err = gone.refresh_from_db(&db).expect_err("deleted");
    assert!(err.is_does_not_exist(), "{err:?}");
    Ok(())
}

// Django: basic.tests.ModelTest.test_eq and
// basic.tests.ModelTest.test_not_equal_and_equal_operators_behave_as_expected_on_instances
#[test]
fn same_row_compares_primary_keys() -> Result<()> {
    let db = db()?;
    let a1 = john().create(&db)?;
    let a2 = george().create(&db)?;
    assert!(!a1.same_row(&a2));
    assert!(a1.same_row(&Person::get(&db, a1.id)?));
    assert!(!Person::get(&db, a1.id)?.same_row(&Person::get(&db, a2.id)?));
    // Article(id=1) == Article(id=1)
    let with_id = |id| Person {
        id: Some(id),
        ..john()
    };
    assert!(with_id(1).same_row(&with_id(1)));
    // a = Article(); a == a; Article() != a
    let a = john();
    assert!(a.same_row(&a));
    assert!(!john().same_row(&a));
    assert!(!a.same_row(&a1));
    assert!(!a1.same_row(&a));
    Ok(())
}
