//! Regression tests for writes that were lost, rows that were wrong and
//! answers that were silently wrong (the correctness issue). Each test names
//! the item it guards.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use orm_core::prelude::*;

// ------------------------------------------------------------------ models

#[derive(Model, Debug, Clone, PartialEq)]
#[model(app = "corr")]
pub struct Account {
    pub id: Option<i64>,
    #[field(max_length = 50)]
    pub name: String,
    pub balance: Option<i64>,
    pub note: Option<String>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(app = "corr")]
pub struct Card {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", related_name = "card")]
    pub account: OneToOne<Account>,
    pub score: i64,
    pub label: Option<String>,
}

/// A temporary database file, removed (with its WAL files) on drop.
struct TempDb(PathBuf);

impl TempDb {
    fn new(name: &str) -> TempDb {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "orm-corr-{}-{name}-{n}.sqlite3",
            std::process::id()
        ));
        let t = TempDb(path);
        t.remove();
        t
    }

    fn open(&self) -> Db {
        Db::open(&self.0).expect("open file database")
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut p = self.0.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        self.remove();
    }
}

fn account(name: &str) -> Account {
    Account {
        id: None,
        name: name.into(),
        balance: None,
        note: None,
    }
}

fn names(db: &Db) -> Vec<String> {
    Account::objects()
        .order_by("id")
        .all(db)
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect()
}

// ------------------------------------------- 1. panics roll back, handle usable

#[test]
fn panic_in_atomic_rolls_back_and_later_writes_persist() {
    let tmp = TempDb::new("panic-atomic");
    {
        let db = tmp.open();
        db.migrate().unwrap();
        account("before").save(&db).unwrap();
        let caught = catch_unwind(AssertUnwindSafe(|| {
            let _ = db.atomic(|db| -> Result<()> {
                account("inside").save(db)?;
                db.atomic(|db| -> Result<()> {
                    account("nested").save(db)?;
                    panic!("request handler bug");
                })
            });
        }));
        assert!(caught.is_err());
        assert!(!db.in_transaction(), "depth restored after the panic");
        account("after").save(&db).unwrap();
        assert_eq!(names(&db), ["before", "after"]);
    }
    // Reopened: the write after the panic was committed, the panicking
    // block's writes were not.
    let db = tmp.open();
    assert_eq!(names(&db), ["before", "after"]);
}

#[test]
fn panic_in_inner_savepoint_keeps_outer_block_usable() {
    let tmp = TempDb::new("panic-inner");
    {
        let db = tmp.open();
        db.migrate().unwrap();
        db.atomic(|db| {
            account("outer").save(db)?;
            let caught = catch_unwind(AssertUnwindSafe(|| {
                let _ = db.atomic(|db| -> Result<()> {
                    account("inner").save(db)?;
                    panic!("inner bug");
                });
            }));
            assert!(caught.is_err());
            assert!(db.in_transaction());
            account("outer-2").save(db)?;
            Ok(())
        })
        .unwrap();
    }
    let db = tmp.open();
    assert_eq!(names(&db), ["outer", "outer-2"]);
}

#[test]
fn panic_in_a_hook_rolls_back_the_save_and_the_handle_stays_usable() {
    let tmp = TempDb::new("panic-hook");
    {
        let db = tmp.open();
        db.migrate().unwrap();
        db.on_post_save::<Account>(|_, a, _| {
            if a.name == "boom" {
                panic!("hook bug");
            }
            Ok(())
        });
        let caught = catch_unwind(AssertUnwindSafe(|| {
            let _ = account("boom").save(&db);
        }));
        assert!(caught.is_err());
        assert!(!db.in_transaction());
        account("fine").save(&db).unwrap();
        // A delete with a panicking hook is rolled back too.
        db.on_pre_delete::<Account>(|_, a| {
            if a.name == "fine" {
                panic!("delete hook bug");
            }
            Ok(())
        });
        let caught = catch_unwind(AssertUnwindSafe(|| {
            let _ = Account::objects().delete(&db);
        }));
        assert!(caught.is_err());
        assert!(!db.in_transaction());
        account("last").save(&db).unwrap();
    }
    let db = tmp.open();
    assert_eq!(names(&db), ["fine", "last"]);
}

// ------------------------------------------------ 11. streams and own writes

#[test]
fn writing_the_streamed_table_while_streaming_is_refused() {
    let db = Db::open_in_memory().unwrap();
    db.migrate().unwrap();
    for i in 0..3 {
        account(&format!("a{i}")).save(&db).unwrap();
    }
    let mut stream = Account::objects().stream(&db).unwrap();
    let mut seen = 0;
    for a in stream.iter() {
        let a = a.unwrap();
        seen += 1;
        assert!(seen <= 3, "the stream must not see its own inserts");
        let err = account(&format!("{}-copy", a.name)).save(&db).unwrap_err();
        assert!(
            matches!(&err, Error::Usage(m) if m.contains("stream")),
            "{err}"
        );
        // Other tables can be written.
        Card {
            id: None,
            account: OneToOne::to(&a),
            score: 1,
            label: None,
        }
        .save(&db)
        .unwrap();
    }
    assert_eq!(seen, 3);
    drop(stream);
    account("after").save(&db).unwrap();
    assert_eq!(Account::objects().count(&db).unwrap(), 4);
    assert_eq!(Card::objects().count(&db).unwrap(), 3);
}

// ---------------------------------------------------- 12. never a stale cache

#[test]
fn reverse_cache_sees_writes_of_another_handle() {
    let tmp = TempDb::new("two-handles");
    let a = tmp.open();
    a.migrate().unwrap();
    let b = tmp.open();
    let acc = account("ann").create(&a).unwrap();
    assert!(acc.card_opt(&a).unwrap().is_none()); // cached as missing
    let mut card = Card {
        id: None,
        account: OneToOne::to(&acc),
        score: 7,
        label: None,
    }
    .create(&b)
    .unwrap();
    assert_eq!(acc.card(&a).unwrap().score, 7, "insert through b seen by a");
    card.score = 8;
    card.save(&b).unwrap();
    assert_eq!(acc.card(&a).unwrap().score, 8, "update through b seen by a");
    card.delete(&b).unwrap();
    assert!(
        acc.card_opt(&a).unwrap().is_none(),
        "delete through b seen by a"
    );
}

#[test]
fn nested_cached_object_is_not_stale_after_a_write() {
    let db = Db::open_in_memory().unwrap();
    db.migrate().unwrap();
    let acc = account("ann").create(&db).unwrap();
    Card {
        id: None,
        account: OneToOne::to(&acc),
        score: 1,
        label: None,
    }
    .create(&db)
    .unwrap();
    // The reverse cache holds a Card whose forward cache holds the Account.
    let accs = Account::objects()
        .select_related("card__account")
        .all(&db)
        .unwrap();
    let mut fresh = Account::get(&db, acc.id).unwrap();
    fresh.name = "renamed".into();
    fresh.save(&db).unwrap();
    let card = accs[0].card(&db).unwrap();
    assert_eq!(card.account.get(&db).unwrap().name, "renamed");
}

// ------------------------------------------------ 15. busy: wait, then typed

#[test]
fn two_handles_writing_one_file_wait_for_each_other() {
    let tmp = TempDb::new("busy");
    let a = tmp.open();
    a.migrate().unwrap();
    let path = tmp.0.clone();
    let writer = std::thread::spawn(move || {
        let b = Db::open(&path).unwrap();
        for i in 0..20 {
            // Read, then write: a DEFERRED transaction cannot upgrade its
            // read lock while the other handle writes, and fails at once.
            b.atomic(|db| {
                Account::objects().count(db)?;
                account(&format!("b{i}")).save(db)
            })
            .unwrap();
        }
    });
    for i in 0..20 {
        a.atomic(|db| {
            Account::objects().count(db)?;
            account(&format!("a{i}")).save(db)?;
            account(&format!("a{i}-2")).save(db)
        })
        .unwrap();
    }
    writer.join().unwrap();
    assert_eq!(Account::objects().count(&a).unwrap(), 60);
}

#[test]
fn a_lock_held_past_the_timeout_is_a_typed_busy_error() {
    let tmp = TempDb::new("busy-typed");
    let a = tmp.open();
    a.migrate().unwrap();
    let b = tmp.open();
    b.connection()
        .busy_timeout(std::time::Duration::from_millis(50))
        .unwrap();
    a.connection().execute_batch("BEGIN IMMEDIATE").unwrap();
    let err = account("x").save(&b).unwrap_err();
    assert!(matches!(err, Error::Busy { .. }), "{err:?}");
    a.connection().execute_batch("ROLLBACK").unwrap();
    account("x").save(&b).unwrap();
}

// ------------------------------------------ 16. a deferred FK names its row

#[derive(Model, Debug, Clone)]
#[model(app = "corr")]
pub struct Ticket {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "do_nothing")]
    pub account: OneToOne<Account>,
}

#[test]
fn deferred_foreign_key_failure_names_table_column_and_key() {
    let db = Db::open_in_memory().unwrap();
    db.migrate().unwrap();
    let err = db
        .atomic(|db| {
            Ticket {
                id: None,
                account: OneToOne::from_key(4242),
            }
            .save(db)
        })
        .unwrap_err();
    match &err {
        Error::Integrity {
            table,
            columns,
            message,
            ..
        } => {
            assert_eq!(table, "corr_ticket");
            assert_eq!(columns, &["account_id"]);
            assert!(message.contains("4242"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(Ticket::objects().count(&db).unwrap(), 0);
}
