//! One-to-one relations end to end: schema, forward and reverse accessors,
//! caching (proven by statement counts), reverse assignment, errors, and
//! models in different modules.

use orm_core::prelude::*;
use orm_core::Constraint;

mod auth {
    use orm_core::prelude::*;

    #[derive(Model, Debug, Clone, PartialEq)]
    #[model(app = "auth")]
    pub struct User {
        pub id: Option<i64>,
        #[field(unique, max_length = 150)]
        pub username: String,
        pub is_staff: bool,
    }
}

mod app {
    use super::auth::User;
    use orm_core::prelude::*;

    #[derive(Model, Debug, Clone)]
    #[model(app = "shop")]
    pub struct Profile {
        pub id: Option<i64>,
        #[one_to_one(on_delete = "cascade", related_name = "profile")]
        pub user: OneToOne<User>,
        pub bio: String,
    }
}

use app::{Profile, ProfileOfUser};
use auth::User;

#[derive(Model, Debug, Clone)]
#[model(app = "shop")]
pub struct Place {
    pub id: Option<i64>,
    #[field(max_length = 50)]
    pub name: String,
}

/// `OneToOneField(Place, CASCADE, primary_key=True)`
#[derive(Model, Debug, Clone)]
#[model(app = "shop")]
pub struct Restaurant {
    #[one_to_one(on_delete = "cascade", primary_key)]
    pub place: OneToOne<Place>,
    pub serves_pizza: bool,
}

/// Nullable, SET_NULL.
#[derive(Model, Debug, Clone)]
#[model(app = "shop")]
pub struct UndergroundBar {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "set_null")]
    pub place: Option<OneToOne<Place>>,
}

/// related_name + related_query_name + db_column.
#[derive(Model, Debug, Clone)]
#[model(app = "shop")]
pub struct Named {
    pub id: Option<i64>,
    #[one_to_one(
        on_delete = "protect",
        related_name = "named_thing",
        related_query_name = "nt",
        db_column = "the_place"
    )]
    pub place: OneToOne<Place>,
}

#[derive(Model, Debug, Clone)]
#[model(app = "shop")]
pub struct Target {
    pub id: Option<i64>,
    #[field(unique, max_length = 50)]
    pub name: String,
}

/// to_field = "name"
#[derive(Model, Debug, Clone)]
#[model(app = "shop")]
pub struct ToFieldPointer {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", to_field = "name")]
    pub target: OneToOne<Target>,
}

/// Hidden reverse side, no constraint.
#[derive(Model, Debug, Clone)]
#[model(app = "shop")]
pub struct NoConstraint {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "do_nothing", db_constraint = false, related_name = "+")]
    pub target: OneToOne<Target>,
}

/// Self-referential, nullable.
#[derive(Model, Debug, Clone)]
#[model(app = "shop")]
pub struct LinkedList {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", related_name = "next_item")]
    pub previous_item: Option<OneToOne<LinkedList>>,
    pub label: String,
}

fn setup() -> Result<Db> {
    let db = Db::open_in_memory()?;
    db.migrate()?;
    Ok(db)
}

fn user(db: &Db, name: &str) -> Result<User> {
    User {
        id: None,
        username: name.into(),
        is_staff: false,
    }
    .create(db)
}

fn create_table(sql_of: &'static orm_core::meta::ModelMeta) -> String {
    orm_core::schema::create_table(sql_of).sql
}

#[test]
fn schema_matches_django_ddl() {
    assert_eq!(
        create_table(Profile::META),
        r#"CREATE TABLE "shop_profile" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "bio" text NOT NULL, "user_id" bigint NOT NULL UNIQUE REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED);"#
    );
    assert_eq!(
        create_table(Restaurant::META),
        r#"CREATE TABLE "shop_restaurant" ("place_id" bigint NOT NULL PRIMARY KEY REFERENCES "shop_place" ("id") DEFERRABLE INITIALLY DEFERRED, "serves_pizza" bool NOT NULL);"#
    );
    assert_eq!(
        create_table(UndergroundBar::META),
        r#"CREATE TABLE "shop_undergroundbar" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "place_id" bigint NULL UNIQUE REFERENCES "shop_place" ("id") DEFERRABLE INITIALLY DEFERRED);"#
    );
    assert_eq!(
        create_table(Named::META),
        r#"CREATE TABLE "shop_named" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "the_place" bigint NOT NULL UNIQUE REFERENCES "shop_place" ("id") DEFERRABLE INITIALLY DEFERRED);"#
    );
    assert_eq!(
        create_table(ToFieldPointer::META),
        r#"CREATE TABLE "shop_tofieldpointer" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "target_id" varchar(50) NOT NULL UNIQUE REFERENCES "shop_target" ("name") DEFERRABLE INITIALLY DEFERRED);"#
    );
    assert_eq!(
        create_table(NoConstraint::META),
        r#"CREATE TABLE "shop_noconstraint" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "target_id" bigint NOT NULL UNIQUE);"#
    );
    assert_eq!(
        create_table(LinkedList::META),
        r#"CREATE TABLE "shop_linkedlist" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "label" text NOT NULL, "previous_item_id" bigint NULL UNIQUE REFERENCES "shop_linkedlist" ("id") DEFERRABLE INITIALLY DEFERRED);"#
    );
}

#[test]
fn migrate_is_idempotent_and_orders_tables() -> Result<()> {
    let db = setup()?;
    db.migrate()?;
    let ddl = db.sql_create_all();
    let user_at = ddl.find("\"auth_user\" (").unwrap();
    let profile_at = ddl.find("\"shop_profile\" (").unwrap();
    assert!(user_at < profile_at, "referenced tables come first");
    Ok(())
}

#[test]
fn forward_key_is_free_and_object_loads_once() -> Result<()> {
    let db = setup()?;
    let u = user(&db, "alice")?;
    let p = Profile {
        id: None,
        user: OneToOne::to(&u),
        bio: "hi".into(),
    }
    .create(&db)?;
    let loaded = Profile::get(&db, p.id)?;
    let (key, c) = db.capture(|| loaded.user.id());
    assert_eq!(key, u.id);
    assert_eq!(c.len(), 0, "reading the key runs no query");
    let (name, c) = db.capture(|| loaded.user.get(&db).map(|u| u.username.clone()));
    assert_eq!(name?, "alice");
    assert_eq!(c.len(), 1);
    let (_, c) = db.capture(|| loaded.user.get(&db).map(|u| u.id));
    assert_eq!(c.len(), 0, "cached after the first load");
    // OneToOne::to caches the object it was given: no query at all.
    let (_, c) = db.capture(|| p.user.get(&db).map(|u| u.id));
    assert_eq!(c.len(), 0);
    Ok(())
}

#[test]
fn assigning_a_key_drops_a_stale_cache() -> Result<()> {
    let db = setup()?;
    let a = user(&db, "a")?;
    let b = user(&db, "b")?;
    let mut p = Profile {
        id: None,
        user: OneToOne::to(&a),
        bio: String::new(),
    }
    .create(&db)?;
    p.user.set_key(b.id);
    assert!(!p.user.is_cached());
    assert_eq!(p.user.get(&db)?.username, "b");
    p.user.set(&a);
    assert_eq!(p.user.id(), a.id);
    assert_eq!(p.user.get(&db)?.username, "a");
    Ok(())
}

#[test]
fn reverse_accessor_returns_object_and_caches_both_outcomes() -> Result<()> {
    let db = setup()?;
    let u = user(&db, "alice")?;
    let lonely = user(&db, "bob")?;
    Profile {
        id: None,
        user: OneToOne::to(&u),
        bio: "x".into(),
    }
    .create(&db)?;

    let (p, c) = db.capture(|| u.profile(&db));
    assert_eq!(p?.bio, "x");
    assert_eq!(c.len(), 1);
    let (_, c) = db.capture(|| u.profile(&db));
    assert_eq!(c.len(), 0, "present result cached");

    let (missing, c) = db.capture(|| lonely.profile(&db));
    let err = missing.unwrap_err();
    assert_eq!(err.to_string(), "User has no profile.");
    assert!(matches!(
        err,
        Error::RelatedObjectDoesNotExist {
            model: "User",
            accessor: "profile"
        }
    ));
    assert!(err.is_does_not_exist());
    assert_eq!(c.len(), 1);
    let (opt, c) = db.capture(|| lonely.profile_opt(&db));
    assert!(opt?.is_none());
    assert_eq!(
        c.len(),
        0,
        "known-missing result cached: asking twice runs one query"
    );
    Ok(())
}

#[test]
fn reverse_cache_never_goes_stale_after_writes() -> Result<()> {
    let db = setup()?;
    let u = user(&db, "alice")?;
    assert!(u.profile_opt(&db)?.is_none());
    let mut p = Profile {
        id: None,
        user: OneToOne::to(&u),
        bio: "v1".into(),
    }
    .create(&db)?;
    assert_eq!(
        u.profile(&db)?.bio,
        "v1",
        "a save of Profile invalidates the cached miss"
    );
    p.bio = "v2".into();
    p.save(&db)?;
    assert_eq!(u.profile(&db)?.bio, "v2");
    Ok(())
}

#[test]
fn unsaved_instance_never_queries() -> Result<()> {
    let db = setup()?;
    let u = User {
        id: None,
        username: "ghost".into(),
        is_staff: false,
    };
    let (r, c) = db.capture(|| u.profile_opt(&db));
    assert!(r?.is_none());
    assert_eq!(c.len(), 0);
    Ok(())
}

#[test]
fn second_profile_is_a_typed_unique_violation() -> Result<()> {
    let db = setup()?;
    let u = user(&db, "alice")?;
    Profile {
        id: None,
        user: OneToOne::to(&u),
        bio: String::new(),
    }
    .create(&db)?;
    let err = Profile {
        id: None,
        user: OneToOne::to(&u),
        bio: String::new(),
    }
    .create(&db)
    .unwrap_err();
    match &err {
        Error::Integrity {
            kind,
            table,
            columns,
            ..
        } => {
            assert_eq!(*kind, Constraint::Unique);
            assert_eq!(table, "shop_profile");
            assert_eq!(columns, &["user_id"]);
        }
        other => panic!("expected a unique violation, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "UNIQUE constraint failed: shop_profile.user_id"
    );
    Ok(())
}

#[test]
fn saving_with_unsaved_related_object_is_an_error_not_null() -> Result<()> {
    let db = setup()?;
    let ghost = User {
        id: None,
        username: "ghost".into(),
        is_staff: false,
    };
    let mut p = Profile {
        id: None,
        user: OneToOne::to(&ghost),
        bio: String::new(),
    };
    let (r, c) = db.capture(|| p.save(&db));
    let err = r.unwrap_err();
    assert!(matches!(err, Error::UnsavedRelated { field: "user", .. }));
    assert_eq!(
        err.to_string(),
        "save() prohibited to prevent data loss due to unsaved related object 'user'."
    );
    assert_eq!(c.len(), 0);
    assert_eq!(Profile::objects().count(&db)?, 0);
    Ok(())
}

#[test]
fn reverse_assignment_saves_the_key_side_and_replaces_partner() -> Result<()> {
    let db = setup()?;
    let place = Place {
        id: None,
        name: "Demon Dogs".into(),
    }
    .create(&db)?;
    let mut bar1 = UndergroundBar {
        id: None,
        place: None,
    }
    .create(&db)?;
    let mut bar2 = UndergroundBar {
        id: None,
        place: None,
    }
    .create(&db)?;
    place.set_undergroundbar(&db, &mut bar1)?;
    assert_eq!(place.undergroundbar(&db)?.id, bar1.id);
    // Replacing the partner does not trip the UNIQUE constraint: the old one lets go.
    place.set_undergroundbar(&db, &mut bar2)?;
    assert_eq!(place.undergroundbar(&db)?.id, bar2.id);
    let old = UndergroundBar::get(&db, bar1.id)?;
    assert!(old.place.is_none());
    Ok(())
}

#[test]
fn reverse_assignment_on_non_null_key_reports_the_conflict() -> Result<()> {
    let db = setup()?;
    let a = user(&db, "a")?;
    let b = user(&db, "b")?;
    Profile {
        id: None,
        user: OneToOne::to(&a),
        bio: "first".into(),
    }
    .create(&db)?;
    let mut other = Profile {
        id: None,
        user: OneToOne::to(&b),
        bio: "second".into(),
    }
    .create(&db)?;
    let err = a.set_profile(&db, &mut other).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Integrity {
                kind: Constraint::Unique,
                ..
            }
        ),
        "{err}"
    );
    // Nothing moved.
    assert_eq!(a.profile(&db)?.bio, "first");
    assert_eq!(Profile::get(&db, other.id)?.user.id(), b.id);
    Ok(())
}

#[test]
fn one_to_one_primary_key() -> Result<()> {
    let db = setup()?;
    let place = Place {
        id: None,
        name: "Ace Hardware".into(),
    }
    .create(&db)?;
    let r = Restaurant {
        place: OneToOne::to(&place),
        serves_pizza: true,
    }
    .create(&db)?;
    assert_eq!(r.pk(), place.pk());
    let loaded = Restaurant::get(&db, place.id)?;
    assert!(loaded.serves_pizza);
    assert_eq!(place.restaurant(&db)?.place.id(), place.id);
    assert_eq!(
        Place::objects()
            .filter(Q::kw("restaurant__serves_pizza", true))
            .count(&db)?,
        1
    );
    Ok(())
}

#[test]
fn related_query_name_and_db_column() -> Result<()> {
    let db = setup()?;
    let place = Place {
        id: None,
        name: "p".into(),
    }
    .create(&db)?;
    Named {
        id: None,
        place: OneToOne::to(&place),
    }
    .create(&db)?;
    assert!(place.named_thing(&db).is_ok(), "accessor uses related_name");
    assert_eq!(
        Place::objects()
            .filter(Q::kw("nt__isnull", false))
            .count(&db)?,
        1
    );
    let err = Place::objects()
        .filter(Q::kw("named_thing__isnull", false))
        .count(&db)
        .unwrap_err();
    assert!(matches!(err, Error::Field { .. }));
    assert!(err.to_string().contains("Choices are:"), "{err}");
    Ok(())
}

#[test]
fn to_field_stores_and_follows_the_named_column() -> Result<()> {
    let db = setup()?;
    let t = Target {
        id: None,
        name: "alpha".into(),
    }
    .create(&db)?;
    let p = ToFieldPointer {
        id: None,
        target: OneToOne::to(&t),
    }
    .create(&db)?;
    let loaded = ToFieldPointer::get(&db, p.id)?;
    assert_eq!(loaded.target.key(), Some(Value::Text("alpha".into())));
    assert_eq!(t.tofieldpointer(&db)?.id, p.id);
    let found = ToFieldPointer::objects()
        .filter(ToFieldPointer::target().then(Target::name()).eq("alpha"))
        .select_related(ToFieldPointer::target())
        .get(&db)?;
    assert_eq!(found.target.cached().map(|t| t.id), Some(t.id));
    Ok(())
}

#[test]
fn self_referential_relation() -> Result<()> {
    let db = setup()?;
    let first = LinkedList {
        id: None,
        previous_item: None,
        label: "1".into(),
    }
    .create(&db)?;
    let second = LinkedList {
        id: None,
        previous_item: Some(OneToOne::to(&first)),
        label: "2".into(),
    }
    .create(&db)?;
    assert_eq!(first.next_item(&db)?.label, "2");
    assert!(second.next_item_opt(&db)?.is_none());
    let rows = LinkedList::objects()
        .filter(Q::kw("previous_item__label", "1"))
        .select_related("previous_item")
        .all(&db)?;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0]
            .previous_item
            .as_ref()
            .and_then(|p| p.cached())
            .map(|p| p.label.as_str()),
        Some("1")
    );
    Ok(())
}

#[test]
fn hidden_reverse_relation_has_no_lookup() -> Result<()> {
    let db = setup()?;
    let err = Target::objects()
        .filter(Q::kw("noconstraint__isnull", true))
        .count(&db)
        .unwrap_err();
    assert!(matches!(err, Error::Field { .. }));
    Ok(())
}

#[test]
fn system_checks_pass_for_the_registered_models() {
    assert!(orm_core::registry::registry().check_errors().is_empty());
}

#[test]
fn create_never_overwrites_an_existing_primary_key() -> Result<()> {
    let db = setup()?;
    let place = Place {
        id: None,
        name: "p".into(),
    }
    .create(&db)?;
    Restaurant {
        place: OneToOne::to(&place),
        serves_pizza: true,
    }
    .create(&db)?;
    let err = Restaurant {
        place: OneToOne::to(&place),
        serves_pizza: false,
    }
    .create(&db)
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Integrity {
                kind: Constraint::Unique,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        Restaurant::get(&db, place.id)?.serves_pizza,
        "the first row is untouched"
    );
    // save() keeps Django's UPDATE-then-INSERT.
    let mut r = Restaurant {
        place: OneToOne::to(&place),
        serves_pizza: false,
    };
    r.save(&db)?;
    assert!(!Restaurant::get(&db, place.id)?.serves_pizza);
    Ok(())
}

#[test]
fn to_field_forward_load_queries_by_the_named_column() -> Result<()> {
    let db = setup()?;
    let t = Target {
        id: None,
        name: "beta".into(),
    }
    .create(&db)?;
    let p = ToFieldPointer {
        id: None,
        target: OneToOne::to(&t),
    }
    .create(&db)?;
    let loaded = ToFieldPointer::get(&db, p.id)?;
    assert!(!loaded.target.is_cached());
    let (got, c) = db.capture(|| loaded.target.get(&db).map(|t| t.id));
    assert_eq!(got?, t.id, "follows target.name, not target.id");
    assert_eq!(c.len(), 1);
    Ok(())
}
