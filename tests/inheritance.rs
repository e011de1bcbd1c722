//! Multi-table inheritance, end to end: the seed 002 chain (User ->
//! PageOwnerProfile -> Page -> Like, with Like a child of Page), the seed 004
//! explicit parent link (Women/Husband), and a three-level chain (Base <-
//! Child <- GrandChild) with relations pointing at every level.
//!
//! Django's behaviour is in `reference/django-semantics.md` sections 3.7 and 4;
//! the DDL is `reference/django-seed-models-ddl.sql`.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use orm_core::prelude::*;

// --- seed 002: User -> PageOwnerProfile -> Page -> Like --------------------

/// `django.contrib.auth.models.User` (an `AutoField`, hence `integer`).
#[derive(Model, Debug, Clone)]
#[model(app = "auth")]
pub struct User {
    pub id: Option<i32>,
    #[field(unique, max_length = 150)]
    pub username: String,
    pub is_staff: bool,
}

#[derive(Model, Debug, Clone)]
#[model(app = "seedapp")]
pub struct PageOwnerProfile {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade")]
    pub user: OneToOne<User>,
    #[field(max_length = 255)]
    pub name: String,
    #[field(max_length = 255)]
    pub city: String,
}

#[derive(Model, Debug, Clone)]
#[model(app = "seedapp")]
pub struct Page {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade")]
    pub profile: OneToOne<PageOwnerProfile>,
    #[field(max_length = 255)]
    pub page_name: String,
}

/// `class Like(Page): likes = models.IntegerField()`: implicit `page_ptr`.
#[derive(Model, Debug, Clone)]
#[model(app = "seedapp")]
pub struct Like {
    #[parent]
    pub page: Page,
    pub likes: i32,
}

// --- seed 004: Women / Husband with an explicit parent link ---------------

#[derive(Model, Debug, Clone)]
#[model(app = "seedapp")]
pub struct Women {
    pub id: Option<i64>,
    #[field(max_length = 100)]
    pub name: String,
}

#[derive(Model, Debug, Clone)]
#[model(app = "seedapp")]
pub struct Husband {
    #[one_to_one(parent_link, on_delete = "cascade", related_name = "husband")]
    pub wife: Women,
    pub age: Option<i32>,
}

// --- three levels, with a relation pointing at each level -----------------

#[derive(Model, Debug, Clone)]
#[model(app = "shop")]
pub struct Base {
    pub id: Option<i64>,
    #[field(max_length = 50)]
    pub name: String,
}

#[derive(Model, Debug, Clone)]
#[model(app = "shop")]
pub struct Child {
    #[parent]
    pub base: Base,
    pub extra: i64,
}

#[derive(Model, Debug, Clone)]
#[model(app = "shop")]
pub struct GrandChild {
    #[parent]
    pub child: Child,
    #[field(unique)]
    pub more: i64,
}

/// CASCADE at the root level.
#[derive(Model, Debug, Clone)]
#[model(app = "shop")]
pub struct Sticker {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", related_name = "sticker")]
    pub base: OneToOne<Base>,
}

/// PROTECT at the middle level.
#[derive(Model, Debug, Clone)]
#[model(app = "shop")]
pub struct Lock {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "protect", related_name = "lock")]
    pub child: OneToOne<Child>,
}

/// SET_NULL at the leaf level.
#[derive(Model, Debug, Clone)]
#[model(app = "shop")]
pub struct Pin {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "set_null", related_name = "pin")]
    pub grand: Option<OneToOne<GrandChild>>,
}

/// RESTRICT at the root level.
#[derive(Model, Debug, Clone)]
#[model(app = "shop")]
pub struct Hold {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "restrict", related_name = "hold")]
    pub base: OneToOne<Base>,
}

// --- helpers ----------------------------------------------------------------

fn db() -> Db {
    let db = Db::open_in_memory().unwrap();
    db.migrate().unwrap();
    db
}

fn rows(db: &Db, table: &str) -> i64 {
    db.connection()
        .query_row(&format!("SELECT COUNT(*) FROM \"{table}\""), [], |r| {
            r.get(0)
        })
        .unwrap()
}

fn keys(db: &Db, table: &str, column: &str) -> Vec<i64> {
    let mut stmt = db
        .connection()
        .prepare(&format!("SELECT \"{column}\" FROM \"{table}\" ORDER BY 1"))
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn text(db: &Db, sql: &str) -> String {
    db.connection().query_row(sql, [], |r| r.get(0)).unwrap()
}

/// A user, its profile, and a page owned by it (not saved).
fn owner(db: &Db, name: &str) -> PageOwnerProfile {
    let u = User {
        id: None,
        username: name.into(),
        is_staff: false,
    }
    .create(db)
    .unwrap();
    PageOwnerProfile {
        id: None,
        user: OneToOne::to(&u),
        name: name.into(),
        city: "Paris".into(),
    }
    .create(db)
    .unwrap()
}

fn new_like(db: &Db, name: &str, likes: i32) -> Like {
    let profile = owner(db, name);
    Like {
        page: Page {
            id: None,
            profile: OneToOne::to(&profile),
            page_name: name.into(),
        },
        likes,
    }
    .create(db)
    .unwrap()
}

fn grand(name: &str, extra: i64, more: i64) -> GrandChild {
    GrandChild {
        child: Child {
            base: Base {
                id: None,
                name: name.into(),
            },
            extra,
        },
        more,
    }
}

// --- schema -----------------------------------------------------------------

#[test]
fn ddl_matches_django_for_the_seed_models() {
    let ddl = |m| orm_core::schema::create_table(m).sql;
    assert_eq!(
        ddl(Like::META),
        r#"CREATE TABLE "seedapp_like" ("page_ptr_id" bigint NOT NULL PRIMARY KEY REFERENCES "seedapp_page" ("id") DEFERRABLE INITIALLY DEFERRED, "likes" integer NOT NULL);"#
    );
    assert_eq!(
        ddl(Husband::META),
        r#"CREATE TABLE "seedapp_husband" ("age" integer NULL, "wife_id" bigint NOT NULL PRIMARY KEY REFERENCES "seedapp_women" ("id") DEFERRABLE INITIALLY DEFERRED);"#
    );
    assert_eq!(
        ddl(Women::META),
        r#"CREATE TABLE "seedapp_women" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(100) NOT NULL);"#
    );
    // The page table after Django's "Add field profile to page" rebuild.
    assert_eq!(
        ddl(Page::META),
        r#"CREATE TABLE "seedapp_page" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "page_name" varchar(255) NOT NULL, "profile_id" bigint NOT NULL UNIQUE REFERENCES "seedapp_pageownerprofile" ("id") DEFERRABLE INITIALLY DEFERRED);"#
    );
    assert_eq!(
        ddl(PageOwnerProfile::META),
        r#"CREATE TABLE "seedapp_pageownerprofile" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(255) NOT NULL, "city" varchar(255) NOT NULL, "user_id" integer NOT NULL UNIQUE REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED);"#
    );
    assert_eq!(
        ddl(GrandChild::META),
        r#"CREATE TABLE "shop_grandchild" ("child_ptr_id" bigint NOT NULL PRIMARY KEY REFERENCES "shop_child" ("base_ptr_id") DEFERRABLE INITIALLY DEFERRED, "more" integer NOT NULL UNIQUE);"#
    );

    // `sqlmigrate`: the parent table is created before the child table.
    let all = db().sql_create_all();
    let page = all.find("CREATE TABLE \"seedapp_page\"").unwrap();
    let like = all.find(&ddl(Like::META)).unwrap();
    assert!(page < like, "{all}");
    let women = all.find(&ddl(Women::META)).unwrap();
    let husband = all.find(&ddl(Husband::META)).unwrap();
    assert!(women < husband, "{all}");
}

#[test]
fn parent_link_metadata() {
    let pk = Like::META.pk_field();
    assert_eq!((pk.name, pk.column), ("page_ptr", "page_ptr_id"));
    assert!(pk.primary_key && !pk.auto && pk.unique);
    let rel = pk.relation.unwrap();
    assert!(rel.parent_link);
    assert!(matches!(rel.on_delete, orm_core::OnDelete::Cascade));
    assert!(Like::META.parent().unwrap().is(Page::META));

    let pk = Husband::META.pk_field();
    assert_eq!((pk.name, pk.column), ("wife", "wife_id"));
    let rel = pk.relation.unwrap();
    assert!(rel.parent_link);
    assert_eq!(rel.related_name, Some("husband"));
    assert!(Husband::META.parent().unwrap().is(Women::META));

    let chain: Vec<&str> = GrandChild::META.chain().map(|m| m.name).collect();
    assert_eq!(chain, ["GrandChild", "Child", "Base"]);
    assert!(GrandChild::META.is_or_inherits(Base::META));
    assert!(!Base::META.is_or_inherits(GrandChild::META));
}

// --- saving -----------------------------------------------------------------

#[test]
fn saving_a_child_writes_the_parent_row_then_the_child_row() {
    let db = db();
    let profile = owner(&db, "ann");
    let mut like = Like {
        page: Page {
            id: None,
            profile: OneToOne::to(&profile),
            page_name: "ann's page".into(),
        },
        likes: 3,
    };
    let (r, cap) = db.capture(|| like.save(&db));
    r.unwrap();
    assert_eq!(
        cap.queries,
        [
            r#"INSERT INTO "seedapp_page" ("profile_id", "page_name") VALUES (?, ?)"#,
            r#"INSERT INTO "seedapp_like" ("page_ptr_id", "likes") VALUES (?, ?)"#,
        ]
    );
    let id = like.page.id.unwrap();
    assert_eq!(like.pk(), Some(Value::Integer(id)));
    assert_eq!(like.value_of("page_ptr"), Some(Value::Integer(id)));
    assert_eq!(keys(&db, "seedapp_page", "id"), [id]);
    assert_eq!(keys(&db, "seedapp_like", "page_ptr_id"), [id]);
    // The child reads the parent's fields directly.
    assert_eq!(like.page_name, "ann's page");
    assert_eq!(like.profile.id(), profile.id);
}

#[test]
fn three_levels_save_with_one_key_at_every_level() {
    let db = db();
    // Another base row first, so the keys are not all 1 by accident.
    Base {
        id: None,
        name: "plain".into(),
    }
    .create(&db)
    .unwrap();
    let mut g = grand("g1", 1, 2);
    let (r, cap) = db.capture(|| g.save(&db));
    r.unwrap();
    assert_eq!(
        cap.queries,
        [
            r#"INSERT INTO "shop_base" ("name") VALUES (?)"#,
            r#"INSERT INTO "shop_child" ("base_ptr_id", "extra") VALUES (?, ?)"#,
            r#"INSERT INTO "shop_grandchild" ("child_ptr_id", "more") VALUES (?, ?)"#,
        ],
        "creating a child issues only INSERTs"
    );
    assert_eq!(g.id, Some(2));
    assert_eq!(g.pk(), Some(Value::Integer(2)));
    assert_eq!(g.child.pk(), Some(Value::Integer(2)));
    assert_eq!(g.child.base.pk(), Some(Value::Integer(2)));
    assert_eq!(keys(&db, "shop_base", "id"), [1, 2]);
    assert_eq!(keys(&db, "shop_child", "base_ptr_id"), [2]);
    assert_eq!(keys(&db, "shop_grandchild", "child_ptr_id"), [2]);

    // A re-save updates each level once, root first, with no INSERT.
    g.name = "g1b".into();
    g.extra = 10;
    g.more = 20;
    let (r, cap) = db.capture(|| g.save(&db));
    r.unwrap();
    assert_eq!(
        cap.queries,
        [
            r#"UPDATE "shop_base" SET "name" = ? WHERE "id" = ?"#,
            r#"UPDATE "shop_child" SET "extra" = ? WHERE "base_ptr_id" = ?"#,
            r#"UPDATE "shop_grandchild" SET "more" = ? WHERE "child_ptr_id" = ?"#,
        ]
    );
    let back = GrandChild::get(&db, 2).unwrap();
    assert_eq!((back.name.as_str(), back.extra, back.more), ("g1b", 10, 20));
    assert_eq!(rows(&db, "shop_base"), 2);

    // set_pk writes every level.
    let mut copy = back.clone();
    copy.set_pk(None);
    assert_eq!((copy.id, copy.child.pk(), copy.pk()), (None, None, None));
    copy.more = 21;
    copy.save(&db).unwrap();
    assert_eq!(copy.id, Some(3));
    assert_eq!(keys(&db, "shop_grandchild", "child_ptr_id"), [2, 3]);
}

#[test]
fn a_child_save_is_one_transaction() {
    let db = db();
    grand("first", 1, 7).create(&db).unwrap();
    // The grandchild INSERT fails (UNIQUE more) after the base and child
    // INSERTs: both are rolled back.
    let err = grand("second", 1, 7).create(&db).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Integrity {
                kind: orm_core::Constraint::Unique,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(rows(&db, "shop_base"), 1);
    assert_eq!(rows(&db, "shop_child"), 1);
    assert_eq!(rows(&db, "shop_grandchild"), 1);

    // A failing post_save hook rolls back every level too.
    db.on_post_save::<Like>(|_, _, _| Err(Error::Usage("no likes today".into())));
    let profile = owner(&db, "bob");
    let err = Like {
        page: Page {
            id: None,
            profile: OneToOne::to(&profile),
            page_name: "p".into(),
        },
        likes: 1,
    }
    .create(&db)
    .unwrap_err();
    assert!(err.to_string().contains("no likes today"), "{err}");
    assert_eq!(rows(&db, "seedapp_page"), 0);
    assert_eq!(rows(&db, "seedapp_like"), 0);
}

#[test]
fn save_hooks_fire_once_with_the_child_as_sender() {
    let db = db();
    let base_saves = Arc::new(AtomicUsize::new(0));
    let child_saves = Arc::new(AtomicUsize::new(0));
    let created_flag = Arc::new(AtomicBool::new(false));
    {
        let n = base_saves.clone();
        db.on_post_save::<Base>(move |_, _, _| {
            n.fetch_add(1, Ordering::SeqCst);
            Ok(())
        });
        let n = child_saves.clone();
        let c = created_flag.clone();
        db.on_post_save::<GrandChild>(move |_, g, created| {
            assert!(g.id.is_some());
            n.fetch_add(1, Ordering::SeqCst);
            c.store(created, Ordering::SeqCst);
            Ok(())
        });
    }
    let mut g = grand("g", 1, 1).create(&db).unwrap();
    assert_eq!(
        (
            base_saves.load(Ordering::SeqCst),
            child_saves.load(Ordering::SeqCst),
            created_flag.load(Ordering::SeqCst),
        ),
        (0, 1, true)
    );
    g.more = 2;
    g.save(&db).unwrap();
    assert_eq!(
        (
            base_saves.load(Ordering::SeqCst),
            child_saves.load(Ordering::SeqCst),
            created_flag.load(Ordering::SeqCst),
        ),
        (0, 2, false)
    );
}

#[test]
fn saving_a_child_refuses_an_unsaved_related_object_on_the_parent() {
    let db = db();
    let u = User {
        id: None,
        username: "x".into(),
        is_staff: false,
    };
    let unsaved = PageOwnerProfile {
        id: None,
        user: OneToOne::to(&u),
        name: "x".into(),
        city: "y".into(),
    };
    let err = Like {
        page: Page {
            id: None,
            profile: OneToOne::to(&unsaved),
            page_name: "p".into(),
        },
        likes: 0,
    }
    .create(&db)
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "save() prohibited to prevent data loss due to unsaved related object 'profile'."
    );
    assert_eq!(rows(&db, "seedapp_page"), 0);
}

#[test]
fn full_clean_on_a_child_checks_the_parent_fields() {
    let db = db();
    let like = new_like(&db, "ann", 1);
    // The parent's max_length and the parent's UNIQUE one-to-one.
    let bad = Like {
        page: Page {
            id: None,
            profile: OneToOne::from_key(like.profile.id()),
            page_name: "x".repeat(300),
        },
        likes: 1,
    };
    let err = bad.full_clean(&db).unwrap_err();
    let Error::Validation(v) = &err else {
        panic!("expected a validation error, got {err:?}")
    };
    let fields: Vec<&str> = v.errors.iter().map(|(f, _)| f.as_str()).collect();
    assert!(fields.contains(&"page_name"), "{v:?}");
    assert!(fields.contains(&"profile"), "{v:?}");
    // The saved child itself is valid (its own row is not a duplicate).
    like.full_clean(&db).unwrap();
}

// --- loading ----------------------------------------------------------------

#[test]
fn loading_a_child_joins_its_ancestors_in_one_statement() {
    let db = db();
    let g = grand("g1", 1, 2).create(&db).unwrap();
    let (back, cap) = db.capture(|| GrandChild::get(&db, g.id).unwrap());
    assert_eq!(
        cap.queries,
        [concat!(
            r#"SELECT "shop_base"."id", "shop_base"."name", "shop_child"."base_ptr_id", "shop_child"."extra", "#,
            r#""shop_grandchild"."child_ptr_id", "shop_grandchild"."more" FROM "shop_grandchild" "#,
            r#"INNER JOIN "shop_child" ON ("shop_grandchild"."child_ptr_id" = "shop_child"."base_ptr_id") "#,
            r#"INNER JOIN "shop_base" ON ("shop_child"."base_ptr_id" = "shop_base"."id") "#,
            r#"WHERE "shop_grandchild"."child_ptr_id" = ?"#
        )]
    );
    assert_eq!(
        (back.id, back.name.as_str(), back.extra, back.more),
        (g.id, "g1", 1, 2)
    );

    new_like(&db, "a", 1);
    new_like(&db, "b", 2);
    let (all, cap) = db.capture(|| Like::objects().order_by("page_name").all(&db).unwrap());
    assert_eq!(cap.len(), 1, "{:?}", cap.queries);
    assert!(cap.queries[0].contains(
        r#"FROM "seedapp_like" INNER JOIN "seedapp_page" ON ("seedapp_like"."page_ptr_id" = "seedapp_page"."id")"#
    ));
    let names: Vec<(&str, i32)> = all
        .iter()
        .map(|l| (l.page_name.as_str(), l.likes))
        .collect();
    assert_eq!(names, [("a", 1), ("b", 2)]);

    let mut refreshed = all[0].clone();
    refreshed.page_name = "changed in memory".into();
    let (r, cap) = db.capture(|| refreshed.refresh(&db));
    r.unwrap();
    assert_eq!((cap.len(), refreshed.page_name.as_str()), (1, "a"));
}

#[test]
fn a_parent_query_returns_parents_only() {
    let db = db();
    Base {
        id: None,
        name: "plain".into(),
    }
    .create(&db)
    .unwrap();
    grand("g", 1, 1).create(&db).unwrap();
    Child {
        base: Base {
            id: None,
            name: "c".into(),
        },
        extra: 5,
    }
    .create(&db)
    .unwrap();
    assert_eq!(Base::objects().count(&db).unwrap(), 3);
    assert_eq!(Child::objects().count(&db).unwrap(), 2);
    assert_eq!(GrandChild::objects().count(&db).unwrap(), 1);
    let err = GrandChild::get(&db, 1).unwrap_err();
    assert!(
        matches!(
            err,
            Error::DoesNotExist {
                model: "GrandChild"
            }
        ),
        "{err:?}"
    );
}

#[test]
fn select_related_through_a_relation_declared_on_the_parent() {
    let db = db();
    new_like(&db, "ann", 4);
    let (likes, cap) = db.capture(|| {
        Like::objects()
            .select_related("profile__user")
            .all(&db)
            .unwrap()
    });
    assert_eq!(cap.len(), 1, "{:?}", cap.queries);
    let ((), cap) = db.capture(|| {
        let profile = likes[0].profile.get(&db).unwrap();
        assert_eq!(profile.user.get(&db).unwrap().username, "ann");
    });
    assert_eq!(cap.len(), 0, "{:?}", cap.queries);

    // The typed form: a relation of the parent, used on the child.
    let (likes, cap) = db.capture(|| {
        Like::objects()
            .select_related(Page::profile())
            .all(&db)
            .unwrap()
    });
    assert_eq!(cap.len(), 1, "{:?}", cap.queries);
    assert_eq!(
        likes[0].profile.cached().map(|p| p.city.as_str()),
        Some("Paris")
    );
}

// --- filtering and ordering on parent fields -------------------------------

#[test]
fn a_child_query_filters_and_orders_by_parent_fields() {
    let db = db();
    for (name, likes) in [("alpha", 5), ("beta", 1), ("gamma", 9)] {
        new_like(&db, name, likes);
    }
    let names = |qs: QuerySet<Like>| -> Vec<String> {
        qs.all(&db)
            .unwrap()
            .into_iter()
            .map(|l| l.page.page_name)
            .collect()
    };

    assert_eq!(
        names(Like::objects().filter(Page::page_name().eq("beta"))),
        ["beta"]
    );
    assert_eq!(
        names(Like::objects().filter(Q::kw("page_name", "gamma"))),
        ["gamma"]
    );
    assert_eq!(
        names(Like::objects().filter(Q::kw("page_name__startswith", "a") | Q::kw("likes__gt", 6))),
        ["alpha", "gamma"]
    );
    assert_eq!(
        names(Like::objects().order_by("-page_name")),
        ["gamma", "beta", "alpha"]
    );
    assert_eq!(
        names(Like::objects().order_by(Page::page_name().desc())),
        ["gamma", "beta", "alpha"]
    );
    assert_eq!(
        names(Like::objects().order_by("likes")),
        ["beta", "alpha", "gamma"]
    );
    assert_eq!(
        names(
            Like::objects()
                .exclude(Page::page_name().eq("alpha"))
                .order_by("page_name")
        ),
        ["beta", "gamma"]
    );

    let (sql, params) = Like::objects()
        .filter(Page::page_name().eq("x"))
        .order_by("-page_name")
        .to_sql()
        .unwrap();
    assert!(
        sql.ends_with(
            r#"WHERE "seedapp_page"."page_name" = ? ORDER BY "seedapp_page"."page_name" DESC"#
        ),
        "{sql}"
    );
    assert_eq!(params, [Value::Text("x".into())]);

    // count / exists / first / get use the same joins.
    assert_eq!(
        Like::objects()
            .filter(Q::kw_list("page_name__in", ["beta", "zeta"]))
            .count(&db)
            .unwrap(),
        1
    );
    assert_eq!(
        Like::objects()
            .filter(Page::page_name().contains("a"))
            .count(&db)
            .unwrap(),
        3
    );
    assert!(Like::objects()
        .filter(Page::page_name().eq("beta"))
        .exists(&db)
        .unwrap());
    assert!(!Like::objects()
        .filter(Page::page_name().eq("zeta"))
        .exists(&db)
        .unwrap());
    let first = Like::objects()
        .order_by("-likes")
        .first(&db)
        .unwrap()
        .unwrap();
    assert_eq!(first.page_name, "gamma");
    let one = Like::objects()
        .filter(Page::page_name().eq("alpha"))
        .get(&db)
        .unwrap();
    assert_eq!(one.likes, 5);

    // Lookups across a relation declared on the parent.
    let city = Like::objects()
        .filter(Page::profile().then(PageOwnerProfile::name()).eq("beta"))
        .get(&db)
        .unwrap();
    assert_eq!(city.page_name, "beta");
    assert_eq!(
        names(Like::objects().filter(Q::kw("profile__user__username", "gamma"))),
        ["gamma"]
    );

    // Unknown names list the parent's fields as choices.
    let err = Like::objects()
        .filter(Q::kw("nope", 1))
        .all(&db)
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("Cannot resolve keyword 'nope' into field"),
        "{msg}"
    );
    assert!(msg.contains("page_name") && msg.contains("likes"), "{msg}");
}

#[test]
fn three_level_filters_use_every_level() {
    let db = db();
    for (name, extra, more) in [("a", 1, 30), ("b", 2, 20), ("c", 3, 10)] {
        grand(name, extra, more).create(&db).unwrap();
    }
    let names = |qs: QuerySet<GrandChild>| -> Vec<String> {
        qs.all(&db)
            .unwrap()
            .into_iter()
            .map(|g| g.name.clone())
            .collect()
    };
    assert_eq!(
        names(GrandChild::objects().filter(Base::name().eq("b"))),
        ["b"]
    );
    assert_eq!(
        names(
            GrandChild::objects()
                .filter(Child::extra().gte(2))
                .order_by("name")
        ),
        ["b", "c"]
    );
    assert_eq!(
        names(
            GrandChild::objects()
                .filter(GrandChild::more().lt(25))
                .order_by("-name")
        ),
        ["c", "b"]
    );
    assert_eq!(
        names(
            GrandChild::objects()
                .filter(Q::kw_list("name__in", ["a"]) | Q::kw("extra", 3))
                .order_by("more")
        ),
        ["c", "a"]
    );
    assert_eq!(
        names(GrandChild::objects().order_by("-extra")),
        ["c", "b", "a"]
    );
    assert_eq!(
        names(GrandChild::objects().order_by(Base::name().desc())),
        ["c", "b", "a"]
    );

    // From the parent side, by the child's fields (Django's `child__extra`).
    assert_eq!(
        Base::objects()
            .filter(Q::kw("child__extra", 2))
            .get(&db)
            .unwrap()
            .name,
        "b"
    );
    assert_eq!(
        Base::objects()
            .filter(Q::kw("child__grandchild__more__gte", 20))
            .count(&db)
            .unwrap(),
        2
    );
    Base {
        id: None,
        name: "plain".into(),
    }
    .create(&db)
    .unwrap();
    assert_eq!(
        Base::objects()
            .filter(Q::kw("child__isnull", true))
            .get(&db)
            .unwrap()
            .name,
        "plain"
    );
    assert_eq!(
        Base::objects()
            .filter(Q::kw("child__isnull", false))
            .count(&db)
            .unwrap(),
        3
    );
    assert_eq!(
        Child::objects()
            .filter(Q::kw("grandchild__more", 10))
            .get(&db)
            .unwrap()
            .name,
        "c"
    );

    // Bulk update of a child's own column.
    let n = GrandChild::objects()
        .filter(Base::name().eq("a"))
        .update(&db, vec![(GrandChild::more(), Value::Integer(31))])
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        GrandChild::objects()
            .filter(Base::name().eq("a"))
            .get(&db)
            .unwrap()
            .more,
        31
    );
}

// --- reverse accessors ------------------------------------------------------

#[test]
fn page_like_is_the_reverse_accessor_from_parent_to_child() {
    let db = db();
    let like = new_like(&db, "ann", 12);
    let page = Page::get(&db, like.page.id).unwrap();
    let (found, cap) = db.capture(|| page.like(&db).unwrap());
    assert_eq!(cap.len(), 1, "one joined statement: {:?}", cap.queries);
    assert!(
        cap.queries[0].contains("INNER JOIN \"seedapp_page\""),
        "{:?}",
        cap.queries
    );
    assert_eq!(
        (found.likes, found.page_name.as_str(), found.page.id),
        (12, "ann", like.page.id)
    );
    // Cached now.
    let ((), cap) = db.capture(|| assert_eq!(page.like(&db).unwrap().likes, 12));
    assert_eq!(cap.len(), 0);

    // A page that is not a Like.
    let other = owner(&db, "bob");
    let plain = Page {
        id: None,
        profile: OneToOne::to(&other),
        page_name: "plain".into(),
    }
    .create(&db)
    .unwrap();
    let err = plain.like(&db).unwrap_err();
    assert_eq!(err.to_string(), "Page has no like.");
    assert!(err.is_does_not_exist());
    assert!(plain.like_opt(&db).unwrap().is_none());
    // Parents stay parents: the page query returns both pages.
    assert_eq!(Page::objects().count(&db).unwrap(), 2);
}

#[test]
fn reverse_accessors_walk_three_levels() {
    let db = db();
    let g = grand("g", 4, 5).create(&db).unwrap();
    let base = Base::get(&db, g.id).unwrap();
    let child = base.child(&db).unwrap();
    assert_eq!((child.name.as_str(), child.extra), ("g", 4));
    let gc = child.grandchild(&db).unwrap();
    assert_eq!((gc.id, gc.more), (g.id, 5));

    let only_child = Child {
        base: Base {
            id: None,
            name: "c".into(),
        },
        extra: 1,
    }
    .create(&db)
    .unwrap();
    assert_eq!(
        only_child.grandchild(&db).unwrap_err().to_string(),
        "Child has no grandchild."
    );
    assert!(only_child.base.child_opt(&db).unwrap().is_some());

    // Relations declared on ancestors are reachable from a child.
    let mut s = Sticker {
        id: None,
        base: OneToOne::to(&g.child.base),
    };
    s.save(&db).unwrap();
    assert_eq!(g.sticker(&db).unwrap().id, s.id);
    let by_sticker = GrandChild::objects()
        .filter(Q::kw("sticker__id", s.id))
        .get(&db)
        .unwrap();
    assert_eq!(by_sticker.id, g.id);
}

#[test]
fn select_related_from_the_parent_to_its_children() {
    let db = db();
    let like = new_like(&db, "ann", 6);
    let other = owner(&db, "bob");
    Page {
        id: None,
        profile: OneToOne::to(&other),
        page_name: "plain".into(),
    }
    .create(&db)
    .unwrap();
    let (pages, cap) = db.capture(|| {
        Page::objects()
            .select_related("like")
            .order_by("page_name")
            .all(&db)
            .unwrap()
    });
    assert_eq!(cap.len(), 1);
    // The child's parent columns are read from the parent row itself: one
    // join, not a second join of the page table.
    assert_eq!(
        cap.queries[0].matches(" JOIN ").count(),
        1,
        "{}",
        cap.queries[0]
    );
    let ((), cap) = db.capture(|| {
        let found = pages[0].like(&db).unwrap();
        assert_eq!(
            (found.page.id, found.page_name.as_str(), found.likes),
            (like.page.id, "ann", 6)
        );
        assert_eq!(
            pages[1].like(&db).unwrap_err().to_string(),
            "Page has no like."
        );
    });
    assert_eq!(cap.len(), 0, "{:?}", cap.queries);

    // Two levels down.
    let g = grand("g", 1, 2).create(&db).unwrap();
    Base {
        id: None,
        name: "plain".into(),
    }
    .create(&db)
    .unwrap();
    let (bases, cap) = db.capture(|| {
        Base::objects()
            .select_related("child__grandchild")
            .order_by("id")
            .all(&db)
            .unwrap()
    });
    assert_eq!(cap.len(), 1);
    let ((), cap) = db.capture(|| {
        let child = bases[0].child(&db).unwrap();
        assert_eq!(child.extra, 1);
        assert_eq!(child.grandchild(&db).unwrap().more, 2);
        assert_eq!(child.grandchild(&db).unwrap().id, g.id);
        assert!(bases[1].child_opt(&db).unwrap().is_none());
    });
    assert_eq!(cap.len(), 0, "{:?}", cap.queries);

    // A filter through the reverse parent link still needs the child row:
    // `like__page_name__isnull` is true for pages that are not likes.
    let plain = Page::objects()
        .filter(Q::kw("like__page_name__isnull", true))
        .get(&db)
        .unwrap();
    assert_eq!(plain.page_name, "plain");
    assert_eq!(
        Page::objects()
            .filter(Q::kw("like__page_name", "ann"))
            .count(&db)
            .unwrap(),
        1
    );
    assert_eq!(
        Page::objects()
            .filter(Q::kw("like__page_name", "plain"))
            .count(&db)
            .unwrap(),
        0
    );
    assert_eq!(
        Page::objects()
            .filter(Q::kw("like__page_name", "plain") | Q::kw("like__likes", 6))
            .count(&db)
            .unwrap(),
        1
    );
}

#[test]
fn reverse_cache_sees_writes_to_the_parent_table() {
    let db = db();
    let like = new_like(&db, "old name", 1);
    let mut page = Page::get(&db, like.page.id).unwrap();
    assert_eq!(page.like(&db).unwrap().page_name, "old name");
    page.page_name = "new name".into();
    page.save(&db).unwrap();
    assert_eq!(page.like(&db).unwrap().page_name, "new name");
}

#[test]
fn women_husband_with_an_explicit_parent_link() {
    let db = db();
    // Husband.objects.create(name="Ann", age=32): a Women row and a Husband row.
    let mut h = Husband {
        wife: Women {
            id: None,
            name: "Ann".into(),
        },
        age: Some(32),
    };
    let (r, cap) = db.capture(|| h.save(&db));
    r.unwrap();
    assert_eq!(
        cap.queries,
        [
            r#"INSERT INTO "seedapp_women" ("name") VALUES (?)"#,
            r#"INSERT INTO "seedapp_husband" ("wife_id", "age") VALUES (?, ?)"#,
        ]
    );
    let id = h.wife.id.unwrap();
    assert_eq!(keys(&db, "seedapp_husband", "wife_id"), [id]);
    assert_eq!(h.name, "Ann");

    let w = Women::get(&db, id).unwrap();
    let found = w.husband(&db).unwrap();
    assert_eq!((found.age, found.name.as_str()), (Some(32), "Ann"));
    assert_eq!(
        Husband::objects()
            .filter(Q::kw("name", "Ann"))
            .count(&db)
            .unwrap(),
        1
    );
    assert_eq!(
        Husband::objects()
            .filter(Women::name().eq("Ann"))
            .count(&db)
            .unwrap(),
        1
    );
    assert_eq!(
        Women::objects()
            .filter(Q::kw("husband__age", 32))
            .get(&db)
            .unwrap()
            .id,
        Some(id)
    );

    // w.husband = h; for a Women row with no Husband yet: the seed's shell session.
    let jane = Women {
        id: None,
        name: "Jane".into(),
    }
    .create(&db)
    .unwrap();
    assert_eq!(
        jane.husband(&db).unwrap_err().to_string(),
        "Women has no husband."
    );
    let mut jack = Husband {
        wife: Women {
            id: None,
            name: String::new(),
        },
        age: Some(40),
    };
    jane.set_husband(&db, &mut jack).unwrap();
    assert_eq!(jack.pk(), jane.pk());
    assert_eq!(
        text(
            &db,
            &format!(
                "SELECT name FROM seedapp_women WHERE id = {}",
                jane.id.unwrap()
            )
        ),
        "Jane"
    );
    assert_eq!(jane.husband(&db).unwrap().age, Some(40));
    assert_eq!(rows(&db, "seedapp_women"), 2);
    assert_eq!(rows(&db, "seedapp_husband"), 2);

    // Assigning another husband: the parent link is the husband's key, so
    // the new value takes over the same husband row (Django's `w.husband =
    // h2; h2.save()` updates it).
    let mut joe = Husband {
        wife: Women {
            id: None,
            name: String::new(),
        },
        age: Some(50),
    };
    jane.set_husband(&db, &mut joe).unwrap();
    assert_eq!(joe.pk(), jane.pk());
    assert_eq!(jane.husband(&db).unwrap().age, Some(50));
    assert_eq!(rows(&db, "seedapp_husband"), 2);
    assert_eq!(Women::get(&db, jane.id).unwrap().name, "Jane");
}

// --- extend_parent (Django #7623) ------------------------------------------

#[test]
fn extend_parent_keeps_the_parent_columns() {
    let db = db();
    let profile = owner(&db, "ann");
    let page = Page {
        id: None,
        profile: OneToOne::to(&profile),
        page_name: "keep me".into(),
    }
    .create(&db)
    .unwrap();

    // Only the key and the child's own fields are given.
    let mut like = Like {
        page: Page {
            id: page.id,
            profile: OneToOne::default(),
            page_name: String::new(),
        },
        likes: 7,
    };
    let (r, cap) = db.capture(|| like.extend_parent(&db));
    r.unwrap();
    assert!(
        cap.queries
            .iter()
            .all(|q| !q.starts_with("UPDATE") && !q.contains("INTO \"seedapp_page\"")),
        "the page row is not written: {:?}",
        cap.queries
    );
    assert!(cap
        .queries
        .iter()
        .any(|q| q.starts_with(r#"INSERT INTO "seedapp_like""#)));
    // The instance is reloaded with the parent's real values.
    assert_eq!(
        (like.page_name.as_str(), like.likes, like.profile.id()),
        ("keep me", 7, profile.id)
    );
    assert_eq!(text(&db, "SELECT page_name FROM seedapp_page"), "keep me");
    assert_eq!(page.like(&db).unwrap().likes, 7);
    assert_eq!(rows(&db, "seedapp_page"), 1);

    // Extending again: the child row exists, an integrity error, nothing written.
    let mut again = Like {
        page: Page {
            id: page.id,
            profile: OneToOne::default(),
            page_name: String::new(),
        },
        likes: 99,
    };
    let err = again.extend_parent(&db).unwrap_err();
    assert!(matches!(err, Error::Integrity { .. }), "{err:?}");
    assert_eq!(Like::get(&db, page.id).unwrap().likes, 7);
}

#[test]
fn plain_save_of_a_child_for_an_existing_parent_overwrites_it_like_django() {
    // The trap extend_parent avoids: `Child(base_ptr=b, extra=7).save()`
    // writes the instance's (default) parent fields over the parent row.
    let db = db();
    let b = Base {
        id: None,
        name: "precious".into(),
    }
    .create(&db)
    .unwrap();
    let mut c = Child {
        base: Base {
            id: b.id,
            name: String::new(),
        },
        extra: 7,
    };
    let (r, cap) = db.capture(|| c.save(&db));
    r.unwrap();
    assert_eq!(
        cap.queries,
        [
            r#"UPDATE "shop_base" SET "name" = ? WHERE "id" = ?"#,
            r#"UPDATE "shop_child" SET "extra" = ? WHERE "base_ptr_id" = ?"#,
            r#"INSERT INTO "shop_child" ("base_ptr_id", "extra") VALUES (?, ?)"#,
        ]
    );
    assert_eq!(Base::get(&db, b.id).unwrap().name, "");

    // extend_parent does not.
    let b = Base {
        id: None,
        name: "precious".into(),
    }
    .create(&db)
    .unwrap();
    let mut c = Child {
        base: Base {
            id: b.id,
            name: String::new(),
        },
        extra: 8,
    };
    c.extend_parent(&db).unwrap();
    assert_eq!(Base::get(&db, b.id).unwrap().name, "precious");
    assert_eq!((c.name.as_str(), c.extra), ("precious", 8));
}

#[test]
fn extend_parent_three_levels_from_the_root_or_the_middle() {
    let db = db();
    // Only the root exists: the child and grandchild rows are inserted.
    let root = Base {
        id: None,
        name: "root only".into(),
    }
    .create(&db)
    .unwrap();
    let mut g = GrandChild {
        child: Child {
            base: Base {
                id: root.id,
                name: String::new(),
            },
            extra: 5,
        },
        more: 9,
    };
    let (r, cap) = db.capture(|| g.extend_parent(&db));
    r.unwrap();
    assert!(
        cap.queries
            .iter()
            .all(|q| !q.contains("INTO \"shop_base\"") && !q.starts_with("UPDATE")),
        "{:?}",
        cap.queries
    );
    assert_eq!(
        (g.id, g.name.as_str(), g.extra, g.more),
        (root.id, "root only", 5, 9)
    );
    assert_eq!(keys(&db, "shop_child", "base_ptr_id"), [root.id.unwrap()]);
    assert_eq!(
        keys(&db, "shop_grandchild", "child_ptr_id"),
        [root.id.unwrap()]
    );
    assert_eq!(GrandChild::get(&db, root.id).unwrap().name, "root only");

    // Root and middle exist: only the grandchild row is inserted, the
    // middle's columns are kept.
    let mid = Child {
        base: Base {
            id: None,
            name: "mid".into(),
        },
        extra: 1,
    }
    .create(&db)
    .unwrap();
    let mut g = GrandChild {
        child: Child {
            base: Base {
                id: mid.id,
                name: String::new(),
            },
            extra: 99,
        },
        more: 10,
    };
    let (r, cap) = db.capture(|| g.extend_parent(&db));
    r.unwrap();
    let writes: Vec<&String> = cap
        .queries
        .iter()
        .filter(|q| !q.starts_with("SELECT"))
        .collect();
    assert_eq!(
        writes,
        [r#"INSERT INTO "shop_grandchild" ("child_ptr_id", "more") VALUES (?, ?)"#]
    );
    assert_eq!((g.name.as_str(), g.extra, g.more), ("mid", 1, 10));
    assert_eq!(Child::get(&db, mid.id).unwrap().extra, 1);

    // Explicit parent links too.
    let w = Women {
        id: None,
        name: "Mary".into(),
    }
    .create(&db)
    .unwrap();
    let mut h = Husband {
        wife: Women {
            id: w.id,
            name: String::new(),
        },
        age: None,
    };
    h.extend_parent(&db).unwrap();
    assert_eq!((h.name.as_str(), h.age), ("Mary", None));
    assert_eq!(w.husband(&db).unwrap().wife.id, w.id);
}

#[test]
fn extend_parent_errors() {
    let db = db();
    let err = grand("x", 1, 1).extend_parent(&db).unwrap_err();
    assert!(matches!(err, Error::Unsaved { .. }), "{err:?}");
    let mut b = Base {
        id: None,
        name: "b".into(),
    }
    .create(&db)
    .unwrap();
    let err = b.extend_parent(&db).unwrap_err();
    assert!(matches!(err, Error::Usage(_)), "{err:?}");
    // A failed extension leaves nothing behind.
    let before = (rows(&db, "shop_child"), rows(&db, "shop_grandchild"));
    grand("taken", 1, 42).create(&db).unwrap();
    let mut clash = GrandChild {
        child: Child {
            base: Base {
                id: b.id,
                name: String::new(),
            },
            extra: 3,
        },
        more: 42,
    };
    let err = clash.extend_parent(&db).unwrap_err();
    assert!(matches!(err, Error::Integrity { .. }), "{err:?}");
    assert_eq!(
        (rows(&db, "shop_child"), rows(&db, "shop_grandchild")),
        (before.0 + 1, before.1 + 1)
    );
    assert!(
        Child::objects()
            .filter(Q::kw("id", b.id))
            .count(&db)
            .unwrap()
            == 0
    );
}

// --- deletion (Django 3.7) --------------------------------------------------

#[test]
fn deleting_a_child_deletes_its_parent_rows() {
    let db = db();
    let mut like = new_like(&db, "ann", 1);
    let page_id = like.page.id;
    let deleted = like.delete(&db).unwrap();
    assert_eq!(
        deleted.to_string(),
        r#"(2, {"seedapp.Like": 1, "seedapp.Page": 1})"#
    );
    assert_eq!(like.pk(), None);
    assert_eq!(
        (rows(&db, "seedapp_like"), rows(&db, "seedapp_page")),
        (0, 0)
    );
    assert!(Page::get(&db, page_id).unwrap_err().is_does_not_exist());
    // The owner above the page is untouched.
    assert_eq!(rows(&db, "seedapp_pageownerprofile"), 1);

    let mut g = grand("g", 1, 1).create(&db).unwrap();
    let d = g.delete(&db).unwrap();
    assert_eq!(
        d.to_string(),
        r#"(3, {"shop.GrandChild": 1, "shop.Child": 1, "shop.Base": 1})"#
    );
    assert_eq!(
        (
            rows(&db, "shop_base"),
            rows(&db, "shop_child"),
            rows(&db, "shop_grandchild")
        ),
        (0, 0, 0)
    );

    let mut h = Husband {
        wife: Women {
            id: None,
            name: "Ann".into(),
        },
        age: None,
    }
    .create(&db)
    .unwrap();
    let d = h.delete(&db).unwrap();
    assert_eq!(
        (
            d.total,
            d.count("seedapp.Husband"),
            d.count("seedapp.Women")
        ),
        (2, 1, 1)
    );
    assert_eq!(rows(&db, "seedapp_women"), 0);
}

#[test]
fn delete_keep_parents_deletes_the_child_row_only() {
    let db = db();
    let mut g = grand("g", 1, 1).create(&db).unwrap();
    let id = g.id;
    Sticker {
        id: None,
        base: OneToOne::to(&g.child.base),
    }
    .create(&db)
    .unwrap();
    Lock {
        id: None,
        child: OneToOne::to(&g.child),
    }
    .create(&db)
    .unwrap();
    let d = g.delete_keep_parents(&db).unwrap();
    assert_eq!(d.to_string(), r#"(1, {"shop.GrandChild": 1})"#);
    assert_eq!(
        (
            rows(&db, "shop_base"),
            rows(&db, "shop_child"),
            rows(&db, "shop_grandchild")
        ),
        (1, 1, 0)
    );
    assert_eq!((rows(&db, "shop_sticker"), rows(&db, "shop_lock")), (1, 1));
    let child = Child::get(&db, id).unwrap();
    assert_eq!((child.name.as_str(), child.extra), ("g", 1));
    assert!(child.grandchild_opt(&db).unwrap().is_none());

    let mut like = new_like(&db, "ann", 3);
    let d = like.delete_keep_parents(&db).unwrap();
    assert_eq!(d.to_string(), r#"(1, {"seedapp.Like": 1})"#);
    assert_eq!(
        (rows(&db, "seedapp_like"), rows(&db, "seedapp_page")),
        (0, 1)
    );

    let mut h = Husband {
        wife: Women {
            id: None,
            name: "Ann".into(),
        },
        age: None,
    }
    .create(&db)
    .unwrap();
    let wid = h.wife.id;
    assert_eq!(h.delete_keep_parents(&db).unwrap().total, 1);
    assert!(Women::get(&db, wid)
        .unwrap()
        .husband_opt(&db)
        .unwrap()
        .is_none());
}

#[test]
fn deleting_a_parent_deletes_its_children_at_every_level() {
    let db = db();
    grand("g3", 1, 1).create(&db).unwrap();
    grand("other", 2, 2).create(&db).unwrap();
    let d = Base::objects()
        .filter(Base::name().eq("g3"))
        .delete(&db)
        .unwrap();
    assert_eq!(
        d.to_string(),
        r#"(3, {"shop.GrandChild": 1, "shop.Child": 1, "shop.Base": 1})"#
    );
    assert_eq!(GrandChild::objects().count(&db).unwrap(), 1);

    let like = new_like(&db, "ann", 1);
    let mut page = Page::get(&db, like.page.id).unwrap();
    let d = page.delete(&db).unwrap();
    assert_eq!(
        (d.total, d.count("seedapp.Like"), d.count("seedapp.Page")),
        (2, 1, 1)
    );
    assert!(page.like_opt(&db).unwrap().is_none());

    // User -> PageOwnerProfile -> Page -> Like, all by CASCADE.
    let like = new_like(&db, "bob", 1);
    let mut user = User::objects()
        .filter(User::username().eq("bob"))
        .get(&db)
        .unwrap();
    let d = user.delete(&db).unwrap();
    assert_eq!(d.total, 4, "{d}");
    for label in [
        "auth.User",
        "seedapp.PageOwnerProfile",
        "seedapp.Page",
        "seedapp.Like",
    ] {
        assert_eq!(d.count(label), 1, "{label} in {d}");
    }
    assert!(Like::get(&db, like.page.id)
        .unwrap_err()
        .is_does_not_exist());

    let w = Women {
        id: None,
        name: "w".into(),
    }
    .create(&db)
    .unwrap();
    let mut h = Husband {
        wife: Women {
            id: None,
            name: String::new(),
        },
        age: Some(1),
    };
    w.set_husband(&db, &mut h).unwrap();
    let mut w = w;
    let d = w.delete(&db).unwrap();
    assert_eq!(
        (
            d.total,
            d.count("seedapp.Husband"),
            d.count("seedapp.Women")
        ),
        (2, 1, 1)
    );
    assert_eq!(rows(&db, "seedapp_husband"), 0);
}

#[test]
fn relations_pointing_at_any_level_cascade_or_block() {
    let db = db();

    // CASCADE at the root: deleting the grandchild deletes its base row,
    // which takes the sticker along.
    let mut g = grand("a", 1, 1).create(&db).unwrap();
    Sticker {
        id: None,
        base: OneToOne::to(&g.child.base),
    }
    .create(&db)
    .unwrap();
    let d = g.delete(&db).unwrap();
    assert_eq!((d.total, d.count("shop.Sticker")), (4, 1), "{d}");
    assert_eq!(rows(&db, "shop_sticker"), 0);

    // SET_NULL at the leaf: deleting the base clears the pin.
    let g = grand("b", 2, 2).create(&db).unwrap();
    let pin = Pin {
        id: None,
        grand: Some(OneToOne::to(&g)),
    }
    .create(&db)
    .unwrap();
    let mut base = Base::get(&db, g.id).unwrap();
    let d = base.delete(&db).unwrap();
    assert_eq!((d.total, d.count("shop.Pin")), (3, 0), "{d}");
    let pin = Pin::get(&db, pin.id).unwrap();
    assert!(pin.grand.is_none());

    // PROTECT at the middle: deleting the grandchild (which deletes the
    // child row) or the base is refused, and nothing is deleted.
    let mut g = grand("c", 3, 3).create(&db).unwrap();
    let lock = Lock {
        id: None,
        child: OneToOne::to(&g.child),
    }
    .create(&db)
    .unwrap();
    let err = g.delete(&db).unwrap_err();
    match &err {
        Error::Protected { keys, objects, .. } => {
            assert_eq!(keys, &["Lock.child"]);
            assert_eq!(objects[0].model, "shop.Lock");
        }
        e => panic!("expected Protected, got {e:?}"),
    }
    let err = Base::objects()
        .filter(Base::name().eq("c"))
        .delete(&db)
        .unwrap_err();
    assert!(matches!(err, Error::Protected { .. }), "{err:?}");
    assert_eq!(
        GrandChild::objects()
            .filter(Base::name().eq("c"))
            .count(&db)
            .unwrap(),
        1
    );
    assert!(g.id.is_some(), "a refused delete keeps the key");
    // keep_parents keeps the protected child row: allowed.
    let mut g = GrandChild::objects()
        .filter(Base::name().eq("c"))
        .get(&db)
        .unwrap();
    assert_eq!(g.delete_keep_parents(&db).unwrap().total, 1);
    assert_eq!(rows(&db, "shop_lock"), 1);
    let mut lock = lock;
    lock.delete(&db).unwrap();

    // RESTRICT at the root.
    let mut g = grand("d", 4, 4).create(&db).unwrap();
    Hold {
        id: None,
        base: OneToOne::to(&g.child.base),
    }
    .create(&db)
    .unwrap();
    let err = g.delete(&db).unwrap_err();
    assert!(
        matches!(&err, Error::Restricted { keys, .. } if keys == &["Hold.base"]),
        "{err:?}"
    );
    assert_eq!(
        GrandChild::objects()
            .filter(Base::name().eq("d"))
            .count(&db)
            .unwrap(),
        1
    );
}

#[test]
fn bulk_update_of_child_and_parent_columns_hits_the_same_rows() {
    let db = db();
    let mut a = grand("a", 1, 10);
    a.save(&db).unwrap();
    let mut b = grand("b", 1, 20);
    b.save(&db).unwrap();
    grand("c", 2, 30).save(&db).unwrap();
    // The filter reads `extra`, which the first UPDATE (the child table) changes:
    // the parent table's UPDATE must still reach the same rows.
    let n = Child::objects()
        .filter(Child::extra().eq(1))
        .update(
            &db,
            vec![
                (Child::extra(), Value::Integer(5)),
                (Base::name().on::<Child>(), Value::Text("renamed".into())),
            ],
        )
        .unwrap();
    assert_eq!(n, 2);
    let names: Vec<String> = Child::objects()
        .filter(Child::extra().eq(5))
        .order_by("name")
        .all(&db)
        .unwrap()
        .into_iter()
        .map(|c| c.name.clone())
        .collect();
    assert_eq!(names, ["renamed", "renamed"]);
    assert_eq!(
        Base::objects()
            .filter(Base::name().eq("c"))
            .count(&db)
            .unwrap(),
        1
    );
}
