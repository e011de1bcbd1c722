//! Django parity of the one-to-one descriptors: caches in both directions,
//! reverse assignment (on a one-to-one primary key, of `None`), and saving a
//! related object after building the row that points at it (#28147). Each
//! test names the Django test it is modelled on.

use orm_core::prelude::*;
use orm_core::Constraint;

#[derive(Model, Debug, Clone)]
#[model(app = "one_to_one")]
pub struct Place {
    pub id: Option<i64>,
    #[field(max_length = 50)]
    pub name: String,
}

/// `place = OneToOneField(Place, CASCADE, primary_key=True)`
#[derive(Model, Debug, Clone)]
#[model(app = "one_to_one")]
pub struct Restaurant {
    #[one_to_one(on_delete = "cascade", primary_key)]
    pub place: OneToOne<Place>,
    pub serves_pizza: bool,
}

/// `place = OneToOneField(Place, SET_NULL, null=True)`
#[derive(Model, Debug, Clone)]
#[model(app = "one_to_one")]
pub struct UndergroundBar {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "set_null")]
    pub place: Option<OneToOne<Place>>,
    pub serves_cocktails: bool,
}

/// Django's `select_related_onetoone` models.
#[derive(Model, Debug, Clone)]
#[model(app = "select_related_onetoone")]
pub struct User {
    pub id: Option<i64>,
    #[field(max_length = 100)]
    pub username: String,
    #[field(max_length = 100)]
    pub email: String,
}

#[derive(Model, Debug, Clone)]
#[model(app = "select_related_onetoone")]
pub struct UserStat {
    #[one_to_one(on_delete = "cascade", primary_key)]
    pub user: OneToOne<User>,
    pub posts: i64,
}

#[derive(Model, Debug, Clone)]
#[model(app = "select_related_onetoone")]
pub struct UserProfile {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade")]
    pub user: OneToOne<User>,
    #[field(max_length = 100)]
    pub city: String,
}

/// An MTI chain whose grandparent declares a relation
/// (`model_inheritance.tests.ModelInheritanceTests.test_parent_cache_reuse`).
#[derive(Model, Debug, Clone)]
#[model(app = "model_inheritance")]
pub struct GrandParent {
    pub id: Option<i64>,
    #[field(max_length = 50)]
    pub first_name: String,
    #[one_to_one(on_delete = "cascade", related_name = "grand_parent")]
    pub place: Option<OneToOne<Place>>,
}

#[derive(Model, Debug, Clone)]
#[model(app = "model_inheritance")]
pub struct Parent {
    #[parent]
    pub grand_parent: GrandParent,
}

#[derive(Model, Debug, Clone)]
#[model(app = "model_inheritance")]
pub struct Child {
    #[parent]
    pub parent: Parent,
}

fn db() -> Db {
    let db = Db::open_in_memory().unwrap();
    db.migrate().unwrap();
    db
}

fn place(db: &Db, name: &str) -> Place {
    Place {
        id: None,
        name: name.into(),
    }
    .create(db)
    .unwrap()
}

fn user_with_stat(db: &Db) -> (User, UserStat) {
    let u = User {
        id: None,
        username: "test".into(),
        email: "test@example.com".into(),
    }
    .create(db)
    .unwrap();
    let s = UserStat {
        user: OneToOne::to(&u),
        posts: 150,
    }
    .create(db)
    .unwrap();
    (u, s)
}

// Django: one_to_one.tests.OneToOneTests.test_reverse_relationship_cache_cascade
// (the reverse descriptor sets the fetched object's forward cache).
#[test]
fn reverse_access_primes_the_forward_cache() {
    let db = db();
    let p = place(&db, "Demon Dogs");
    Restaurant {
        place: OneToOne::to(&p),
        serves_pizza: true,
    }
    .create(&db)
    .unwrap();
    let p = Place::get(&db, p.id).unwrap();
    db.clear_cache();
    let (r, cap) = db.capture(|| p.restaurant(&db).unwrap());
    assert_eq!(cap.len(), 1);
    // `p.restaurant.place` is `p`: no query.
    let ((), cap) = db.capture(|| {
        assert_eq!(r.place.get(&db).unwrap().name, "Demon Dogs");
    });
    assert_eq!(cap.len(), 0, "{cap:?}");
    // The same from the reverse cache's second answer.
    let (r, cap) = db.capture(|| p.restaurant(&db).unwrap());
    assert_eq!(cap.len(), 0);
    assert!(r.place.is_cached());
}

// Django: select_related_onetoone.tests.ReverseSelectRelatedTestCase.test_back_and_forward
// (`User.objects.select_related("userstat")`, then `u.userstat.user`: 0 queries).
#[test]
fn reverse_select_related_then_back_runs_no_query() {
    let db = db();
    let (_, _) = user_with_stat(&db);
    db.clear_cache();
    let ((), cap) = db.capture(|| {
        let u = User::objects().select_related("userstat").get(&db).unwrap();
        let stat = u.userstat(&db).unwrap();
        assert_eq!(stat.posts, 150);
        assert_eq!(stat.user.get(&db).unwrap().username, "test");
    });
    assert_eq!(cap.len(), 1, "{cap:?}");
}

// Django: select_related_onetoone.tests.ReverseSelectRelatedTestCase.test_forward_and_back
// (`UserStat.objects.select_related("user")`, then `stat.user.userstat`: 0
// queries). A deliberate difference: Rust values have no back-pointers, and
// priming the handle's cache with every loaded row would double a load's
// memory, so going back is one query; naming the way back in the
// `select_related` path makes it none.
#[test]
fn forward_select_related_then_back() {
    let db = db();
    user_with_stat(&db);
    db.clear_cache();
    let ((), cap) = db.capture(|| {
        let stat = UserStat::objects()
            .select_related(UserStat::user())
            .get(&db)
            .unwrap();
        let u = stat.user.get(&db).unwrap();
        assert_eq!(u.email, "test@example.com");
        assert_eq!(u.userstat(&db).unwrap().posts, 150);
    });
    assert_eq!(cap.len(), 2, "{cap:?}");
    db.clear_cache();
    let ((), cap) = db.capture(|| {
        let stat = UserStat::objects()
            .select_related("user__userstat")
            .get(&db)
            .unwrap();
        let u = stat.user.get(&db).unwrap();
        assert_eq!(u.userstat(&db).unwrap().posts, 150);
    });
    assert_eq!(cap.len(), 1, "{cap:?}");
}

// A write empties the primed reverse cache: it never answers stale.
#[test]
fn primed_reverse_cache_is_dropped_by_a_write() {
    let db = db();
    let (u, _) = user_with_stat(&db);
    let stat = UserStat::objects()
        .select_related("user__userstat")
        .get(&db)
        .unwrap();
    UserStat::objects()
        .filter(UserStat::user().is(&u))
        .delete(&db)
        .unwrap();
    let user = stat.user.get(&db).unwrap();
    assert!(user.userstat_opt(&db).unwrap().is_none());
}

// Django: select_related_onetoone.tests.ReverseSelectRelatedTestCase.test_parent_only
// and model_inheritance.tests.ModelInheritanceDataTests.test_select_related_defer
// (parent to an MTI child and back: the child embeds its parent).
#[test]
fn parent_to_child_and_back_runs_no_query() {
    let db = db();
    let mut c = Child {
        parent: Parent {
            grand_parent: GrandParent {
                id: None,
                first_name: "Jane".into(),
                place: None,
            },
        },
    };
    c.save(&db).unwrap();
    db.clear_cache();
    let ((), cap) = db.capture(|| {
        let gp = GrandParent::objects()
            .select_related("parent__child")
            .get(&db)
            .unwrap();
        let parent = gp.parent(&db).unwrap();
        let child = parent.child(&db).unwrap();
        assert_eq!(child.parent.grand_parent.first_name, "Jane");
        assert_eq!(child.first_name, gp.first_name);
    });
    assert_eq!(cap.len(), 1, "{cap:?}");
}

// Django: model_inheritance.tests.ModelInheritanceTests.test_parent_cache_reuse
// (`gp.place` loaded, then `parent.place`, `child.place`: 0 queries each).
#[test]
fn a_loaded_relation_of_an_ancestor_is_reused_by_the_child() {
    let db = db();
    let p = place(&db, "Here");
    let mut c = Child {
        parent: Parent {
            grand_parent: GrandParent {
                id: None,
                first_name: "Jane".into(),
                place: Some(OneToOne::to(&p)),
            },
        },
    };
    c.save(&db).unwrap();
    // A relation declared on an ancestor is selected through the child.
    let c = Child::objects().select_related("place").get(&db).unwrap();
    let ((), cap) = db.capture(|| {
        let gp = &c.parent.grand_parent;
        assert_eq!(gp.place.as_ref().unwrap().get(&db).unwrap().name, "Here");
        assert_eq!(
            c.parent.place.as_ref().unwrap().get(&db).unwrap().name,
            "Here"
        );
        assert_eq!(c.place.as_ref().unwrap().get(&db).unwrap().name, "Here");
    });
    assert_eq!(cap.len(), 0, "{cap:?}");
}

// Django: one_to_one.tests.OneToOneTests.test_setter
// (`r.place = p2; r.save()` on a one-to-one primary key: the key moves, the
// save writes the row of the new key, the old row stays).
#[test]
fn reverse_assignment_on_a_primary_key_moves_the_key() {
    let db = db();
    let p1 = place(&db, "Demon Dogs");
    let p2 = place(&db, "Ace Hardware");
    let mut r = Restaurant {
        place: OneToOne::to(&p1),
        serves_pizza: false,
    }
    .create(&db)
    .unwrap();
    p2.set_restaurant(&db, &mut r).unwrap();
    assert_eq!(r.place.id(), p2.id);
    assert_eq!(p2.restaurant(&db).unwrap().place.id(), p2.id);
    let mut keys: Vec<_> = Restaurant::objects()
        .all(&db)
        .unwrap()
        .iter()
        .map(|r| r.place.id())
        .collect();
    keys.sort();
    assert_eq!(keys, vec![p1.id, p2.id]);

    // Onto a key that has a row: that row is updated (Django's UPDATE by pk).
    let mut r3 = Restaurant {
        place: OneToOne::to(&p1),
        serves_pizza: true,
    };
    p2.set_restaurant(&db, &mut r3).unwrap();
    assert_eq!(Restaurant::objects().count(&db).unwrap(), 2);
    assert!(Restaurant::get(&db, p2.id).unwrap().serves_pizza);
}

// Django: one_to_one.tests.OneToOneTests.test_assign_none_reverse_relation
// (`p.undergroundbar = None`, then saving the bar unlinks it).
#[test]
fn reverse_assignment_of_none_unlinks_a_nullable_key() {
    let db = db();
    let p = place(&db, "Demon Dogs");
    let bar = UndergroundBar {
        id: None,
        place: Some(OneToOne::to(&p)),
        serves_cocktails: false,
    }
    .create(&db)
    .unwrap();
    let unlinked = p.clear_undergroundbar(&db).unwrap().unwrap();
    assert_eq!(unlinked.id, bar.id);
    assert!(unlinked.place.is_none());
    assert!(UndergroundBar::get(&db, bar.id).unwrap().place.is_none());
    assert!(p.undergroundbar_opt(&db).unwrap().is_none());
    // Django: test_assign_none_null_reverse_relation — nothing related,
    // nothing happens.
    let ((), cap) = db.capture(|| assert!(p.clear_undergroundbar(&db).unwrap().is_none()));
    assert_eq!(cap.len(), 1, "one lookup, no write: {cap:?}");
}

// Django: one_to_one.tests.OneToOneTests.test_nullable_o2o_delete /
// the descriptor docs: assigning None to a required key fails at save with
// NOT NULL (the database's error), and nothing changes.
#[test]
fn reverse_assignment_of_none_to_a_required_key_fails_with_not_null() {
    let db = db();
    let u = User {
        id: None,
        username: "u".into(),
        email: "e".into(),
    }
    .create(&db)
    .unwrap();
    UserProfile {
        id: None,
        user: OneToOne::to(&u),
        city: "Paris".into(),
    }
    .create(&db)
    .unwrap();
    let err = u.clear_userprofile(&db).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Integrity {
                kind: Constraint::NotNull,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(u.userprofile(&db).unwrap().city, "Paris");
    // A primary-key relation cannot be unset: our typed error, not the database's.
    let p = place(&db, "x");
    let err = p.clear_restaurant(&db).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidValue { field: "place", .. }),
        "{err}"
    );
}

// Reverse assignment through a required key onto an owner that already has
// a partner: the UNIQUE error is the database's own, and nothing moves.
#[test]
fn reverse_assignment_through_a_required_key_reports_the_database_error() {
    let db = db();
    let a = User {
        id: None,
        username: "a".into(),
        email: "a".into(),
    }
    .create(&db)
    .unwrap();
    let b = User {
        id: None,
        username: "b".into(),
        email: "b".into(),
    }
    .create(&db)
    .unwrap();
    UserProfile {
        id: None,
        user: OneToOne::to(&a),
        city: "first".into(),
    }
    .create(&db)
    .unwrap();
    let mut other = UserProfile {
        id: None,
        user: OneToOne::to(&b),
        city: "second".into(),
    }
    .create(&db)
    .unwrap();
    let err = a.set_userprofile(&db, &mut other).unwrap_err();
    match &err {
        Error::Integrity { kind, message, .. } => {
            assert_eq!(*kind, Constraint::Unique);
            assert!(message.contains("UNIQUE constraint failed"), "{message}");
        }
        e => panic!("{e}"),
    }
    assert_eq!(a.userprofile(&db).unwrap().city, "first");
    assert_eq!(
        UserProfile::get(&db, other.id).unwrap().user.id(),
        b.id,
        "rolled back"
    );
}

// Django: one_to_one.tests.OneToOneTests.test_save_nullable_o2o_after_parent
// and test_save_o2o_after_parent (#28147).
#[test]
fn saving_the_related_object_through_the_relation_then_the_row() {
    let db = db();
    let mut bar = UndergroundBar {
        id: None,
        place: Some(OneToOne::new(Place {
            id: None,
            name: "Rose tattoo".into(),
        })),
        serves_cocktails: true,
    };
    bar.place
        .as_mut()
        .unwrap()
        .cached_mut()
        .unwrap()
        .save(&db)
        .unwrap();
    bar.save(&db).unwrap();
    let stored = UndergroundBar::get(&db, bar.id).unwrap();
    assert_eq!(stored.place.unwrap().get(&db).unwrap().name, "Rose tattoo");

    // The misuse the copy allows is refused with Django's message, and
    // nothing is written.
    let mut p = Place {
        id: None,
        name: "copy".into(),
    };
    let mut bar2 = UndergroundBar {
        id: None,
        place: Some(OneToOne::to(&p)),
        serves_cocktails: false,
    };
    p.save(&db).unwrap();
    let err = bar2.save(&db).unwrap_err();
    assert_eq!(
        err.to_string(),
        "save() prohibited to prevent data loss due to unsaved related object 'place'."
    );
    assert!(bar2.id.is_none());
    // Pointing at the saved object again makes it work.
    bar2.place.as_mut().unwrap().set(&p);
    bar2.save(&db).unwrap();
    assert_eq!(
        UndergroundBar::get(&db, bar2.id)
            .unwrap()
            .place
            .unwrap()
            .id(),
        p.id
    );
}
