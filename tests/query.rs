//! The query builder: golden SQL, every lookup, hostile values, terminal
//! methods, bulk update, streaming, and select_related (both directions, any
//! depth, identical results with and without it).

use orm_core::prelude::*;
use orm_core::Value;

#[derive(Model, Debug, Clone, PartialEq)]
#[model(app = "auth")]
pub struct User {
    pub id: Option<i64>,
    #[field(unique, max_length = 150)]
    pub username: String,
    pub is_staff: bool,
    pub karma: i64,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(app = "app")]
pub struct Profile {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", related_name = "profile")]
    pub user: OneToOne<User>,
    pub bio: Option<String>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(app = "app")]
pub struct Page {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade")]
    pub profile: OneToOne<Profile>,
    #[field(max_length = 255)]
    pub page_name: String,
}

/// A nullable forward relation, for LEFT JOIN select_related.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(app = "app")]
pub struct Avatar {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "set_null", related_name = "avatar")]
    pub user: Option<OneToOne<User>>,
    pub data: Vec<u8>,
    pub scale: f64,
}

fn setup() -> Result<Db> {
    let db = Db::open_in_memory()?;
    db.migrate()?;
    Ok(db)
}

/// alice (profile, page), bob (profile, no page), carol (no profile).
fn seed(db: &Db) -> Result<()> {
    let mk = |name: &str, staff: bool, karma: i64| {
        User {
            id: None,
            username: name.into(),
            is_staff: staff,
            karma,
        }
        .create(db)
    };
    let alice = mk("alice", true, 10)?;
    let bob = mk("bob", false, 5)?;
    mk("carol", false, 1)?;
    let pa = Profile {
        id: None,
        user: OneToOne::to(&alice),
        bio: Some("Hello world".into()),
    }
    .create(db)?;
    Profile {
        id: None,
        user: OneToOne::to(&bob),
        bio: None,
    }
    .create(db)?;
    Page {
        id: None,
        profile: OneToOne::to(&pa),
        page_name: "alice's page".into(),
    }
    .create(db)?;
    Avatar {
        id: None,
        user: Some(OneToOne::to(&alice)),
        data: vec![0, 1, 2],
        scale: 1.5,
    }
    .create(db)?;
    Avatar {
        id: None,
        user: None,
        data: vec![],
        scale: 0.5,
    }
    .create(db)?;
    Ok(())
}

fn names(users: &[User]) -> Vec<&str> {
    users.iter().map(|u| u.username.as_str()).collect()
}

#[test]
fn golden_sql_forward_join_and_params() -> Result<()> {
    let (sql, params) = Profile::objects()
        .filter(Profile::user().then(User::username()).eq("alice"))
        .to_sql()?;
    assert_eq!(
        sql,
        r#"SELECT "app_profile"."id", "app_profile"."user_id", "app_profile"."bio" FROM "app_profile" INNER JOIN "auth_user" ON ("app_profile"."user_id" = "auth_user"."id") WHERE "auth_user"."username" = ?"#
    );
    assert_eq!(params, vec![Value::Text("alice".into())]);
    Ok(())
}

#[test]
fn golden_sql_select_related_and_reverse_isnull() -> Result<()> {
    let (sql, _) = Profile::objects()
        .select_related(Profile::user())
        .to_sql()?;
    assert_eq!(
        sql,
        r#"SELECT "app_profile"."id", "app_profile"."user_id", "app_profile"."bio", "auth_user"."id", "auth_user"."username", "auth_user"."is_staff", "auth_user"."karma" FROM "app_profile" INNER JOIN "auth_user" ON ("app_profile"."user_id" = "auth_user"."id")"#
    );
    let (sql, params) = User::objects()
        .filter(Q::kw("profile__isnull", true))
        .to_sql()?;
    assert_eq!(
        sql,
        r#"SELECT "auth_user"."id", "auth_user"."username", "auth_user"."is_staff", "auth_user"."karma" FROM "auth_user" LEFT OUTER JOIN "app_profile" ON ("auth_user"."id" = "app_profile"."user_id") WHERE "app_profile"."id" IS NULL"#
    );
    assert!(params.is_empty());
    let (sql, _) = User::objects()
        .filter(Q::kw("profile__bio__icontains", "WORLD"))
        .to_sql()?;
    assert!(sql.contains(r#"INNER JOIN "app_profile""#), "{sql}");
    assert!(
        sql.ends_with(r#"WHERE instr(CAST(lower("app_profile"."bio") AS BLOB), ?) > 0"#),
        "{sql}"
    );
    let (sql, _) = Avatar::objects().select_related("user").to_sql()?;
    assert!(
        sql.contains(r#"LEFT OUTER JOIN "auth_user""#),
        "nullable forward is LEFT: {sql}"
    );
    Ok(())
}

#[test]
fn golden_sql_boolean_tree_order_and_slice() -> Result<()> {
    let q = (User::username().starts_with("a") | User::karma().gte(5)) & !User::is_staff().eq(true);
    let (sql, params) = User::objects()
        .filter(q)
        .order_by(User::karma().desc())
        .order_by("username")
        .limit(10)
        .offset(20)
        .to_sql()?;
    assert!(sql.ends_with(r#"WHERE (("auth_user"."username" GLOB ? OR "auth_user"."karma" >= ?) AND NOT ("auth_user"."is_staff" = ?)) ORDER BY "auth_user"."karma" DESC, "auth_user"."username" ASC LIMIT 10 OFFSET 20"#), "{sql}");
    assert_eq!(
        params,
        vec![
            Value::Text("a*".into()),
            Value::Integer(5),
            Value::Integer(1)
        ]
    );
    Ok(())
}

#[test]
fn every_lookup() -> Result<()> {
    let db = setup()?;
    seed(&db)?;
    let run = |q: Q| -> Result<Vec<String>> {
        Ok(User::objects()
            .filter(q)
            .order_by("username")
            .all(&db)?
            .into_iter()
            .map(|u| u.username)
            .collect())
    };
    assert_eq!(run(User::username().eq("bob"))?, ["bob"]);
    assert_eq!(run(User::username().iexact("BOB"))?, ["bob"]);
    assert_eq!(run(User::karma().lt(5))?, ["carol"]);
    assert_eq!(run(User::karma().lte(5))?, ["bob", "carol"]);
    assert_eq!(run(User::karma().gt(5))?, ["alice"]);
    assert_eq!(run(User::karma().gte(5))?, ["alice", "bob"]);
    assert_eq!(
        run(User::username().is_in(["alice", "carol", "zed"]))?,
        ["alice", "carol"]
    );
    assert_eq!(
        run(User::username().is_in(Vec::<String>::new()))?,
        Vec::<String>::new()
    );
    assert_eq!(run(User::username().contains("li"))?, ["alice"]);
    assert_eq!(
        run(User::username().contains("LI"))?,
        Vec::<String>::new(),
        "contains is case-sensitive"
    );
    assert_eq!(run(User::username().icontains("LI"))?, ["alice"]);
    assert_eq!(run(User::username().starts_with("ca"))?, ["carol"]);
    assert_eq!(run(User::username().istarts_with("CA"))?, ["carol"]);
    assert_eq!(run(User::username().ends_with("ob"))?, ["bob"]);
    assert_eq!(run(User::username().iends_with("OB"))?, ["bob"]);
    assert_eq!(run(User::karma().range(2, 10))?, ["alice", "bob"]);
    assert_eq!(run(Q::kw_list("karma__range", [1, 5]))?, ["bob", "carol"]);
    assert_eq!(
        run(Q::kw("profile__bio__isnull", true))?,
        ["bob", "carol"],
        "LEFT join keeps users with no profile"
    );
    assert_eq!(run(Q::kw("profile__isnull", false))?, ["alice", "bob"]);
    assert_eq!(
        run(Q::kw("profile__page__page_name__contains", "page"))?,
        ["alice"]
    );
    assert_eq!(run(!Q::kw("profile__isnull", true))?, ["alice", "bob"]);
    assert_eq!(run(Q::kw("avatar__scale__gt", 1.0))?, ["alice"]);
    assert_eq!(run(User::username().ne("bob"))?, ["alice", "carol"]);
    // Subquery: users whose id is among profile owners.
    let owners = Profile::objects().values(Profile::user().key());
    assert_eq!(run(User::id().in_query(owners))?, ["alice", "bob"]);
    // Reverse `exact` compares the related primary key.
    let p = Profile::objects()
        .filter(Q::kw("user__username", "bob"))
        .get(&db)?;
    assert_eq!(run(Q::kw("profile", p.id))?, ["bob"]);
    Ok(())
}

#[test]
fn hostile_strings_round_trip_exactly() -> Result<()> {
    let db = setup()?;
    let hostile = [
        "O'Reilly",
        "\"; DROP TABLE auth_user; --",
        "Robert'); DROP TABLE app_profile;--",
        "nul\0byte",
        "emoji 🦀👩‍👩‍👧",
        "50% off_[x]*?",
        "back\\slash",
    ];
    for (i, s) in hostile.iter().enumerate() {
        User {
            id: None,
            username: (*s).into(),
            is_staff: false,
            karma: i as i64,
        }
        .save(&db)?;
    }
    for s in hostile {
        let u = User::objects().filter(User::username().eq(s)).get(&db)?;
        assert_eq!(u.username, s);
        let found = User::objects()
            .filter(User::username().contains(s))
            .count(&db)?;
        assert!(found >= 1, "contains {s:?}");
        assert_eq!(
            User::objects()
                .filter(User::username().icontains(s))
                .count(&db)?,
            1,
            "icontains {s:?}"
        );
    }
    assert_eq!(
        User::objects().count(&db)?,
        hostile.len() as u64,
        "no table was dropped"
    );
    // A value in a lookup string is still bound, never SQL text.
    let err = User::objects()
        .filter(Q::kw("username\"; DROP TABLE x; --", 1))
        .count(&db);
    assert!(matches!(err, Err(Error::Field { .. })));
    Ok(())
}

#[test]
fn terminal_methods() -> Result<()> {
    let db = setup()?;
    seed(&db)?;
    assert_eq!(User::objects().count(&db)?, 3);
    assert_eq!(User::objects().limit(2).count(&db)?, 2);
    assert!(User::objects().filter(User::karma().gt(9)).exists(&db)?);
    assert!(!User::objects().filter(User::karma().gt(99)).exists(&db)?);
    assert_eq!(
        User::objects().first(&db)?.map(|u| u.username),
        Some("alice".into())
    );
    assert_eq!(
        User::objects()
            .order_by("-karma")
            .offset(1)
            .first(&db)?
            .map(|u| u.username),
        Some("bob".into())
    );
    let err = User::objects()
        .filter(User::karma().gt(99))
        .get(&db)
        .unwrap_err();
    assert_eq!(err.to_string(), "User matching query does not exist.");
    let err = User::objects().get(&db).unwrap_err();
    assert!(
        matches!(err, Error::MultipleObjectsReturned { count: 3, .. }),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "get() returned more than one User -- it returned 3!"
    );
    assert!(matches!(
        User::get(&db, 999),
        Err(Error::DoesNotExist { model: "User" })
    ));
    let mut u = User::get(&db, 1)?;
    u.karma = 99;
    u.save(&db)?;
    let mut again = User::get(&db, 1)?;
    assert_eq!(again.karma, 99);
    again.username = "changed".into();
    again.refresh(&db)?;
    assert_eq!(again.username, "alice");
    Ok(())
}

#[test]
fn bulk_update_sets_matching_rows_only() -> Result<()> {
    let db = setup()?;
    seed(&db)?;
    let n = User::objects()
        .filter(User::karma().lt(6))
        .update(&db, vec![(User::is_staff(), Value::Integer(1))])?;
    assert_eq!(n, 2);
    assert_eq!(
        User::objects()
            .filter(User::is_staff().eq(true))
            .count(&db)?,
        3
    );
    let err = User::objects()
        .limit(1)
        .update(&db, vec![(User::karma(), Value::Integer(0))]);
    assert!(matches!(err, Err(Error::Usage(_))));
    Ok(())
}

#[test]
fn streaming_yields_every_row() -> Result<()> {
    let db = setup()?;
    db.atomic(|db| {
        for i in 0..500 {
            User {
                id: None,
                username: format!("u{i:03}"),
                is_staff: false,
                karma: i,
            }
            .save(db)?;
        }
        Ok(())
    })?;
    let mut stream = User::objects().order_by("karma").stream(&db)?;
    let mut seen = 0i64;
    for u in stream.iter() {
        assert_eq!(u?.karma, seen);
        seen += 1;
    }
    assert_eq!(seen, 500);
    Ok(())
}

#[test]
fn errors_name_model_field_and_table() -> Result<()> {
    let db = Db::open_in_memory()?;
    let err = User::objects().count(&db).unwrap_err();
    assert!(
        matches!(&err, Error::NoSuchTable { table } if table == "auth_user"),
        "{err}"
    );
    assert!(err.to_string().contains("migrate"));
    db.migrate()?;
    db.connection().execute(
        "INSERT INTO auth_user (username, is_staff, karma) VALUES ('x', 0, 'not a number')",
        [],
    )?;
    let err = User::objects().all(&db).unwrap_err();
    match &err {
        Error::FieldValue {
            model,
            field,
            table,
            column,
            ..
        } => {
            assert_eq!(
                (*model, *field, *table, *column),
                ("User", "karma", "auth_user", "karma")
            );
        }
        other => panic!("{other:?}"),
    }
    let err = User {
        id: None,
        username: "x".into(),
        is_staff: false,
        karma: 0,
    }
    .create(&db)
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "UNIQUE constraint failed: auth_user.username"
    );
    Ok(())
}

#[test]
fn select_related_forward_fills_cache_in_one_statement() -> Result<()> {
    let db = setup()?;
    seed(&db)?;
    let (names, c) = db.capture(|| -> Result<Vec<String>> {
        let mut out = Vec::new();
        for p in Profile::objects()
            .select_related(Profile::user())
            .order_by("id")
            .all(&db)?
        {
            out.push(p.user.get(&db)?.username.clone());
        }
        Ok(out)
    });
    assert_eq!(names?, ["alice", "bob"]);
    assert_eq!(c.len(), 1, "one JOIN query, no N+1: {:?}", c.queries);
    // Without select_related: 1 + N.
    let (_, c) = db.capture(|| -> Result<()> {
        for p in Profile::objects().all(&db)? {
            p.user.get(&db)?;
        }
        Ok(())
    });
    assert_eq!(c.len(), 3);
    Ok(())
}

#[test]
fn select_related_reverse_caches_missing_rows() -> Result<()> {
    let db = setup()?;
    seed(&db)?;
    let (r, c) = db.capture(|| -> Result<Vec<(String, Option<Option<String>>)>> {
        let users = User::objects()
            .select_related("profile")
            .order_by("id")
            .all(&db)?;
        users
            .iter()
            .map(|u| Ok((u.username.clone(), u.profile_opt(&db)?.map(|p| p.bio))))
            .collect()
    });
    assert_eq!(
        r?,
        vec![
            ("alice".to_string(), Some(Some("Hello world".to_string()))),
            ("bob".to_string(), Some(None)),
            ("carol".to_string(), None),
        ]
    );
    assert_eq!(
        c.len(),
        1,
        "missing reverse rows are cached as missing: {:?}",
        c.queries
    );
    Ok(())
}

#[test]
fn select_related_chains_at_any_depth_in_one_statement() -> Result<()> {
    let db = setup()?;
    seed(&db)?;
    let (r, c) = db.capture(|| -> Result<(String, String)> {
        let page = Page::objects().select_related("profile__user").get(&db)?;
        let profile = page.profile.get(&db)?;
        Ok((
            page.page_name.clone(),
            profile.user.get(&db)?.username.clone(),
        ))
    });
    assert_eq!(r?, ("alice's page".to_string(), "alice".to_string()));
    assert_eq!(c.len(), 1);
    // Reverse then reverse: user -> profile -> page.
    let (r, c) = db.capture(|| -> Result<Vec<Option<String>>> {
        let users = User::objects()
            .select_related("profile__page")
            .order_by("id")
            .all(&db)?;
        let mut out = Vec::new();
        for u in &users {
            out.push(match u.profile_opt(&db)? {
                Some(p) => p.page_opt(&db)?.map(|pg| pg.page_name),
                None => None,
            });
        }
        Ok(out)
    });
    assert_eq!(r?, vec![Some("alice's page".to_string()), None, None]);
    assert_eq!(c.len(), 1, "{:?}", c.queries);
    // Typed chain: Page -> Profile -> User.
    let typed = Page::objects()
        .select_related(Page::profile().rel(Profile::user()))
        .get(&db)?;
    assert!(typed.profile.cached().is_some_and(|p| p.user.is_cached()));
    Ok(())
}

#[test]
fn results_identical_with_and_without_select_related() -> Result<()> {
    let db = setup()?;
    seed(&db)?;
    let plain = Profile::objects().order_by("id").all(&db)?;
    let joined = Profile::objects()
        .select_related(Profile::user())
        .order_by("id")
        .all(&db)?;
    assert_eq!(plain, joined);
    for (a, b) in plain.iter().zip(&joined) {
        assert_eq!(a.user.get(&db)?, b.user.get(&db)?);
    }
    let plain = Avatar::objects().order_by("id").all(&db)?;
    let joined = Avatar::objects()
        .select_related("user")
        .order_by("id")
        .all(&db)?;
    assert_eq!(plain, joined);
    assert_eq!(joined[0].data, vec![0, 1, 2]);
    let plain = User::objects().order_by("id").all(&db)?;
    let joined = User::objects()
        .select_related("profile")
        .select_related("avatar")
        .order_by("id")
        .all(&db)?;
    assert_eq!(names(&plain), names(&joined));
    Ok(())
}

#[test]
fn select_related_rejects_unknown_names_with_choices() {
    let err = User::objects().select_related("nope").to_sql().unwrap_err();
    assert_eq!(
        err.to_string(),
        "Invalid field name(s) given in select_related: 'nope'. Choices are: profile, avatar"
    );
}

#[test]
fn nested_atomic_rolls_back_inner_only() -> Result<()> {
    let db = setup()?;
    db.atomic(|db| {
        User {
            id: None,
            username: "outer".into(),
            is_staff: false,
            karma: 0,
        }
        .save(db)?;
        let inner: Result<()> = db.atomic(|db| {
            User {
                id: None,
                username: "inner".into(),
                is_staff: false,
                karma: 0,
            }
            .save(db)?;
            Err(Error::Usage("boom".into()))
        });
        assert!(inner.is_err());
        Ok(())
    })?;
    assert_eq!(names(&User::objects().all(&db)?), ["outer"]);
    Ok(())
}

#[test]
fn prefetch_related_reverse_and_forward_in_one_query_each() -> Result<()> {
    let db = setup()?;
    seed(&db)?;
    let (r, c) = db.capture(|| -> Result<Vec<Option<Option<String>>>> {
        let users = User::objects()
            .prefetch_related("profile")
            .order_by("id")
            .all(&db)?;
        users
            .iter()
            .map(|u| Ok(u.profile_opt(&db)?.map(|p| p.bio)))
            .collect()
    });
    assert_eq!(r?, vec![Some(Some("Hello world".into())), Some(None), None]);
    assert_eq!(
        c.len(),
        2,
        "users, then profiles WHERE user_id IN (...): {:?}",
        c.queries
    );
    let (r, c) = db.capture(|| -> Result<Vec<String>> {
        let profiles = Profile::objects()
            .prefetch_related(Profile::user())
            .order_by("id")
            .all(&db)?;
        profiles
            .iter()
            .map(|p| Ok(p.user.get(&db)?.username.clone()))
            .collect()
    });
    assert_eq!(r?, ["alice", "bob"]);
    assert_eq!(c.len(), 2, "{:?}", c.queries);
    Ok(())
}

#[test]
fn prefetch_chunks_keys_under_the_parameter_limit() -> Result<()> {
    let db = setup()?;
    db.atomic(|db| {
        for i in 0..1_200 {
            let u = User {
                id: None,
                username: format!("u{i}"),
                is_staff: false,
                karma: i,
            }
            .create(db)?;
            if i % 2 == 0 {
                Profile {
                    id: None,
                    user: OneToOne::to(&u),
                    bio: None,
                }
                .save(db)?;
            }
        }
        Ok(())
    })?;
    let (r, c) = db.capture(|| -> Result<usize> {
        let users = User::objects().prefetch_related("profile").all(&db)?;
        let mut with = 0;
        for u in &users {
            with += u.profile_opt(&db)?.is_some() as usize;
        }
        Ok(with)
    });
    assert_eq!(r?, 600);
    assert_eq!(c.len(), 1 + 3, "1,200 keys in chunks of 500");
    let mut users = User::objects().filter(User::karma().lt(10)).all(&db)?;
    db.clear_cache();
    let (r, c) = db.capture(|| -> Result<usize> {
        orm_core::prefetch_related_objects(&db, &mut users, "profile")?;
        let mut with = 0;
        for u in &users {
            with += u.profile_opt(&db)?.is_some() as usize;
        }
        Ok(with)
    });
    assert_eq!(r?, 5, "users 0..10, every even one has a profile");
    assert_eq!(
        c.len(),
        1,
        "one IN query, then the accessors read the cache"
    );
    Ok(())
}
