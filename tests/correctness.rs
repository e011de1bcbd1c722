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
    Card::objects()
        .update(&db, vec![(Card::score(), 2.into())])
        .unwrap();
    // The write emptied the reverse cache: the card is read again.
    let card = accs[0].card(&db).unwrap();
    assert_eq!(card.score, 2);
    // Its forward cache is the owner as the caller holds it (Django's
    // `account.card.account is account`), not the stale nested copy.
    assert_eq!(card.account.get(&db).unwrap().name, accs[0].name);
    let card = fresh.card(&db).unwrap();
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

// ------------------------------------------ 2. a value that cannot be bound

/// A value whose conversion fails, as `u64::MAX` does.
struct Unbindable;

impl orm_core::ToValue for Unbindable {
    fn to_stored(&self) -> Result<orm_core::Stored<'_>, String> {
        Err("out of range".into())
    }
}

fn bank(db: &Db) {
    for (name, balance) in [("a", Some(1)), ("b", None), ("c", Some(3))] {
        Account {
            id: None,
            name: name.into(),
            balance,
            note: None,
        }
        .save(db)
        .unwrap();
    }
}

#[test]
fn an_unbindable_filter_value_is_an_error_naming_the_field_and_nothing_runs() {
    let db = Db::open_in_memory().unwrap();
    db.migrate().unwrap();
    bank(&db);
    let err = Account::objects()
        .filter(Account::balance().eq(Unbindable))
        .delete(&db)
        .unwrap_err();
    match &err {
        Error::InvalidValue { model, field, .. } => {
            assert_eq!((*model, *field), ("Account", "balance"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(Account::objects().count(&db).unwrap(), 3, "nothing deleted");
    for q in [
        Q::kw("balance", Unbindable),
        Q::kw_list("balance__in", [Unbindable]),
        Account::balance().range(0, Unbindable),
        !Account::balance().is_in([Unbindable]),
    ] {
        let qs = Account::objects().filter(q);
        assert!(matches!(
            qs.count(&db),
            Err(Error::InvalidValue {
                field: "balance",
                ..
            })
        ));
        assert!(qs
            .update(&db, vec![(Account::note(), Value::Text("x".into()))])
            .is_err());
    }
    assert!(Account::objects()
        .filter(Account::note().is_null(false))
        .exists(&db)
        .is_ok_and(|e| !e));
    assert!(matches!(
        Account::get(&db, Unbindable),
        Err(Error::InvalidValue { field: "id", .. })
    ));
}

#[test]
fn an_unbindable_relation_key_is_an_error_not_null() {
    let db = Db::open_in_memory().unwrap();
    db.migrate().unwrap();
    let mut card = Card {
        id: None,
        account: OneToOne::from_key(Unbindable),
        score: 0,
        label: None,
    };
    match card.save(&db).unwrap_err() {
        Error::InvalidValue { model, field, .. } => {
            assert_eq!((model, field), ("Card", "account"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        card.account.get(&db),
        Err(Error::InvalidValue { .. })
    ));
    assert_eq!(Card::objects().count(&db).unwrap(), 0);
}

// ------------------------------------------------------------------ 10. NaN

#[derive(Model, Debug, Clone)]
#[model(app = "corr")]
pub struct Reading {
    pub id: Option<i64>,
    pub value: f64,
    pub maybe: Option<f64>,
}

#[test]
fn nan_is_an_error_naming_the_field() {
    let db = Db::open_in_memory().unwrap();
    db.migrate().unwrap();
    let err = Reading {
        id: None,
        value: 1.0,
        maybe: Some(f64::NAN),
    }
    .save(&db)
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidValue {
                model: "Reading",
                field: "maybe",
                ..
            }
        ),
        "{err:?}"
    );
    let err = Reading {
        id: None,
        value: f64::NAN,
        maybe: None,
    }
    .save(&db)
    .unwrap_err();
    assert!(
        matches!(err, Error::InvalidValue { field: "value", .. }),
        "{err:?}"
    );
    assert!(matches!(
        Reading::objects()
            .filter(Reading::value().lt(f64::NAN))
            .count(&db),
        Err(Error::InvalidValue { field: "value", .. })
    ));
    assert_eq!(Reading::objects().count(&db).unwrap(), 0);
}

// -------------------------------------------------- 3. NUL bytes in lookups

#[derive(Model, Debug, Clone)]
#[model(app = "corr")]
pub struct Item {
    pub id: Option<i64>,
    pub name: String,
}

fn item_names(db: &Db, q: Q) -> Vec<String> {
    let mut v: Vec<String> = Item::objects()
        .filter(q)
        .all(db)
        .unwrap()
        .into_iter()
        .map(|i| i.name)
        .collect();
    v.sort();
    v
}

#[test]
fn text_lookups_compare_every_byte_nul_included() {
    let db = Db::open_in_memory().unwrap();
    db.migrate().unwrap();
    let all = ["a", "ab", "a\0b", "x\0ab", "A\0B", "b", "\0"];
    for n in all {
        Item {
            id: None,
            name: n.into(),
        }
        .save(&db)
        .unwrap();
    }
    // Django's definitions, byte by byte (case folding ASCII only).
    type Expect = fn(&str) -> bool;
    let cases: Vec<(Q, Expect)> = vec![
        (Item::name().contains("\0b"), |s| s.contains("\0b")),
        (Item::name().contains("b"), |s| s.contains('b')),
        (Item::name().icontains("\0b"), |s| {
            s.to_ascii_lowercase().contains("\0b")
        }),
        (Item::name().starts_with("a\0"), |s| s.starts_with("a\0")),
        (Item::name().starts_with("a"), |s| s.starts_with('a')),
        (Item::name().istarts_with("a\0"), |s| {
            s.to_ascii_lowercase().starts_with("a\0")
        }),
        (Item::name().ends_with("\0b"), |s| s.ends_with("\0b")),
        (Item::name().ends_with("ab"), |s| s.ends_with("ab")),
        (Item::name().iends_with("\0B"), |s| {
            s.to_ascii_lowercase().ends_with("\0b")
        }),
        (Item::name().iexact("a"), |s| s.eq_ignore_ascii_case("a")),
        (Item::name().iexact("a\0b"), |s| {
            s.eq_ignore_ascii_case("a\0b")
        }),
        (Item::name().eq("a"), |s| s == "a"),
        (Item::name().ends_with(""), |_| true),
    ];
    for (i, (q, want)) in cases.into_iter().enumerate() {
        let mut expected: Vec<String> = all
            .iter()
            .filter(|s| want(s))
            .map(|s| s.to_string())
            .collect();
        expected.sort();
        assert_eq!(item_names(&db, q), expected, "case {i}");
    }
    // And the delete that removed every row now removes only the match.
    let deleted = Item::objects()
        .filter(Item::name().contains("\0b"))
        .delete(&db)
        .unwrap();
    assert_eq!(deleted.total, 1);
    assert_eq!(Item::objects().count(&db).unwrap(), all.len() as u64 - 1);
}

// --------------------------------------- 6. exclude keeps NULLs and missing

#[test]
fn exclude_keeps_null_columns_and_missing_relations() {
    let db = Db::open_in_memory().unwrap();
    db.migrate().unwrap();
    let with_note = Account {
        id: None,
        name: "noted".into(),
        balance: Some(0),
        note: Some(String::new()),
    }
    .create(&db)
    .unwrap();
    let without = account("plain").create(&db).unwrap();
    Card {
        id: None,
        account: OneToOne::to(&with_note),
        score: 0,
        label: None,
    }
    .create(&db)
    .unwrap();
    let ids = |qs: QuerySet<Account>| -> Vec<Option<i64>> {
        qs.order_by("id")
            .all(&db)
            .unwrap()
            .into_iter()
            .map(|a| a.id)
            .collect()
    };
    assert_eq!(
        ids(Account::objects().exclude(Q::kw("note", ""))),
        [without.id]
    );
    assert_eq!(
        ids(Account::objects().filter(Account::note().ne(""))),
        [without.id]
    );
    assert_eq!(
        ids(Account::objects().exclude(Q::kw("card__score", 0))),
        [without.id],
        "an account with no card is kept"
    );
    assert_eq!(
        ids(Account::objects().filter(!Q::kw("balance__lt", 5))),
        [without.id]
    );
    // filter and exclude partition the table.
    for q in [
        Q::kw("note", ""),
        Q::kw("card__score", 0),
        Q::kw_list("balance__in", [0]),
    ] {
        let f = Account::objects().filter(q.clone()).count(&db).unwrap();
        let e = Account::objects().exclude(q).count(&db).unwrap();
        assert_eq!(f + e, 2);
    }
}

// --------------------------------- 7. values stay in step with placeholders

#[test]
fn a_subtree_that_simplifies_away_takes_its_values_with_it() {
    let db = Db::open_in_memory().unwrap();
    db.migrate().unwrap();
    bank(&db);
    let q = Q::And(vec![
        Q::Or(vec![Q::kw("name", "zzz"), Q::All]),
        Q::kw("name", "a"),
    ]);
    let qs = Account::objects().filter(q);
    let (sql, params) = qs.to_sql().unwrap();
    assert_eq!(sql.matches('?').count(), params.len(), "{sql}");
    assert_eq!(qs.count(&db).unwrap(), 1);
    // The order of siblings does not matter.
    let q = Q::And(vec![
        Q::kw("name", "c"),
        Q::Or(vec![Q::kw("name", "zzz"), Q::kw("balance", 3), Q::All]),
        Q::kw("balance", 3),
    ]);
    assert_eq!(Account::objects().filter(q).count(&db).unwrap(), 1);
}

// -------------------------------------------- 13. deep trees, typed error

#[test]
fn a_deep_q_tree_is_a_typed_error_not_a_stack_overflow() {
    let db = Db::open_in_memory().unwrap();
    db.migrate().unwrap();
    bank(&db);
    let mut q = Q::kw("name", "a");
    for i in 0..20_000 {
        q = if i % 2 == 0 {
            q & Q::kw("balance__gte", 0)
        } else {
            q | Q::kw("name", "b")
        };
    }
    let qs = Account::objects().filter(q);
    assert!(matches!(qs.count(&db), Err(Error::Limit { .. })));
    assert!(matches!(qs.get(&db), Err(Error::Limit { .. })));
    assert!(matches!(qs.first(&db), Err(Error::Limit { .. })));
    assert!(matches!(qs.delete(&db), Err(Error::Limit { .. })));
    assert!(matches!(qs.to_sql(), Err(Error::Limit { .. })));
    drop(qs); // dropping the tree does not recurse either
              // Within the documented depth it works.
    let mut q = Q::kw("name", "a");
    for i in 0..(orm_core::query::MAX_Q_DEPTH - 2) {
        q = if i % 2 == 0 {
            q & Q::kw("balance__gte", 0)
        } else {
            q | Q::kw("name", "b")
        };
    }
    assert!(Account::objects().filter(q).count(&db).is_ok());
}

// ------------------------------------------- 14. lists past SQLite's limits

#[test]
fn in_lists_longer_than_the_parameter_limit_work_everywhere() {
    let db = Db::open_in_memory().unwrap();
    db.migrate().unwrap();
    bank(&db);
    let mut ids: Vec<i64> = (1000..41_000).collect();
    ids.push(1);
    ids.push(3);
    let qs = || Account::objects().filter(Account::id().is_in(ids.clone()));
    assert_eq!(qs().all(&db).unwrap().len(), 2);
    assert_eq!(qs().count(&db).unwrap(), 2);
    assert!(qs().exists(&db).unwrap());
    assert_eq!(
        qs().update(&db, vec![(Account::note(), Value::Text("hit".into()))])
            .unwrap(),
        2
    );
    let texts: Vec<String> = (0..40_000).map(|i| format!("n{i}\"\\")).collect();
    let mut names = texts.clone();
    names.push("b".into());
    assert_eq!(
        Account::objects()
            .filter(Account::name().is_in(names))
            .count(&db)
            .unwrap(),
        1
    );
    assert_eq!(
        Account::objects()
            .exclude(Account::id().is_in(ids.clone()))
            .count(&db)
            .unwrap(),
        1
    );
    assert_eq!(qs().delete(&db).unwrap().total, 2);
    assert_eq!(Account::objects().count(&db).unwrap(), 1);
}

#[test]
fn a_thousand_or_ed_lookups_stay_under_the_expression_depth() {
    let db = Db::open_in_memory().unwrap();
    db.migrate().unwrap();
    bank(&db);
    let mut q = Q::kw("name", "a");
    for i in 0..1_500 {
        q = q | Q::kw("name", format!("x{i}"));
    }
    assert_eq!(Account::objects().filter(q.clone()).count(&db).unwrap(), 1);
    assert_eq!(Account::objects().exclude(q).count(&db).unwrap(), 2);
}

// ----------------------------------------------- 5. narrow auto keys

#[derive(Model, Debug, Clone)]
#[model(app = "corr")]
pub struct Small {
    pub id: Option<i32>,
    pub name: String,
}

#[test]
fn an_auto_key_beyond_the_field_type_is_an_error_and_the_insert_is_undone() {
    let db = Db::open_in_memory().unwrap();
    db.migrate().unwrap();
    db.connection()
        .execute(
            "INSERT INTO corr_small (id, name) VALUES (?, 'last')",
            [i64::from(i32::MAX)],
        )
        .unwrap();
    let mut s = Small {
        id: None,
        name: "next".into(),
    };
    let err = s.save(&db).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::InvalidValue {
                model: "Small",
                field: "id",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(s.id, None);
    assert_eq!(Small::objects().count(&db).unwrap(), 1, "insert undone");
    assert!(s.save(&db).is_err(), "no duplicate on the next save either");
    assert_eq!(Small::objects().count(&db).unwrap(), 1);
}

// ------------------------------------------ 16. errors that name the problem

#[test]
fn an_unknown_lookup_after_a_field_is_named_like_django() {
    let db = Db::open_in_memory().unwrap();
    db.migrate().unwrap();
    let err = Account::objects()
        .filter(Q::kw("name__bogus", "x"))
        .count(&db)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Unsupported lookup 'bogus' for CharField or join on the field not permitted."
    );
}

#[test]
fn a_bad_prefetch_name_says_prefetch_related() {
    let db = Db::open_in_memory().unwrap();
    db.migrate().unwrap();
    account("a").save(&db).unwrap();
    let err = Account::objects()
        .prefetch_related("nope")
        .all(&db)
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("Invalid field name(s) given in prefetch_related: 'nope'"),
        "{err}"
    );
}

#[test]
fn huge_limits_and_offsets_mean_no_limit_and_nothing() {
    let db = Db::open_in_memory().unwrap();
    db.migrate().unwrap();
    bank(&db);
    assert_eq!(
        Account::objects().limit(u64::MAX).all(&db).unwrap().len(),
        3
    );
    assert_eq!(Account::objects().limit(u64::MAX).count(&db).unwrap(), 3);
    assert!(Account::objects()
        .offset(1 << 63)
        .all(&db)
        .unwrap()
        .is_empty());
    assert_eq!(
        Account::objects()
            .offset(u64::MAX)
            .limit(u64::MAX)
            .count(&db)
            .unwrap(),
        0
    );
}

#[test]
fn too_many_bound_values_is_a_short_typed_error() {
    let db = Db::open_in_memory().unwrap();
    db.migrate().unwrap();
    let mut q = Q::kw("name", "x0");
    for i in 1..40_000 {
        q = q | Q::kw("name", format!("x{i}"));
    }
    let err = Account::objects().filter(q).count(&db).unwrap_err();
    assert!(matches!(err, Error::Limit { .. }), "{err:?}");
    assert!(err.to_string().len() < 400, "{err}");
}

// ------------------------------------------------------- 17. schema drift

#[test]
fn migrate_refuses_tables_that_do_not_match_the_models() {
    let db = Db::open_in_memory().unwrap();
    db.connection()
        .execute_batch(
            "CREATE TABLE corr_account (id integer NOT NULL PRIMARY KEY AUTOINCREMENT, \
             name integer NOT NULL, note text NOT NULL, extra text NOT NULL);",
        )
        .unwrap();
    let err = db.migrate().unwrap_err();
    let Error::SchemaDrift { differences } = &err else {
        panic!("{err:?}")
    };
    let text = differences.join("\n");
    assert!(
        text.contains("corr_account.name: type is integer, Account.name needs varchar(50)"),
        "{text}"
    );
    assert!(
        text.contains("column \"balance\" of Account.balance is missing"),
        "{text}"
    );
    assert!(text.contains("corr_account.note: is NOT NULL"), "{text}");
    assert!(text.contains("corr_account.extra"), "{text}");
    assert_eq!(differences.len(), 4, "{text}");
    // Nothing was created.
    let tables: i64 = db
        .connection()
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'corr_card'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 0);
    // A matching database migrates, idempotently.
    let db = Db::open_in_memory().unwrap();
    db.migrate().unwrap();
    db.migrate().unwrap();
}

// --------------------------------------- 8. to_field relations and instances

#[derive(Model, Debug, Clone)]
#[model(app = "corr")]
pub struct Tag {
    pub id: Option<i64>,
    #[field(unique, max_length = 20)]
    pub name: String,
}

#[derive(Model, Debug, Clone)]
#[model(app = "corr")]
pub struct Label {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", to_field = "name", related_name = "label")]
    pub tag: OneToOne<Tag>,
}

#[test]
fn filtering_a_to_field_relation_by_instance_compares_the_to_field() {
    let db = Db::open_in_memory().unwrap();
    db.migrate().unwrap();
    // Keys chosen so that a primary key compared with the name column would
    // match the other row.
    let t1 = Tag {
        id: None,
        name: "2".into(),
    }
    .create(&db)
    .unwrap();
    let t2 = Tag {
        id: None,
        name: "1".into(),
    }
    .create(&db)
    .unwrap();
    let l1 = Label {
        id: None,
        tag: OneToOne::to(&t1),
    }
    .create(&db)
    .unwrap();
    Label {
        id: None,
        tag: OneToOne::to(&t2),
    }
    .create(&db)
    .unwrap();
    let found = Label::objects()
        .filter(Label::tag().is(&t1))
        .get(&db)
        .unwrap();
    assert_eq!(found.id, l1.id);
    // The untyped form cannot know the relation: an error, never a wrong row.
    let err = Label::objects()
        .filter(Q::kw("tag", OneToOne::to(&t1)))
        .get(&db)
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidValue { field: "tag", .. }),
        "{err:?}"
    );
    // A loaded or saved relation knows its key.
    assert_eq!(
        Label::objects()
            .filter(Q::kw("tag", &found.tag))
            .get(&db)
            .unwrap()
            .id,
        l1.id
    );
    let unsaved = Tag {
        id: None,
        name: "x".into(),
    };
    assert!(matches!(
        Label::objects()
            .filter(Label::tag().is(&unsaved))
            .count(&db),
        Err(Error::InvalidValue { .. })
    ));
}

// ------------------------------------------- 9. update values must fit

#[derive(Model, Debug, Clone)]
#[model(app = "corr")]
pub struct Typed {
    pub id: Option<i64>,
    pub small: i32,
    pub big: i64,
    pub unsigned: u32,
    pub text: String,
    pub maybe: Option<i64>,
}

#[test]
fn update_refuses_values_that_do_not_fit_the_field() {
    let db = Db::open_in_memory().unwrap();
    db.migrate().unwrap();
    Typed {
        id: None,
        small: 1,
        big: 2,
        unsigned: 3,
        text: "t".into(),
        maybe: None,
    }
    .save(&db)
    .unwrap();
    let bad: Vec<(orm_core::Col<Typed>, Value, &str)> = vec![
        (Typed::small(), Value::Integer(1 << 40), "small"),
        (Typed::big(), Value::Text("12".into()), "big"),
        (Typed::unsigned(), Value::Integer(-1), "unsigned"),
        (Typed::text(), Value::Blob(vec![1]), "text"),
        (Typed::big(), Value::Null, "big"),
    ];
    for (col, v, name) in bad {
        let err = Typed::objects().update(&db, vec![(col, v)]).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidValue { model: "Typed", field, .. } if *field == name),
            "{err:?}"
        );
    }
    // Values that fit are written, and the row still loads.
    let n = Typed::objects()
        .update(
            &db,
            vec![
                (Typed::small(), Value::Integer(i64::from(i32::MAX))),
                (Typed::maybe(), Value::Null),
                (Typed::unsigned(), Value::Integer(i64::from(u32::MAX))),
            ],
        )
        .unwrap();
    assert_eq!(n, 1);
    let t = Typed::objects().get(&db).unwrap();
    assert_eq!((t.small, t.unsigned), (i32::MAX, u32::MAX));
}

// ------------------------------- 16. a text key in an integer relation

#[test]
fn a_key_of_the_wrong_kind_names_the_relation_target_and_the_key() {
    let db = Db::open_in_memory().unwrap();
    db.migrate().unwrap();
    let card = Card {
        id: None,
        account: OneToOne::from_key("abc"),
        score: 0,
        label: None,
    };
    let err = card.account.get(&db).unwrap_err();
    match &err {
        Error::InvalidValue { model, value, .. } => {
            assert_eq!(*model, "Account");
            assert!(value.contains("abc"), "{value}");
        }
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------- None in lookups, as Django

#[test]
fn none_in_lookups_follows_django() {
    let db = Db::open_in_memory().unwrap();
    db.migrate().unwrap();
    for note in [None, Some("a"), Some("b")] {
        Account {
            id: None,
            name: "n".into(),
            balance: None,
            note: note.map(str::to_string),
        }
        .save(&db)
        .unwrap();
    }
    let count = |q: Q| Account::objects().filter(q).count(&db).unwrap();
    // None is dropped from `in` lists: the NULL row matches neither way.
    assert_eq!(count(Q::kw_list("note__in", [None, Some("a")])), 1);
    assert_eq!(count(!Q::kw_list("note__in", [None, Some("a")])), 2);
    // `iexact=None` is `isnull=True`.
    assert_eq!(count(Q::kw("note__iexact", None::<String>)), 1);
    // Other lookups refuse None.
    for q in [
        Q::kw("note__lt", None::<String>),
        Q::kw("note__contains", None::<String>),
        Account::note().range(None::<String>, "z"),
    ] {
        let err = Account::objects().filter(q).count(&db).unwrap_err();
        assert!(
            err.to_string().contains("Cannot use None as a query value"),
            "{err}"
        );
    }
}
