//! Django parity: model options (`verbose_name`, `ordering`), Django's
//! messages, the order of delete hooks and the number of statements a delete
//! runs. Each test names the Django test it is modelled on.

use std::sync::{Arc, Mutex};

use orm_core::prelude::*;

// ------------------------------------------------------------------ models

#[derive(Model, Debug, Clone)]
#[model(app = "parity")]
pub struct User {
    pub id: Option<i64>,
    #[field(max_length = 150, unique)]
    pub username: String,
}

#[derive(Model, Debug, Clone)]
#[model(app = "parity")]
pub struct Profile {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade")]
    pub user: OneToOne<User>,
    pub bio: String,
}

/// Default verbose names: "grand parent", "grand parents".
#[derive(Model, Debug, Clone)]
#[model(app = "parity")]
pub struct GrandParent {
    pub id: Option<i64>,
    #[field(max_length = 100, unique)]
    pub email_address: String,
}

/// Declared verbose names.
#[derive(Model, Debug, Clone)]
#[model(
    app = "parity",
    verbose_name = "person",
    verbose_name_plural = "people"
)]
pub struct Human {
    pub id: Option<i64>,
    #[field(max_length = 100, unique)]
    pub email: String,
}

/// A default ordering: newest first, then by title.
#[derive(Model, Debug, Clone)]
#[model(app = "parity", ordering = "-created, title")]
pub struct Article {
    pub id: Option<i64>,
    pub created: i64,
    #[field(max_length = 50)]
    pub title: String,
}

/// A multi-table parent with an ordering its children inherit.
#[derive(Model, Debug, Clone)]
#[model(app = "parity", ordering = "-name")]
pub struct Place {
    pub id: Option<i64>,
    #[field(max_length = 50)]
    pub name: String,
}

#[derive(Model, Debug, Clone)]
#[model(app = "parity")]
pub struct Chef {
    pub id: Option<i64>,
    #[field(max_length = 50)]
    pub name: String,
}

#[derive(Model, Debug, Clone)]
#[model(app = "parity")]
pub struct Restaurant {
    #[parent]
    pub place: Place,
    pub rating: i64,
    #[one_to_one(on_delete = "set_null")]
    pub chef: Option<OneToOne<Chef>>,
}

/// A child whose ordering names a field neither it nor its parent has: the
/// derive cannot tell (the name could be the parent's), the query can.
#[derive(Model, Debug, Clone)]
#[model(app = "parity", ordering = "stars")]
pub struct Bistro {
    #[parent]
    pub place: Place,
    pub rating: i64,
}

/// The chain of Django's `test_deletion_order`: R <- S <- T <- U (CASCADE),
/// and a multi-table child of R.
#[derive(Model, Debug, Clone)]
#[model(app = "parity")]
pub struct R {
    pub id: Option<i64>,
}

#[derive(Model, Debug, Clone)]
#[model(app = "parity")]
pub struct S {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade")]
    pub r: OneToOne<R>,
}

#[derive(Model, Debug, Clone)]
#[model(app = "parity")]
pub struct T {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade")]
    pub s: OneToOne<S>,
}

#[derive(Model, Debug, Clone)]
#[model(app = "parity")]
pub struct U {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade")]
    pub t: OneToOne<T>,
}

#[derive(Model, Debug, Clone)]
#[model(app = "parity")]
pub struct RChild {
    #[parent]
    pub r: R,
}

fn db() -> Result<Db> {
    let db = Db::open_in_memory()?;
    db.migrate()?;
    Ok(db)
}

fn user(db: &Db, name: &str) -> Result<User> {
    User {
        id: None,
        username: name.into(),
    }
    .create(db)
}

// --------------------------------------------------------- model options

// Django: model_meta / `Options.contribute_to_class` (verbose_name from
// `camel_case_to_spaces`, verbose_name_plural = verbose_name + "s").
#[test]
fn verbose_names_default_like_django() {
    assert_eq!(GrandParent::META.verbose_name, "grand parent");
    assert_eq!(GrandParent::META.verbose_name_plural, "grand parents");
    assert_eq!(Human::META.verbose_name, "person");
    assert_eq!(Human::META.verbose_name_plural, "people");
    assert_eq!(RChild::META.verbose_name, "r child");
}

// Django: validation.test_unique.PerformUniqueChecksTest.test_unique_errors
// ("%(model_name)s with this %(field_label)s already exists.", both capfirst).
#[test]
fn unique_message_uses_verbose_names() -> Result<()> {
    let db = db()?;
    GrandParent {
        id: None,
        email_address: "a@b.c".into(),
    }
    .create(&db)?;
    let dup = GrandParent {
        id: None,
        email_address: "a@b.c".into(),
    };
    let Err(Error::Validation(v)) = dup.full_clean(&db) else {
        panic!("expected a validation error");
    };
    assert_eq!(
        v.field("email_address"),
        ["Grand parent with this Email address already exists."]
    );
    Human {
        id: None,
        email: "x@y.z".into(),
    }
    .create(&db)?;
    let dup = Human {
        id: None,
        email: "x@y.z".into(),
    };
    let Err(Error::Validation(v)) = dup.full_clean(&db) else {
        panic!("expected a validation error");
    };
    assert_eq!(v.field("email"), ["Person with this Email already exists."]);
    Ok(())
}

// Django: ordering.tests.OrderingTests.test_default_ordering
#[test]
fn default_ordering_applies_without_order_by() -> Result<()> {
    let db = db()?;
    for (created, title) in [(1, "b"), (2, "a"), (2, "c")] {
        Article {
            id: None,
            created,
            title: title.into(),
        }
        .create(&db)?;
    }
    let titles = |qs: QuerySet<Article>| -> Result<Vec<String>> {
        Ok(qs.all(&db)?.into_iter().map(|a| a.title).collect())
    };
    assert_eq!(titles(Article::objects())?, ["a", "c", "b"]);
    // Django: test_default_ordering_override (order_by replaces it).
    assert_eq!(
        titles(Article::objects().order_by(Article::title().desc()))?,
        ["c", "b", "a"]
    );
    let (sql, _) = Article::objects().to_sql()?;
    assert!(
        sql.ends_with(r#"ORDER BY "parity_article"."created" DESC, "parity_article"."title" ASC"#),
        "{sql}"
    );
    // Django: aggregation drops the ordering (no ORDER BY in count/exists).
    let (n, captured) = db.capture(|| Article::objects().count(&db));
    assert_eq!(n?, 3);
    assert!(!captured.queries[0].contains("ORDER BY"), "{captured:?}");
    let (e, captured) = db.capture(|| Article::objects().exists(&db));
    assert!(e?);
    assert!(!captured.queries[0].contains("ORDER BY"), "{captured:?}");
    // first() follows the default ordering (Django: `self.ordered`).
    assert_eq!(Article::objects().first(&db)?.unwrap().title, "a");
    Ok(())
}

// Django: model_inheritance.tests.ModelInheritanceTests.test_meta_fields_and_ordering
// (a child inherits its parent's Meta.ordering).
#[test]
fn multi_table_child_inherits_the_parents_ordering() -> Result<()> {
    let db = db()?;
    for (name, rating) in [("b", 1), ("c", 2), ("a", 3)] {
        Restaurant {
            place: Place {
                id: None,
                name: name.into(),
            },
            rating,
            chef: None,
        }
        .create(&db)?;
    }
    let names: Vec<String> = Restaurant::objects()
        .all(&db)?
        .into_iter()
        .map(|r| r.place.name.clone())
        .collect();
    assert_eq!(names, ["c", "b", "a"]);
    assert_eq!(Restaurant::META.ordering(), ["-name"]);
    Ok(())
}

// Django: invalid_models_tests.test_models.OtherModelTests.test_ordering_pointing_to_missing_field
// (models.E015), reported at query time where the derive cannot check it.
#[test]
fn unknown_ordering_field_is_a_typed_error_at_query_time() -> Result<()> {
    let db = db()?;
    let err = Bistro::objects().all(&db).unwrap_err();
    let Error::Field { message } = &err else {
        panic!("{err:?}");
    };
    assert!(
        message.starts_with(
            "Bistro: 'ordering' refers to the nonexistent field, related field, or lookup 'stars'"
        ),
        "{message}"
    );
    // count() has no ORDER BY, so no error either (as in Django).
    assert_eq!(Bistro::objects().count(&db)?, 0);
    Ok(())
}

// ------------------------------------------------------------- messages

// Django: one_to_one.tests.OneToOneTests.test_get_reverse_on_unsaved_object's
// forward twin, many_to_one.tests.ManyToOneTests.test_related_object_does_not_exist
// ("Profile has no user.").
#[test]
fn forward_access_of_an_unset_key_names_owner_and_field() -> Result<()> {
    let db = db()?;
    let p = Profile {
        id: None,
        user: OneToOne::default(),
        bio: String::new(),
    };
    let err = p.related(&db, Profile::user()).unwrap_err();
    assert_eq!(err.to_string(), "Profile has no user.");
    assert!(matches!(
        err,
        Error::RelatedObjectDoesNotExist {
            model: "Profile",
            accessor: "user"
        }
    ));
    let u = user(&db, "ann")?;
    let p = Profile {
        id: None,
        user: OneToOne::to(&u),
        bio: String::new(),
    }
    .create(&db)?;
    assert_eq!(p.related(&db, Profile::user())?.username, "ann");
    Ok(())
}

// Django: select_related.tests.SelectRelatedValidationTests.test_non_relational_field
// and test_non_relational_field_nested ("(none)" when there is no choice).
#[test]
fn select_related_of_a_plain_field_says_non_relational() -> Result<()> {
    let db = db()?;
    let err = Profile::objects()
        .select_related("bio")
        .all(&db)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Non-relational field given in select_related: 'bio'. Choices are: user"
    );
    let err = Profile::objects()
        .select_related("user__username")
        .all(&db)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Non-relational field given in select_related: 'username'. Choices are: profile"
    );
    let err = Chef::objects().select_related("name").all(&db).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Non-relational field given in select_related: 'name'. Choices are: restaurant"
    );
    let err = Article::objects()
        .select_related("title")
        .all(&db)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Non-relational field given in select_related: 'title'. Choices are: (none)"
    );
    Ok(())
}

// Django: queries.tests.Queries1Tests.test_field_error / model_inheritance
// `test_inherited_does_not_exist_exception`'s FieldError twin: the choices
// include attnames (`chef_id`, `place_ptr_id`), sorted.
#[test]
fn lookup_choices_list_attnames_sorted() -> Result<()> {
    let db = db()?;
    let err = Restaurant::objects()
        .filter(Q::kw("bogus", 1))
        .all(&db)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Cannot resolve keyword 'bogus' into field. Choices are: chef, chef_id, id, name, place_ptr, place_ptr_id, rating"
    );
    Ok(())
}

// Django: delete.tests.DeletionTests.test_delete_with_keeping_parents's
// neighbour basic.tests.ModelInstanceCreationTests / delete.tests
// `test_model_delete_returns_num_rows` and the ValueError of
// `Model.delete()` on an unsaved instance (delete.tests.DeletionTests.test_instance_update's
// ValueError twin, "... because its id attribute is set to None.").
#[test]
fn deleting_twice_matches_django() -> Result<()> {
    let db = db()?;
    let mut c = Chef {
        id: None,
        name: "x".into(),
    };
    let err = c.delete(&db).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Chef object can't be deleted because its id attribute is set to None."
    );
    // A model with nothing pointing at it that matters, deleted twice
    // through two copies: Django's single-instance fast path counts it.
    let u = user(&db, "ann")?;
    let (mut a, mut b) = (u.clone(), u.clone());
    assert_eq!(a.delete(&db)?.to_string(), r#"(1, {"parity.User": 1})"#);
    // `User` has a CASCADE pointing at it: the general path, zero counts left out.
    assert_eq!(b.delete(&db)?.to_string(), "(0, {})");
    // Deleting the same object again: its key is gone.
    let err = a.delete(&db).unwrap_err();
    assert_eq!(
        err.to_string(),
        "User object can't be deleted because its id attribute is set to None."
    );
    let p = Profile {
        id: None,
        user: OneToOne::to(&user(&db, "bob")?),
        bio: String::new(),
    }
    .create(&db)?;
    let (mut a, mut b) = (p.clone(), p);
    assert_eq!(a.delete(&db)?.to_string(), r#"(1, {"parity.Profile": 1})"#);
    assert_eq!(b.delete(&db)?.to_string(), r#"(0, {"parity.Profile": 0})"#);
    // An unsaved multi-table child names its parent link's attname.
    let mut r = Restaurant {
        place: Place {
            id: None,
            name: "p".into(),
        },
        rating: 1,
        chef: None,
    };
    assert_eq!(
        r.delete(&db).unwrap_err().to_string(),
        "Restaurant object can't be deleted because its place_ptr_id attribute is set to None."
    );
    Ok(())
}

// ----------------------------------------------------------- signal order

// Django: delete.tests.DeletionTests.test_deletion_order (pre_delete in the
// collector's sorted order, post_delete per model, keys descending). U has
// no receiver: Django fast-deletes it, so it does not hold T back.
#[test]
fn delete_hooks_run_in_djangos_collection_order() -> Result<()> {
    let db = db()?;
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let r = R { id: None }.create(&db)?;
    let s = S {
        id: None,
        r: OneToOne::to(&r),
    }
    .create(&db)?;
    let t = T {
        id: None,
        s: OneToOne::to(&s),
    }
    .create(&db)?;
    U {
        id: None,
        t: OneToOne::to(&t),
    }
    .create(&db)?;
    let mut child = RChild { r: r.clone() };
    child.extend_parent(&db)?;
    macro_rules! hook {
        ($m:ty) => {{
            let (pre, post) = (log.clone(), log.clone());
            db.on_pre_delete::<$m>(move |_, o| {
                pre.lock()
                    .unwrap()
                    .push(format!("pre {} {:?}", stringify!($m), o.pk()));
                Ok(())
            });
            db.on_post_delete::<$m>(move |_, o| {
                post.lock()
                    .unwrap()
                    .push(format!("post {} {:?}", stringify!($m), o.pk()));
                Ok(())
            });
        }};
    }
    hook!(R);
    hook!(S);
    hook!(T);
    hook!(RChild);
    let mut r = r;
    let deleted = r.delete(&db)?;
    assert_eq!(deleted.total, 5, "{deleted}");
    let names: Vec<String> = log
        .lock()
        .unwrap()
        .iter()
        .map(|l| l.split(' ').take(2).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        names,
        [
            "pre T",
            "pre RChild",
            "pre S",
            "pre R",
            "post T",
            "post RChild",
            "post S",
            "post R"
        ]
    );
    Ok(())
}

// ------------------------------------------------------------ statements

// Django: delete.tests.FastDeleteTests.test_fast_delete_fk and
// delete.tests.DeletionTests.test_bulk / test_only_referenced_fields_selected:
// a delete never runs more statements than Django's collector would.
#[test]
fn delete_runs_no_more_statements_than_django() -> Result<()> {
    let db = db()?;
    // user.delete() with a CASCADE profile and no hooks: Django fast-deletes
    // the profile: DELETE profile, DELETE user = 2.
    let mut u = user(&db, "ann")?;
    Profile {
        id: None,
        user: OneToOne::to(&u),
        bio: "hi".into(),
    }
    .create(&db)?;
    let (d, captured) = db.capture(|| u.delete(&db));
    assert_eq!(
        d?.to_string(),
        r#"(2, {"parity.Profile": 1, "parity.User": 1})"#
    );
    assert!(captured.len() <= 2, "{:#?}", captured.queries);
    assert!(
        captured.queries.iter().all(|q| !q.contains("SELECT *")),
        "{:#?}",
        captured.queries
    );

    // A multi-table child with a SET_NULL chef: Django runs DELETE child,
    // UPDATE (lazy SET_NULL of nothing: skipped, no rows point at it) and
    // DELETE parent = 2 for an instance.
    let mut r = Restaurant {
        place: Place {
            id: None,
            name: "p".into(),
        },
        rating: 1,
        chef: None,
    }
    .create(&db)?;
    let (d, captured) = db.capture(|| r.delete(&db));
    assert_eq!(
        d?.to_string(),
        r#"(2, {"parity.Restaurant": 1, "parity.Place": 1})"#
    );
    assert!(captured.len() <= 2, "{:#?}", captured.queries);

    // The same as a query: Django SELECTs the children first = 3.
    for name in ["a", "b"] {
        Restaurant {
            place: Place {
                id: None,
                name: name.into(),
            },
            rating: 1,
            chef: None,
        }
        .create(&db)?;
    }
    let (d, captured) = db.capture(|| Restaurant::objects().delete(&db));
    assert_eq!(d?.total, 4);
    assert!(captured.len() <= 3, "{:#?}", captured.queries);

    // With a hook on Profile, Django selects the profiles (the hook needs
    // the rows) = 3.
    let mut u = user(&db, "bob")?;
    Profile {
        id: None,
        user: OneToOne::to(&u),
        bio: "hi".into(),
    }
    .create(&db)?;
    db.on_pre_delete::<Profile>(|_, _| Ok(()));
    let (d, captured) = db.capture(|| u.delete(&db));
    assert_eq!(d?.total, 2);
    assert!(captured.len() <= 3, "{:#?}", captured.queries);
    Ok(())
}
