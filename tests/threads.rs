//! Handles and models cross threads; hooks belong to the application (every
//! handle of a pool runs them).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use orm_core::prelude::*;
use orm_core::Pool;

#[derive(Model, Debug, Clone)]
#[model(app = "thr")]
pub struct Member {
    pub id: Option<i64>,
    pub name: String,
}

#[derive(Model, Debug, Clone)]
#[model(app = "thr")]
pub struct Card {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", related_name = "card")]
    pub member: OneToOne<Member>,
}

fn send<T: Send>() {}
fn send_sync<T: Send + Sync>() {}

#[test]
fn handles_pools_and_models_cross_threads() {
    send::<Db>();
    send_sync::<Pool>();
    send_sync::<Member>();
    send_sync::<Card>();
    send_sync::<OneToOne<Member>>();
    send_sync::<QuerySet<Card>>();
    send::<orm_core::Error>();
}

#[test]
fn a_hook_registered_once_runs_on_every_handle_of_the_pool() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("orm-threads-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pool = Pool::with_size(dir.join("t.sqlite3"), 3)?;
    pool.get()?.migrate()?;
    let seen = Arc::new(AtomicUsize::new(0));
    {
        let seen = Arc::clone(&seen);
        // Registered through one handle: it belongs to the application.
        pool.get()?.on_post_save::<Member>(move |db, m, created| {
            seen.fetch_add(1, Ordering::SeqCst);
            if created {
                Card {
                    id: None,
                    member: OneToOne::to(m),
                }
                .save(db)?;
            }
            Ok(())
        });
    }
    let threads: Vec<_> = (0..6)
        .map(|i| {
            let pool = pool.clone();
            std::thread::spawn(move || -> Result<Member> {
                let db = pool.get()?;
                Member {
                    id: None,
                    name: format!("m{i}"),
                }
                .create(&db)
            })
        })
        .collect();
    let members: Vec<Member> = threads
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect::<Result<_>>()?;
    assert_eq!(seen.load(Ordering::SeqCst), 6);
    let db = pool.get()?;
    for m in &members {
        assert!(m.card_opt(&db)?.is_some());
    }
    // A loaded instance moves to another thread and is used there.
    let m = members[0].clone();
    let pool2 = pool.clone();
    let name = std::thread::spawn(move || -> Result<String> {
        let db = pool2.get()?;
        Ok(m.card(&db)?.member.get(&db)?.name.clone())
    })
    .join()
    .unwrap()?;
    assert_eq!(name, "m0");
    drop(db);
    drop(pool);
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}

#[test]
fn a_relation_field_stays_small() {
    // Relation fields are copied with every loaded row: keep them compact
    // (key, to_field, the type-erased cache).
    let size = std::mem::size_of::<OneToOne<Member>>();
    assert!(size <= 64, "OneToOne is {size} bytes");
}
