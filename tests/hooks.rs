//! Hooks (Django's signals): `pre_save`, `post_save` with `created`,
//! `pre_delete`, `post_delete`; a failing hook rolls back everything it was
//! part of; the seed's auto-create-profile pattern.

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

/// A grandchild, so "nothing at any level" covers three tables.
#[derive(Model, Debug, Clone)]
#[model(app = "app")]
pub struct SuperLike {
    #[parent]
    pub like: Like,
    pub stars: i64,
}

type Log = Arc<Mutex<Vec<String>>>;

fn setup() -> Result<(Db, Log)> {
    let db = Db::open_in_memory()?;
    db.migrate()?;
    Ok((db, Arc::new(Mutex::new(Vec::new()))))
}

fn user(name: &str) -> User {
    User {
        id: None,
        username: name.into(),
        is_staff: false,
    }
}

fn like(name: &str, likes: i64) -> Like {
    Like {
        page: Page {
            id: None,
            page_name: name.into(),
        },
        likes,
    }
}

fn events(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

fn count_rows(db: &Db, table: &str) -> i64 {
    db.connection()
        .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .expect("count rows")
}

fn assert_hook_error(err: &Error, hook: &str, model: &str, message: &str) {
    match err {
        Error::Hook {
            hook: h,
            model: m,
            message: msg,
        } => {
            assert_eq!((*h, *m, msg.as_str()), (hook, model, message), "{err}");
        }
        other => panic!("expected a {hook} hook error, got {other:?}"),
    }
}

// ---------------------------------------------------------------- save hooks

#[test]
fn pre_save_runs_before_the_write_and_may_change_the_instance() -> Result<()> {
    let (db, log) = setup()?;
    let l = log.clone();
    db.on_pre_save::<User>(move |_, u| {
        l.lock()
            .unwrap()
            .push(format!("pre_save {} id={:?}", u.username, u.id));
        u.username = u.username.to_lowercase();
        Ok(())
    });
    let u = user("JohnDoe").create(&db)?;
    assert_eq!(events(&log), ["pre_save JohnDoe id=None"]);
    assert_eq!(u.username, "johndoe");
    assert_eq!(User::get(&db, u.id)?.username, "johndoe");
    Ok(())
}

#[test]
fn post_save_created_is_true_on_insert_false_on_update() -> Result<()> {
    let (db, log) = setup()?;
    let l = log.clone();
    db.on_post_save::<User>(move |_, u, created| {
        l.lock().unwrap().push(format!(
            "post_save {} id={:?} created={created}",
            u.username, u.id
        ));
        Ok(())
    });
    let mut u = user("ann").create(&db)?;
    u.is_staff = true;
    u.save(&db)?;
    assert_eq!(
        events(&log),
        [
            "post_save ann id=Some(1) created=true",
            "post_save ann id=Some(1) created=false"
        ]
    );
    Ok(())
}

#[test]
fn post_save_sees_the_row_already_written() -> Result<()> {
    let (db, log) = setup()?;
    let l = log.clone();
    db.on_post_save::<User>(move |db, u, _| {
        let stored = User::get(db, u.id)?;
        l.lock().unwrap().push(stored.username);
        Ok(())
    });
    user("ann").create(&db)?;
    assert_eq!(events(&log), ["ann"]);
    Ok(())
}

#[test]
fn hooks_run_in_registration_order() -> Result<()> {
    let (db, log) = setup()?;
    for name in ["first", "second"] {
        let l = log.clone();
        db.on_pre_save::<User>(move |_, _| {
            l.lock().unwrap().push(format!("pre {name}"));
            Ok(())
        });
        let l = log.clone();
        db.on_post_save::<User>(move |_, _, _| {
            l.lock().unwrap().push(format!("post {name}"));
            Ok(())
        });
    }
    user("ann").create(&db)?;
    assert_eq!(
        events(&log),
        ["pre first", "pre second", "post first", "post second"]
    );
    Ok(())
}

#[test]
fn hooks_are_per_model_and_per_db() -> Result<()> {
    let (db, log) = setup()?;
    let l = log.clone();
    db.on_post_save::<Profile>(move |_, _, _| {
        l.lock().unwrap().push("profile".into());
        Ok(())
    });
    user("ann").create(&db)?; // a User save: the Profile hook stays silent

    let other = Db::open_in_memory()?;
    other.migrate()?;
    let u = user("bob").create(&other)?;
    Profile {
        id: None,
        user: OneToOne::to(&u),
        bio: None,
    }
    .create(&other)?; // another Db: its own (empty) hooks
    assert!(events(&log).is_empty());
    Ok(())
}

#[test]
fn clear_hooks_removes_every_hook() -> Result<()> {
    let (db, log) = setup()?;
    let l = log.clone();
    db.on_pre_save::<User>(move |_, _| {
        l.lock().unwrap().push("pre".into());
        Err(Error::hook("refused"))
    });
    assert!(user("ann").create(&db).is_err());
    db.clear_hooks();
    user("ann").create(&db)?;
    assert_eq!(events(&log), ["pre"]);
    Ok(())
}

// ------------------------------------------------------ failing save hooks

#[test]
fn failing_pre_save_aborts_before_any_write() -> Result<()> {
    let (db, _) = setup()?;
    db.on_pre_save::<User>(|_, u| {
        if u.username.is_empty() {
            Err(Error::hook("a username is required"))
        } else {
            Ok(())
        }
    });
    let mut u = user("");
    let err = u.save(&db).unwrap_err();
    assert_hook_error(&err, "pre_save", "User", "a username is required");
    assert_eq!(
        err.to_string(),
        "pre_save hook of User failed: a username is required"
    );
    assert_eq!(u.id, None);
    assert_eq!(User::objects().count(&db)?, 0);
    Ok(())
}

#[test]
fn failing_post_save_rolls_back_the_insert() -> Result<()> {
    let (db, _) = setup()?;
    db.on_post_save::<User>(|_, _, created| {
        if created {
            Err(Error::hook("no new users today"))
        } else {
            Ok(())
        }
    });
    let mut u = user("ann");
    let err = u.save(&db).unwrap_err();
    assert_hook_error(&err, "post_save", "User", "no new users today");
    assert_eq!(User::objects().count(&db)?, 0, "the INSERT was rolled back");
    assert_eq!(u.id, None, "the instance reads as unsaved again");
    // Nothing is left half-done: the connection is usable and not in a transaction.
    assert!(!db.in_transaction());
    assert!(db.connection().is_autocommit());
    db.clear_hooks();
    u.save(&db)?;
    assert_eq!(User::objects().count(&db)?, 1);
    Ok(())
}

#[test]
fn failing_post_save_rolls_back_the_update() -> Result<()> {
    let (db, _) = setup()?;
    let mut u = user("ann").create(&db)?;
    db.on_post_save::<User>(|_, _, _| Err(Error::hook("frozen")));
    u.username = "anne".into();
    let err = u.save(&db).unwrap_err();
    assert_hook_error(&err, "post_save", "User", "frozen");
    assert_eq!(User::get(&db, u.id)?.username, "ann");
    assert_eq!(u.id, Some(1), "an update keeps the key it had");
    Ok(())
}

#[test]
fn failing_hook_inside_an_outer_atomic_rolls_back_only_its_save() -> Result<()> {
    let (db, _) = setup()?;
    db.on_post_save::<User>(|_, u, _| {
        if u.username == "bad" {
            Err(Error::hook("bad name"))
        } else {
            Ok(())
        }
    });
    db.atomic(|db| {
        user("good").create(db)?;
        assert!(user("bad").create(db).is_err());
        Ok(())
    })?;
    let names: Vec<String> = User::objects()
        .all(&db)?
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, ["good"]);
    Ok(())
}

// --------------------------------------------------- multi-table inheritance

#[test]
fn multi_table_child_fires_its_own_hooks_only() -> Result<()> {
    let (db, log) = setup()?;
    let l = log.clone();
    db.on_pre_save::<Page>(move |_, _| {
        l.lock().unwrap().push("Page pre_save".into());
        Ok(())
    });
    let l = log.clone();
    db.on_post_save::<Like>(move |_, like, created| {
        l.lock().unwrap().push(format!(
            "Like post_save {} likes={} created={created}",
            like.page_name, like.likes
        ));
        Ok(())
    });
    let mut l = like("home", 3).create(&db)?;
    l.likes = 4;
    l.save(&db)?;
    // Django sends pre_save/post_save once per save(), for the child class only.
    assert_eq!(
        events(&log),
        [
            "Like post_save home likes=3 created=true",
            "Like post_save home likes=4 created=false"
        ]
    );
    Ok(())
}

#[test]
fn failing_child_post_save_leaves_nothing_at_any_level() -> Result<()> {
    let (db, _) = setup()?;
    db.on_post_save::<SuperLike>(|_, _, _| Err(Error::hook("no")));
    let mut s = SuperLike {
        like: like("home", 1),
        stars: 5,
    };
    let err = s.save(&db).unwrap_err();
    assert_hook_error(&err, "post_save", "SuperLike", "no");
    assert_eq!(count_rows(&db, "app_page"), 0);
    assert_eq!(count_rows(&db, "app_like"), 0);
    assert_eq!(count_rows(&db, "app_superlike"), 0);
    assert_eq!(s.pk(), None, "every level reads as unsaved again");
    assert_eq!(s.like.page.id, None);
    Ok(())
}

#[test]
fn failing_child_pre_save_writes_no_parent_row() -> Result<()> {
    let (db, _) = setup()?;
    db.on_pre_save::<Like>(|_, l| {
        if l.likes < 0 {
            Err(Error::hook("likes cannot be negative"))
        } else {
            Ok(())
        }
    });
    let err = like("home", -1).create(&db).unwrap_err();
    assert_hook_error(&err, "pre_save", "Like", "likes cannot be negative");
    assert_eq!(Page::objects().count(&db)?, 0);
    assert_eq!(Like::objects().count(&db)?, 0);
    Ok(())
}

// --------------------------------------------- seed 000: auto-create profile

fn auto_profile(db: &Db) {
    // @receiver(post_save, sender=User)
    // def create_user_profile(sender, instance, created, **kwargs):
    //     if created: Profile.objects.create(user=instance)
    db.on_post_save::<User>(|db, u, created| {
        if created {
            Profile {
                id: None,
                user: OneToOne::to(u),
                bio: None,
            }
            .save(db)?;
        }
        Ok(())
    });
}

#[test]
fn post_save_auto_creates_the_profile() -> Result<()> {
    let (db, _) = setup()?;
    auto_profile(&db);
    let u = user("johndoe").create(&db)?;
    let p = u.profile(&db)?;
    assert_eq!(p.user.id(), u.id);
    assert_eq!(p.user.get(&db)?.username, "johndoe");
    assert_eq!(Profile::objects().count(&db)?, 1);
    Ok(())
}

#[test]
fn resaving_the_user_creates_no_second_profile() -> Result<()> {
    let (db, _) = setup()?;
    auto_profile(&db);
    let mut u = user("johndoe").create(&db)?;
    u.is_staff = true;
    u.save(&db)?;
    assert_eq!(Profile::objects().count(&db)?, 1);
    Ok(())
}

#[test]
fn explicit_second_profile_fails_with_unique_on_table_and_column() -> Result<()> {
    let (db, _) = setup()?;
    auto_profile(&db);
    let u = user("johndoe").create(&db)?;
    let err = Profile {
        id: None,
        user: OneToOne::to(&u),
        bio: Some("again".into()),
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
            assert_eq!(table, "app_profile");
            assert_eq!(columns, &["user_id"]);
        }
        other => panic!("expected a UNIQUE integrity error, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "UNIQUE constraint failed: app_profile.user_id"
    );
    assert_eq!(Profile::objects().count(&db)?, 1);
    Ok(())
}

#[test]
fn nested_saves_fire_their_own_hooks() -> Result<()> {
    let (db, log) = setup()?;
    auto_profile(&db);
    let l = log.clone();
    db.on_pre_save::<Profile>(move |_, p| {
        l.lock()
            .unwrap()
            .push(format!("Profile pre_save user={:?}", p.user.id()));
        p.bio = Some("auto".into());
        Ok(())
    });
    let l = log.clone();
    db.on_post_save::<Profile>(move |_, p, created| {
        l.lock()
            .unwrap()
            .push(format!("Profile post_save id={:?} created={created}", p.id));
        Ok(())
    });
    let u = user("ann").create(&db)?;
    assert_eq!(
        events(&log),
        [
            "Profile pre_save user=Some(1)",
            "Profile post_save id=Some(1) created=true"
        ]
    );
    assert_eq!(u.profile(&db)?.bio.as_deref(), Some("auto"));
    Ok(())
}

#[test]
fn failing_profile_creation_rolls_back_the_user() -> Result<()> {
    let (db, _) = setup()?;
    auto_profile(&db);
    db.on_pre_save::<Profile>(|_, _| Err(Error::hook("profiles are closed")));
    let mut u = user("ann");
    let err = u.save(&db).unwrap_err();
    // The innermost hook's error comes out unchanged.
    assert_hook_error(&err, "pre_save", "Profile", "profiles are closed");
    assert_eq!(User::objects().count(&db)?, 0);
    assert_eq!(Profile::objects().count(&db)?, 0);
    assert_eq!(u.id, None);
    Ok(())
}

#[test]
fn get_or_create_idiom_avoids_the_duplicate() -> Result<()> {
    // Profile.objects.get_or_create(user=u): reuse the profile the hook made.
    let (db, _) = setup()?;
    auto_profile(&db);
    let u = user("ann").create(&db)?;
    let p = match u.profile_opt(&db)? {
        Some(p) => p,
        None => Profile {
            id: None,
            user: OneToOne::to(&u),
            bio: None,
        }
        .create(&db)?,
    };
    assert_eq!(p.id, Some(1));
    assert_eq!(Profile::objects().count(&db)?, 1);
    Ok(())
}

// -------------------------------------------------------------- delete hooks

#[test]
fn delete_hooks_fire_with_the_instance_for_cascaded_rows_too() -> Result<()> {
    let (db, log) = setup()?;
    let mut u = user("ann").create(&db)?;
    let p = Profile {
        id: None,
        user: OneToOne::to(&u),
        bio: Some("hi".into()),
    }
    .create(&db)?;
    let l = log.clone();
    db.on_pre_delete::<User>(move |db, u| {
        // pre_delete: the row is still there.
        let there = User::objects().filter(User::id().eq(u.id)).exists(db)?;
        l.lock().unwrap().push(format!(
            "User pre_delete {} id={:?} there={there}",
            u.username, u.id
        ));
        Ok(())
    });
    let l = log.clone();
    db.on_post_delete::<User>(move |db, u| {
        let there = User::objects().filter(User::id().eq(u.id)).exists(db)?;
        l.lock().unwrap().push(format!(
            "User post_delete {} id={:?} there={there}",
            u.username, u.id
        ));
        Ok(())
    });
    let l = log.clone();
    db.on_pre_delete::<Profile>(move |_, p| {
        l.lock()
            .unwrap()
            .push(format!("Profile pre_delete id={:?} bio={:?}", p.id, p.bio));
        Ok(())
    });
    let l = log.clone();
    db.on_post_delete::<Profile>(move |_, p| {
        l.lock()
            .unwrap()
            .push(format!("Profile post_delete id={:?}", p.id));
        Ok(())
    });
    let deleted = u.delete(&db)?;
    assert_eq!(
        deleted.to_string(),
        r#"(2, {"app.Profile": 1, "auth.User": 1})"#
    );
    let ev = events(&log);
    // Every pre_delete runs before any row goes; each post_delete after its model's rows.
    let pos = |s: &str| {
        ev.iter()
            .position(|e| e == s)
            .unwrap_or_else(|| panic!("{s:?} missing from {ev:?}"))
    };
    let user_pre = pos("User pre_delete ann id=Some(1) there=true");
    let profile_pre = pos(&format!(
        "Profile pre_delete id={:?} bio=Some(\"hi\")",
        p.id
    ));
    let profile_post = pos(&format!("Profile post_delete id={:?}", p.id));
    let user_post = pos("User post_delete ann id=Some(1) there=false");
    assert_eq!(ev.len(), 4, "{ev:?}");
    assert!(
        user_pre.max(profile_pre) < profile_post.min(user_post),
        "{ev:?}"
    );
    assert!(profile_post < user_post, "children go first: {ev:?}");
    assert_eq!(u.id, None, "the instance reads as unsaved after delete");
    Ok(())
}

#[test]
fn failing_pre_delete_leaves_every_row() -> Result<()> {
    let (db, _) = setup()?;
    let mut u = user("ann").create(&db)?;
    Profile {
        id: None,
        user: OneToOne::to(&u),
        bio: None,
    }
    .create(&db)?;
    db.on_pre_delete::<Profile>(|_, _| Err(Error::hook("keep profiles")));
    let err = u.delete(&db).unwrap_err();
    assert_hook_error(&err, "pre_delete", "Profile", "keep profiles");
    assert_eq!(User::objects().count(&db)?, 1);
    assert_eq!(Profile::objects().count(&db)?, 1);
    assert_eq!(u.id, Some(1), "a failed delete keeps the key");
    Ok(())
}

#[test]
fn failing_post_delete_rolls_back_the_whole_delete() -> Result<()> {
    let (db, _) = setup()?;
    let mut u = user("ann").create(&db)?;
    Profile {
        id: None,
        user: OneToOne::to(&u),
        bio: None,
    }
    .create(&db)?;
    db.on_post_delete::<User>(|_, _| Err(Error::hook("undo")));
    let err = u.delete(&db).unwrap_err();
    assert_hook_error(&err, "post_delete", "User", "undo");
    assert_eq!(User::objects().count(&db)?, 1);
    assert_eq!(
        Profile::objects().count(&db)?,
        1,
        "the cascade was rolled back too"
    );
    assert_eq!(u.profile(&db)?.user.id(), Some(1));
    Ok(())
}

#[test]
fn delete_hooks_fire_for_query_deletes() -> Result<()> {
    let (db, log) = setup()?;
    for name in ["ann", "bob", "cy"] {
        user(name).create(&db)?;
    }
    let l = log.clone();
    db.on_pre_delete::<User>(move |_, u| {
        l.lock().unwrap().push(u.username.clone());
        Ok(())
    });
    let deleted = User::objects()
        .filter(User::username().ne("bob"))
        .delete(&db)?;
    assert_eq!(deleted.total, 2);
    let mut ev = events(&log);
    ev.sort();
    assert_eq!(ev, ["ann", "cy"]);
    Ok(())
}

#[test]
fn multi_table_delete_fires_for_child_and_parents() -> Result<()> {
    let (db, log) = setup()?;
    let mut l = like("home", 2).create(&db)?;
    let lg = log.clone();
    db.on_pre_delete::<Like>(move |_, l| {
        lg.lock()
            .unwrap()
            .push(format!("Like pre_delete {} {}", l.page_name, l.likes));
        Ok(())
    });
    let lg = log.clone();
    db.on_pre_delete::<Page>(move |_, p| {
        lg.lock()
            .unwrap()
            .push(format!("Page pre_delete {}", p.page_name));
        Ok(())
    });
    let lg = log.clone();
    db.on_post_delete::<Page>(move |_, p| {
        lg.lock()
            .unwrap()
            .push(format!("Page post_delete id={:?}", p.id));
        Ok(())
    });
    assert_eq!(l.delete(&db)?.total, 2);
    let mut ev = events(&log);
    ev.sort();
    assert_eq!(
        ev,
        [
            "Like pre_delete home 2",
            "Page post_delete id=Some(1)",
            "Page pre_delete home"
        ]
    );
    Ok(())
}

#[test]
fn failing_delete_hook_on_a_parent_keeps_the_child() -> Result<()> {
    let (db, _) = setup()?;
    let mut s = SuperLike {
        like: like("home", 1),
        stars: 3,
    }
    .create(&db)?;
    db.on_post_delete::<Page>(|_, _| Err(Error::hook("pages stay")));
    let err = s.delete(&db).unwrap_err();
    assert_hook_error(&err, "post_delete", "Page", "pages stay");
    assert_eq!(count_rows(&db, "app_page"), 1);
    assert_eq!(count_rows(&db, "app_like"), 1);
    assert_eq!(count_rows(&db, "app_superlike"), 1);
    Ok(())
}

#[test]
fn post_delete_on_profile_can_delete_the_user_too() -> Result<()> {
    // on_delete is one-directional; "delete the user with the profile" is a
    // post_delete receiver on Profile (django-semantics section 7).
    let (db, _) = setup()?;
    let u = user("ann").create(&db)?;
    let keep = user("bob").create(&db)?;
    let mut p = Profile {
        id: None,
        user: OneToOne::to(&u),
        bio: None,
    }
    .create(&db)?;
    Profile {
        id: None,
        user: OneToOne::to(&keep),
        bio: None,
    }
    .create(&db)?;
    db.on_post_delete::<Profile>(|db, p| {
        if let Some(mut owner) = User::objects()
            .filter(User::id().eq(p.user.id()))
            .first(db)?
        {
            owner.delete(db)?;
        }
        Ok(())
    });
    let deleted = p.delete(&db)?;
    assert_eq!(deleted.to_string(), r#"(1, {"app.Profile": 1})"#);
    let names: Vec<String> = User::objects()
        .all(&db)?
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, ["bob"]);
    assert_eq!(Profile::objects().count(&db)?, 1);
    Ok(())
}

#[test]
fn writes_made_by_a_delete_hook_share_the_delete_transaction() -> Result<()> {
    let (db, _) = setup()?;
    let mut u = user("ann").create(&db)?;
    // An audit row written by pre_delete, then a failure in post_delete.
    db.on_pre_delete::<User>(|db, u| {
        Page {
            id: None,
            page_name: format!("deleted {}", u.username),
        }
        .save(db)
    });
    db.on_post_delete::<User>(|_, _| Err(Error::hook("not today")));
    assert!(u.delete(&db).is_err());
    assert_eq!(Page::objects().count(&db)?, 0, "the audit row went with it");
    assert_eq!(User::objects().count(&db)?, 1);
    Ok(())
}
