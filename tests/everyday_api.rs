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

// ---------------------------------------------------------------- bulk_create

/// Django's `bulk_create.models.Country`.
#[derive(Model, Debug, Clone)]
#[model(app = "bulk")]
pub struct Country {
    pub id: Option<i64>,
    #[field(max_length = 255)]
    pub name: String,
    #[field(max_length = 2)]
    pub iso_two_letter: String,
}

/// A table with nothing but its auto key.
#[derive(Model, Debug, Clone)]
#[model(app = "bulk")]
pub struct NoFields {
    pub id: Option<i64>,
}

/// A narrow auto key.
#[derive(Model, Debug, Clone)]
#[model(app = "bulk")]
pub struct SmallKey {
    pub id: Option<i32>,
    pub n: i64,
}

fn countries() -> Vec<Country> {
    [
        ("United States of America", "US"),
        ("The Netherlands", "NL"),
        ("Germany", "DE"),
        ("Czech Republic", "CZ"),
    ]
    .into_iter()
    .map(|(name, iso)| Country {
        id: None,
        name: name.into(),
        iso_two_letter: iso.into(),
    })
    .collect()
}

// Django: bulk_create.tests.BulkCreateTests.test_simple and
// test_set_pk_and_query_efficiency (one query, keys set on the objects)
#[test]
fn bulk_create_inserts_in_one_statement_and_sets_keys() -> Result<()> {
    let db = db()?;
    let mut objs = countries();
    let (r, captured) = db.capture(|| Country::objects().bulk_create(&db, &mut objs));
    r?;
    assert_eq!(captured.len(), 1, "{captured:#?}");
    assert!(
        captured.queries[0].starts_with(r#"INSERT INTO "bulk_country" ("name", "iso_two_letter") VALUES (?, ?), (?, ?), (?, ?), (?, ?) RETURNING "id""#),
        "{captured:#?}"
    );
    for obj in &objs {
        let stored = Country::get(&db, obj.id)?;
        assert_eq!(stored.name, obj.name);
        assert_eq!(stored.iso_two_letter, obj.iso_two_letter);
    }
    assert_eq!(Country::objects().count(&db)?, 4);
    Ok(())
}

// Django: bulk_create.tests.BulkCreateTests.test_large_batch and
// test_large_batch_efficiency (batched under the limit of bound values)
#[test]
fn bulk_create_batches_large_inputs() -> Result<()> {
    let db = db()?;
    let mut objs: Vec<Country> = (0..1_234)
        .map(|i| Country {
            id: None,
            name: format!("c{i}"),
            iso_two_letter: "XX".into(),
        })
        .collect();
    let (r, captured) = db.capture(|| Country::objects().bulk_create(&db, &mut objs));
    r?;
    // At most 500 rows per statement: 500 + 500 + 234.
    assert_eq!(captured.len(), 3);
    assert_eq!(Country::objects().count(&db)?, 1_234);
    for (i, obj) in objs.iter().enumerate() {
        assert_eq!(obj.id, Some(i as i64 + 1));
    }
    let last = Country::get(&db, objs[1_233].id)?;
    assert_eq!(last.name, "c1233");
    Ok(())
}

// Django: bulk_create.tests.BulkCreateTests.test_explicit_batch_size_respects_max_batch_size
// (a mix of objects with and without keys; explicit keys are kept)
#[test]
fn bulk_create_keeps_explicit_keys() -> Result<()> {
    let db = db()?;
    let mut objs = countries();
    objs[1].id = Some(100);
    Country::objects().bulk_create(&db, &mut objs)?;
    assert_eq!(objs[1].id, Some(100));
    assert_eq!(Country::get(&db, 100)?.iso_two_letter, "NL");
    let auto: Vec<i64> = [0, 2, 3].iter().filter_map(|&i| objs[i].id).collect();
    assert_eq!(auto, [101, 102, 103]);
    for obj in &objs {
        assert_eq!(Country::get(&db, obj.id)?.name, obj.name);
    }
    Ok(())
}

// Django: bulk_create.tests.BulkCreateTests.test_empty_model
#[test]
fn bulk_create_a_model_with_no_fields() -> Result<()> {
    let db = db()?;
    let mut objs = vec![NoFields { id: None }; 3];
    NoFields::objects().bulk_create(&db, &mut objs)?;
    assert_eq!(NoFields::objects().count(&db)?, 3);
    assert_eq!(
        objs.iter().map(|o| o.id).collect::<Vec<_>>(),
        [Some(1), Some(2), Some(3)]
    );
    // Nothing to insert: no statement.
    let (r, captured) = db.capture(|| NoFields::objects().bulk_create(&db, &mut []));
    r?;
    assert!(captured.is_empty());
    Ok(())
}

// Django: bulk_create.tests.BulkCreateTests.test_unsaved_parent
#[test]
fn bulk_create_refuses_unsaved_related_objects() -> Result<()> {
    let db = db()?;
    let unsaved = User {
        id: None,
        username: "u".into(),
        is_staff: false,
    };
    let mut objs = vec![Profile {
        id: None,
        user: OneToOne::to(&unsaved),
        bio: None,
    }];
    let (r, captured) = db.capture(|| Profile::objects().bulk_create(&db, &mut objs));
    let err = r.expect_err("unsaved related object");
    assert!(
        matches!(
            err,
            Error::UnsavedRelated {
                op: "bulk_create",
                field: "user",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "bulk_create() prohibited to prevent data loss due to unsaved related object 'user'."
    );
    assert!(captured.is_empty());
    Ok(())
}

// Django: bulk_create.tests.BulkCreateTests.test_multi_table_inheritance_unsupported
#[test]
fn bulk_create_refuses_a_multi_table_child() -> Result<()> {
    let db = db()?;
    let mut objs = vec![Like {
        page: Page {
            id: None,
            page_name: "p".into(),
        },
        likes: 1,
    }];
    let err = Like::objects()
        .bulk_create(&db, &mut objs)
        .expect_err("multi-table child");
    assert!(
        matches!(
            err,
            Error::Refused {
                op: "bulk_create",
                model: "Like",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "Can't bulk create a multi-table inherited model"
    );
    assert_eq!(Page::objects().count(&db)?, 0);
    // The parent itself is fine.
    let mut pages = vec![Page {
        id: None,
        page_name: "p".into(),
    }];
    Page::objects().bulk_create(&db, &mut pages)?;
    assert_eq!(Page::objects().count(&db)?, 1);
    Ok(())
}

// Django: signals.tests / bulk_create docs: bulk_create sends no
// pre_save/post_save signals.
#[test]
fn bulk_create_runs_no_save_hooks() -> Result<()> {
    let db = db()?;
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let (a, b) = (log.clone(), log.clone());
    db.on_pre_save::<Country>(move |_, c| {
        a.lock().expect("log").push(format!("pre {}", c.name));
        Ok(())
    });
    db.on_post_save::<Country>(move |_, c, _| {
        b.lock().expect("log").push(format!("post {}", c.name));
        Ok(())
    });
    Country::objects().bulk_create(&db, &mut countries())?;
    assert!(log.lock().expect("log").is_empty());
    assert_eq!(Country::objects().count(&db)?, 4);
    Ok(())
}

// Django: bulk_create.tests.BulkCreateTests.test_bulk_insert_nullable_fields
// family: a failing row rolls back the whole call (no partial write), and the
// objects read as unsaved again.
#[test]
fn bulk_create_is_all_or_nothing() -> Result<()> {
    let db = db()?;
    let mut tags: Vec<Tag> = ["a", "b", "a"]
        .into_iter()
        .map(|t| Tag {
            id: None,
            text: t.into(),
        })
        .collect();
    let err = Tag::objects()
        .bulk_create(&db, &mut tags)
        .expect_err("duplicate text");
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
    assert_eq!(Tag::objects().count(&db)?, 0);
    assert!(tags.iter().all(|t| t.id.is_none()));
    Ok(())
}

// Django: model_fields.test_autofield (a key the field cannot hold is refused):
// an i32 key that SQLite assigns beyond i32::MAX undoes the whole call.
#[test]
fn bulk_create_narrow_key_overflow_rolls_back() -> Result<()> {
    let db = db()?;
    db.connection().execute(
        "INSERT INTO bulk_smallkey (id, n) VALUES (?1, 0)",
        [i64::from(i32::MAX) - 1],
    )?;
    let mut objs = vec![SmallKey { id: None, n: 1 }, SmallKey { id: None, n: 2 }];
    let err = SmallKey::objects()
        .bulk_create(&db, &mut objs)
        .expect_err("second key overflows");
    assert!(matches!(err, Error::InvalidValue { .. }), "{err:?}");
    assert_eq!(SmallKey::objects().count(&db)?, 1);
    assert!(objs.iter().all(|o| o.id.is_none()));
    Ok(())
}

// ---------------------------------------------------------------- bulk_update

// Django: queries.test_bulk_update.BulkUpdateTests.test_simple (and the
// rows-matched return value of test_updated_rows_when_passing_duplicates)
#[test]
fn bulk_update_sets_the_given_fields_only() -> Result<()> {
    let db = db()?;
    let mut objs = countries();
    Country::objects().bulk_create(&db, &mut objs)?;
    for c in &mut objs {
        c.name = c.name.to_uppercase();
        c.iso_two_letter = "??".into();
    }
    let (n, captured) =
        db.capture(|| Country::objects().bulk_update(&db, &objs, &[Country::name()]));
    assert_eq!(n?, 4);
    assert_eq!(captured.len(), 1, "{captured:#?}");
    assert!(captured.queries[0]
        .starts_with(r#"UPDATE "bulk_country" SET "name" = CASE WHEN "id" = ? THEN ?"#));
    for c in Country::objects().all(&db)? {
        assert_eq!(c.name, c.name.to_uppercase());
        assert_ne!(c.iso_two_letter, "??");
    }
    // The same object twice matches its row once.
    let twice = vec![objs[0].clone(), objs[0].clone()];
    assert_eq!(
        Country::objects().bulk_update(&db, &twice, &[Country::name()])?,
        1
    );
    Ok(())
}

// Django: queries.test_bulk_update.BulkUpdateNoteTests.test_batch_size / test_large_batch
#[test]
fn bulk_update_batches_large_inputs() -> Result<()> {
    let db = db()?;
    let mut objs: Vec<Country> = (0..1_100)
        .map(|i| Country {
            id: None,
            name: format!("c{i}"),
            iso_two_letter: "XX".into(),
        })
        .collect();
    Country::objects().bulk_create(&db, &mut objs)?;
    for c in &mut objs {
        c.name.push('!');
        c.iso_two_letter = "YY".into();
    }
    let (n, captured) = db.capture(|| {
        Country::objects().bulk_update(&db, &objs, &[Country::name(), Country::iso_two_letter()])
    });
    assert_eq!(n?, 1_100);
    assert_eq!(captured.len(), 3, "500 + 500 + 100 rows");
    assert_eq!(
        Country::objects()
            .filter(Country::name().ends_with("!") & Country::iso_two_letter().eq("YY"))
            .count(&db)?,
        1_100
    );
    Ok(())
}

// Django: queries.test_bulk_update.BulkUpdateTests.test_inherited_fields
#[test]
fn bulk_update_of_parent_fields_updates_the_parent_table() -> Result<()> {
    let db = db()?;
    let mut likes = Vec::new();
    for i in 0..3 {
        likes.push(
            Like {
                page: Page {
                    id: None,
                    page_name: format!("p{i}"),
                },
                likes: i,
            }
            .create(&db)?,
        );
    }
    // A page that is not a Like keeps its name even with a Like's key.
    let plain = Page {
        id: None,
        page_name: "plain".into(),
    }
    .create(&db)?;
    let mut stray = likes[0].clone();
    stray.page.id = plain.id;
    for l in &mut likes {
        l.page.page_name = format!("{}-renamed", l.page_name);
        l.likes += 100;
    }
    likes.push(stray);
    let n = Like::objects().bulk_update(
        &db,
        &likes,
        &[Page::page_name().on::<Like>(), Like::likes()],
    )?;
    assert_eq!(n, 3);
    for l in &likes[..3] {
        let stored = Like::get(&db, l.pk())?;
        assert!(stored.page_name.ends_with("-renamed"));
        assert!(stored.likes >= 100);
    }
    assert_eq!(Page::get(&db, plain.id)?.page_name, "plain");
    Ok(())
}

// Django: queries.test_bulk_update.BulkUpdateNoteTests.test_unsaved_models,
// test_no_fields, test_update_primary_key (Django's messages; nothing written)
#[test]
fn bulk_update_refusals_use_djangos_messages() -> Result<()> {
    let db = db()?;
    let mut objs = countries();
    Country::objects().bulk_create(&db, &mut objs)?;
    objs[0].name = "changed".into();
    let mut with_unsaved = objs.clone();
    with_unsaved.push(Country {
        id: None,
        name: "x".into(),
        iso_two_letter: "XX".into(),
    });
    let cases: Vec<(Result<u64>, &str)> = vec![
        (
            Country::objects().bulk_update(&db, &with_unsaved, &[Country::name()]),
            "All bulk_update() objects must have a primary key set.",
        ),
        (
            Country::objects().bulk_update(&db, &objs, &[]),
            "Field names must be given to bulk_update().",
        ),
        (
            Country::objects().bulk_update(&db, &objs, &[Country::id(), Country::name()]),
            "bulk_update() cannot be used with primary key fields.",
        ),
    ];
    for (r, message) in cases {
        let err = r.expect_err(message);
        assert!(
            matches!(
                err,
                Error::Refused {
                    op: "bulk_update",
                    model: "Country",
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(err.to_string(), message);
    }
    assert_eq!(
        Country::get(&db, objs[0].id)?.name,
        "United States of America"
    );
    // Related columns are refused.
    let err = Profile::objects()
        .bulk_update(&db, &[], &[Profile::user().then(User::username())])
        .expect_err("a related column");
    assert!(matches!(err, Error::Field { .. }), "{err:?}");
    Ok(())
}

// Django: queries.test_bulk_update.BulkUpdateTests.test_unsaved_parent
#[test]
fn bulk_update_refuses_unsaved_related_objects() -> Result<()> {
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
    let err = Profile::objects()
        .bulk_update(&db, &[p], &[Profile::user().key()])
        .expect_err("unsaved related");
    assert_eq!(
        err.to_string(),
        "bulk_update() prohibited to prevent data loss due to unsaved related object 'user'."
    );
    Ok(())
}

// Django: queries.test_bulk_update (a constraint violation in one batch
// rolls back every batch).
#[test]
fn bulk_update_is_all_or_nothing() -> Result<()> {
    let db = db()?;
    let mut tags: Vec<Tag> = (0..600)
        .map(|i| Tag {
            id: None,
            text: format!("t{i}"),
        })
        .collect();
    Tag::objects().bulk_create(&db, &mut tags)?;
    for t in &mut tags {
        t.text = format!("{}-new", t.text);
    }
    // The last object clashes with the first: the second batch fails.
    tags[599].text = tags[0].text.clone();
    let err = Tag::objects()
        .bulk_update(&db, &tags, &[Tag::text()])
        .expect_err("duplicate text");
    assert!(matches!(err, Error::Integrity { .. }), "{err:?}");
    assert_eq!(
        Tag::objects()
            .filter(Tag::text().ends_with("-new"))
            .count(&db)?,
        0
    );
    Ok(())
}

// ---------------------------------------------------------------- select_related()

/// Badge -> Account -> User, all required; `backup` is nullable.
#[derive(Model, Debug, Clone)]
#[model(app = "sr")]
pub struct Account {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", related_name = "account")]
    pub user: OneToOne<User>,
}

#[derive(Model, Debug, Clone)]
#[model(app = "sr")]
pub struct Badge {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", related_name = "badge")]
    pub account: OneToOne<Account>,
    #[one_to_one(on_delete = "set_null", related_name = "backup_badge")]
    pub backup: Option<OneToOne<User>>,
}

fn badges(db: &Db, n: usize) -> Result<()> {
    for i in 0..n {
        let user = User {
            id: None,
            username: format!("u{i}"),
            is_staff: false,
        }
        .create(db)?;
        let backup = User {
            id: None,
            username: format!("b{i}"),
            is_staff: false,
        }
        .create(db)?;
        let account = Account {
            id: None,
            user: OneToOne::to(&user),
        }
        .create(db)?;
        Badge {
            id: None,
            account: OneToOne::to(&account),
            backup: Some(OneToOne::to(&backup)),
        }
        .create(db)?;
    }
    Ok(())
}

// Django: select_related.tests.SelectRelatedTests.test_access_fks_without_select_related
// and test_access_fks_with_select_related (no argument: the whole required chain
// in one query)
#[test]
fn select_related_all_follows_required_chains_in_one_query() -> Result<()> {
    let db = db()?;
    badges(&db, 3)?;
    let walk = |qs: QuerySet<Badge>| {
        db.capture(|| -> Result<Vec<String>> {
            let mut out = Vec::new();
            for b in qs.all(&db)? {
                out.push(b.account.get(&db)?.user.get(&db)?.username.clone());
            }
            Ok(out)
        })
    };
    let (names, without) = walk(Badge::objects().order_by("id"));
    assert_eq!(names?, ["u0", "u1", "u2"]);
    assert_eq!(without.len(), 1 + 3 * 2);
    let (names, with) = walk(Badge::objects().order_by("id").select_related_all());
    assert_eq!(names?, ["u0", "u1", "u2"]);
    assert_eq!(with.len(), 1, "{with:#?}");
    assert!(with.queries[0].contains(r#"INNER JOIN "auth_user""#));
    Ok(())
}

// Django: select_related.tests.SelectRelatedTests.test_not_followed_by_default
// (a nullable relation is not followed by the no-argument form) and
// test_select_related_with_extra-like combination with a named relation.
#[test]
fn select_related_all_skips_nullable_relations() -> Result<()> {
    let db = db()?;
    badges(&db, 1)?;
    let (r, captured) = db.capture(|| -> Result<String> {
        let b = Badge::objects().select_related_all().get(&db)?;
        let backup = b.backup.as_ref().expect("set").get(&db)?;
        Ok(backup.username.clone())
    });
    assert_eq!(r?, "b0");
    assert_eq!(captured.len(), 2, "{captured:#?}");
    // Named as well: one query.
    let (r, captured) = db.capture(|| -> Result<String> {
        let b = Badge::objects()
            .select_related_all()
            .select_related("backup")
            .get(&db)?;
        let backup = b.backup.as_ref().expect("set").get(&db)?;
        Ok(format!(
            "{} {}",
            backup.username,
            b.account.get(&db)?.user.get(&db)?.username
        ))
    });
    assert_eq!(r?, "b0 u0");
    assert_eq!(captured.len(), 1, "{captured:#?}");
    Ok(())
}

// Django: select_related.tests.SelectRelatedTests (no relations: the plain query)
#[test]
fn select_related_all_on_a_model_without_relations_is_the_plain_query() -> Result<()> {
    let plain = Person::objects().to_sql()?;
    let all = Person::objects().select_related_all().to_sql()?;
    assert_eq!(plain, all);
    Ok(())
}

// Django: basic.tests.ModelRefreshTests.test_refresh_fk / test_unknown_kwarg-like:
// refresh_from_db(fields=[...]) reloads only the named fields.
#[test]
fn refresh_from_db_fields_reloads_only_the_named_fields() -> Result<()> {
    let db = db()?;
    let mut like = Like {
        page: Page {
            id: None,
            page_name: "home".into(),
        },
        likes: 1,
    }
    .create(&db)?;
    Like::objects().update(
        &db,
        vec![
            (
                Page::page_name().on::<Like>(),
                Value::Text("renamed".into()),
            ),
            (Like::likes(), Value::Integer(9)),
        ],
    )?;
    like.likes = -1;
    // A parent's field, by name: one query.
    let (r, captured) = db.capture(|| like.refresh_from_db_fields(&db, &["page_name"]));
    r?;
    assert_eq!(captured.len(), 1);
    assert_eq!((like.page_name.as_str(), like.likes), ("renamed", -1));
    like.refresh_from_db_fields(&db, &["likes"])?;
    assert_eq!(like.likes, 9);
    // Nothing named: no query. An unknown name: an error before any query.
    let (r, captured) = db.capture(|| like.refresh_from_db_fields(&db, &[]));
    r?;
    assert!(captured.is_empty());
    let (r, captured) = db.capture(|| like.refresh_from_db_fields(&db, &["nope"]));
    assert_eq!(
        r.expect_err("unknown").to_string(),
        "Like has no field named 'nope'"
    );
    assert!(captured.is_empty());
    Ok(())
}
