//! No panic is reachable from the public API: inputs that used to panic
//! (hand-built query paths whose ancestor depth overflows) fail with a typed
//! error, and user code running inside the ORM (hooks, closures given to
//! `capture`) may call back into the same `Db` without a `RefCell`
//! double-borrow.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};

use orm_core::prelude::*;
use orm_core::query::{Lookup, Op, Path, RelatedSpec, Rhs, Step, Target};

// ------------------------------------------------------------------ models

#[derive(Model, Debug, Clone)]
#[model(app = "nopanic")]
pub struct Owner {
    pub id: Option<i64>,
    #[field(max_length = 50)]
    pub name: String,
}

#[derive(Model, Debug, Clone)]
#[model(app = "nopanic")]
pub struct Item {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", related_name = "item")]
    pub owner: OneToOne<Owner>,
    #[field(max_length = 50)]
    pub label: String,
}

/// A multi-table parent with a relation of its own.
#[derive(Model, Debug, Clone)]
#[model(app = "nopanic")]
pub struct Base {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "set_null", related_name = "base")]
    pub owner: Option<OneToOne<Owner>>,
    #[field(max_length = 50)]
    pub name: String,
}

#[derive(Model, Debug, Clone)]
#[model(app = "nopanic")]
pub struct Child {
    #[parent]
    pub base: Base,
    pub n: i64,
}

fn db() -> Db {
    let db = Db::open_in_memory().expect("open");
    db.migrate().expect("migrate");
    db
}

fn owner(db: &Db, name: &str) -> Owner {
    Owner {
        id: None,
        name: name.into(),
    }
    .create(db)
    .expect("create owner")
}

fn item(db: &Db, o: &Owner, label: &str) -> Item {
    Item {
        id: None,
        owner: OneToOne::to(o),
        label: label.into(),
    }
    .create(db)
    .expect("create item")
}

fn child(db: &Db, name: &str) -> Child {
    Child {
        base: Base {
            id: None,
            owner: None,
            name: name.into(),
        },
        n: 1,
    }
    .create(db)
    .expect("create child")
}

fn is_field_error<T: std::fmt::Debug>(r: Result<T>) -> bool {
    matches!(r, Err(Error::Field { .. }))
}

// ------------------------------------- hand-built paths (public fields)

/// `Target::Column` and `Path` have public fields: a column of an ancestor
/// (`Base`) used on a child query adds the distance (1) to the depth given.
/// `usize::MAX + 1` panicked ("attempt to add with overflow") in debug builds.
#[test]
fn column_depth_overflow_is_a_field_error() {
    let db = db();
    child(&db, "c");
    let lookup = |depth: usize| {
        Q::Leaf(Lookup {
            target: Target::Column {
                path: Path {
                    root: Base::META,
                    steps: Vec::new(),
                },
                depth,
                field: Base::META.pk_field(),
            },
            op: Op::Exact,
            rhs: Rhs::Value(Value::Integer(1)),
        })
    };
    assert!(is_field_error(
        Child::objects().filter(lookup(usize::MAX)).all(&db)
    ));
    assert!(is_field_error(
        Child::objects().filter(lookup(usize::MAX)).count(&db)
    ));
    // A depth beyond the chain (no overflow) is refused the same way rather
    // than rendered against whichever table the walk stops at.
    assert!(is_field_error(Child::objects().filter(lookup(7)).all(&db)));
    // The valid depth still works.
    assert_eq!(Child::objects().filter(lookup(0)).count(&db).unwrap(), 1);
}

/// A relation hop's depth can be changed through `&mut` (the variants are
/// only `non_exhaustive`): the first hop of a relation of `Base` used on a
/// `Child` query overflowed the same way, in `select_related` and in a
/// lookup through the hop.
#[test]
fn step_depth_overflow_is_a_field_error() {
    let db = db();
    child(&db, "c");
    let mut path = Base::owner().path().clone();
    match path.steps.first_mut() {
        Some(Step::Forward { depth, .. }) => *depth = usize::MAX,
        other => panic!("expected a forward hop, got {other:?}"),
    }
    assert!(is_field_error(
        Child::objects()
            .select_related(RelatedSpec::Path(path.clone()))
            .all(&db)
    ));
    let through = Q::Leaf(Lookup {
        target: Target::Column {
            path,
            depth: 0,
            field: Owner::META.pk_field(),
        },
        op: Op::Exact,
        rhs: Rhs::Value(Value::Integer(1)),
    });
    assert!(is_field_error(Child::objects().filter(through).all(&db)));
}

// ------------------------------------ user code calling back into the Db

/// A hook that registers hooks (and clears them) while hooks of the same
/// model are running: the hook table is not borrowed while a hook runs.
#[test]
fn hook_registers_and_clears_hooks() {
    let db = db();
    let calls = Arc::new(AtomicI32::new(0));
    let c = calls.clone();
    db.on_pre_save::<Owner>(move |db, o| {
        c.fetch_add(1, Ordering::SeqCst);
        let c2 = c.clone();
        db.on_pre_save::<Owner>(move |_, _| {
            c2.fetch_add(100, Ordering::SeqCst);
            Ok(())
        });
        db.on_post_save::<Owner>(|_, _, _| Ok(()));
        db.on_pre_delete::<Owner>(|_, _| Ok(()));
        db.on_post_delete::<Owner>(|_, _| Ok(()));
        o.name.push('!');
        Ok(())
    });
    let o = owner(&db, "a");
    assert_eq!(o.name, "a!");
    // The hook registered during the first save runs from the next one.
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    owner(&db, "b");
    assert_eq!(calls.load(Ordering::SeqCst), 1 + 1 + 100);

    db.on_post_save::<Item>(|db, _, _| {
        db.clear_hooks();
        Ok(())
    });
    item(&db, &o, "x");
    owner(&db, "c"); // no hook left
    assert_eq!(calls.load(Ordering::SeqCst), 102);
}

/// Hooks that run `capture` (nested in an outer `capture`) and read
/// `query_count`: the statement log is not borrowed while user code runs.
#[test]
fn hook_captures_queries() {
    let db = db();
    let inner = Arc::new(Mutex::new(Vec::<usize>::new()));
    let seen = inner.clone();
    db.on_post_save::<Owner>(move |db, o, _| {
        let (r, captured) = db.capture(|| o.item_opt(db).map(|i| i.is_some()));
        assert!(!r?);
        seen.lock().unwrap().push(captured.len());
        let _ = db.query_count();
        Ok(())
    });
    db.on_pre_delete::<Owner>(|db, _| {
        let ((), captured) = db.capture(|| ());
        assert!(captured.is_empty());
        Ok(())
    });
    let ((), outer) = db.capture(|| {
        let mut o = owner(&db, "a");
        o.delete(&db).unwrap();
    });
    assert_eq!(*inner.lock().unwrap(), vec![1]);
    // The outer capture also lists what the hook's capture saw.
    assert!(outer.queries.iter().any(|q| q.contains("\"nopanic_item\"")));
}

/// `capture` nested in `capture` from the closure itself, and a capture
/// around a whole delete whose hooks save.
#[test]
fn nested_capture() {
    let db = db();
    let ((n, inner), outer) = db.capture(|| {
        db.capture(|| {
            owner(&db, "a");
            Owner::objects().count(&db).unwrap()
        })
    });
    assert_eq!(n, 1);
    assert_eq!(inner.len(), 2);
    assert_eq!(outer.len(), 2);
}

/// A `post_delete` hook that saves and deletes on the same `Db` (the
/// collector re-entered from inside its own transaction), and a
/// `pre_delete` hook that reads reverse accessors and runs queries with
/// `select_related` / `prefetch_related`, which fill the reverse cache.
#[test]
fn delete_hooks_reenter_the_collector() {
    let db = db();
    let a = owner(&db, "a");
    let b = owner(&db, "b");
    let ia = item(&db, &a, "ia");
    item(&db, &b, "ib");

    db.on_pre_delete::<Item>(|db, i| {
        // A reverse accessor (cache read and fill) from inside the delete.
        let owner = i.owner.get(db)?.clone();
        let mine = owner.item(db)?;
        assert_eq!(mine.id, i.id);
        let with = Owner::objects().select_related("item").all(db)?;
        assert!(!with.is_empty());
        let mut all = Owner::objects().all(db)?;
        orm_core::prefetch_related_objects(db, &mut all, "item")?;
        Ok(())
    });
    db.on_post_delete::<Item>(|db, i| {
        if i.label == "ia" {
            // Delete another owner (cascades to its item, whose hooks run
            // again, nested) and save a new row.
            let mut b = Owner::objects().filter(Q::kw("name", "b")).get(db)?;
            b.delete(db)?;
            Owner {
                id: None,
                name: "from hook".into(),
            }
            .save(db)?;
        }
        Ok(())
    });
    db.on_post_delete::<Owner>(|db, o| {
        // The reverse accessor of a deleted owner: no row, no panic.
        assert!(o.item_opt(db)?.is_none());
        Ok(())
    });

    let mut a = a;
    let deleted = a.delete(&db).unwrap();
    assert_eq!(deleted.count("nopanic.Owner"), 1);
    assert!(Item::objects()
        .filter(Q::kw("pk", ia.id))
        .first(&db)
        .unwrap()
        .is_none());
    let names: Vec<String> = Owner::objects()
        .order_by("name")
        .all(&db)
        .unwrap()
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(names, vec!["from hook"]);
    assert_eq!(Item::objects().count(&db).unwrap(), 0);
    drop(b);
}

/// Save hooks reading reverse accessors and running `select_related`
/// queries while a reverse assignment (`set_item`) and a stream are in
/// progress.
#[test]
fn save_hooks_read_reverse_accessors() {
    let db = db();
    let a = owner(&db, "a");
    db.on_pre_save::<Item>(|db, i| {
        let o = i.owner.get(db)?.clone();
        let _ = o.item_opt(db)?;
        let _ = Item::objects().select_related("owner").all(db)?;
        Ok(())
    });
    db.on_post_save::<Item>(|db, i, _| {
        let o = Owner::get(db, i.owner.id())?;
        assert!(o.item_opt(db)?.is_some());
        Ok(())
    });
    let mut i = Item {
        id: None,
        owner: OneToOne::to(&a),
        label: "x".into(),
    };
    a.set_item(&db, &mut i).unwrap();
    assert_eq!(a.item(&db).unwrap().id, i.id);

    // A stream over Owner while each row's item is saved (hooks included).
    let b = owner(&db, "b");
    let mut stream = Owner::objects().order_by("name").stream(&db).unwrap();
    let mut n = 0;
    stream
        .for_each(|o| {
            n += 1;
            if o.item_opt(&db)?.is_none() {
                item(&db, &o, "y");
            }
            Ok(())
        })
        .unwrap();
    drop(stream);
    assert_eq!(n, 2);
    assert!(b.item_opt(&db).unwrap().is_some());
}

/// A hook whose error aborts the save while it is nested in another
/// hook's save: the rollback clears the cache with no borrow outstanding.
#[test]
fn failing_nested_hook_rolls_back_cleanly() {
    let db = db();
    db.on_post_save::<Owner>(|db, o, created| {
        if created {
            let _ = o.item_opt(db)?;
            Item {
                id: None,
                owner: OneToOne::to(o),
                label: "refused".into(),
            }
            .save(db)?;
        }
        Ok(())
    });
    db.on_pre_save::<Item>(|_, _| Err(Error::hook("no items")));
    let r = Owner {
        id: None,
        name: "a".into(),
    }
    .create(&db);
    assert!(matches!(r, Err(Error::Hook { .. })), "{r:?}");
    assert_eq!(Owner::objects().count(&db).unwrap(), 0);
}
