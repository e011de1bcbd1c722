//! The performance workloads W1-W7 of DESIGN.md, each run by the ORM and by
//! hand-written rusqlite in the same process, on the same schema and the same
//! data, reporting the median time, the ratio ORM / hand-written, the number
//! of SQL statements each side issued and objects per second.
//!
//! ```text
//! cargo bench --bench workloads              # N = 10,000, W7 with 100k and 1M rows
//! cargo bench --bench workloads -- --quick   # N = 200, W7 with 2k and 20k rows, 1 repetition
//! ```
//!
//! Environment overrides: `ORM_BENCH_QUICK=1`, `ORM_BENCH_N`, `ORM_BENCH_REPS`,
//! `ORM_BENCH_STREAM` (the larger W7 size; the smaller one is a tenth of it),
//! `ORM_BENCH_ONLY=W2,W4` (run only these workloads), `ORM_BENCH_SIDE=orm` or
//! `hand` (run one side only, for a profiler), `ORM_BENCH_SQL=1` (list the
//! distinct statements the ORM ran, on stderr). Timings are reported,
//! never asserted; what is asserted is that both sides computed the same
//! answer, so they provably did the same work. See `benches/README.md`.

// Memory is measured as the process's resident set (Linux `/proc/self`), in
// safe code. A counting `#[global_allocator]` would need `unsafe impl
// GlobalAlloc`, which the root package's `unsafe_code = "forbid"` lint rules
// out (a `forbid` cannot be lifted by `#![allow]`); see benches/README.md.

use std::cell::Cell;
use std::hint::black_box;
use std::time::{Duration, Instant};

use orm_core::prelude::*;
use rusqlite::{params, Connection};

// --- memory: resident set size from /proc ---------------------------------------

/// A `kB` line of `/proc/self/status` (`VmRSS`, `VmHWM`), in bytes.
fn proc_status_bytes(key: &str) -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kb: usize = line[key.len()..]
        .trim_start_matches(':')
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// Peak resident-set tracking over one window: the kernel's high-water mark
/// (`VmHWM`, reset through `/proc/self/clear_refs`) when it can be reset,
/// plus samples taken by the caller.
struct MemWindow {
    base: usize,
    hwm_reset: bool,
    sampled: Cell<usize>,
}

impl MemWindow {
    fn start() -> Option<MemWindow> {
        let hwm_reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        let base = proc_status_bytes("VmRSS")?;
        Some(MemWindow {
            base,
            hwm_reset,
            sampled: Cell::new(base),
        })
    }

    fn sample(&self) {
        if let Some(now) = proc_status_bytes("VmRSS") {
            self.sampled.set(self.sampled.get().max(now));
        }
    }

    /// Bytes above the baseline at the highest point seen.
    fn peak_above_base(&self) -> usize {
        self.sample();
        let mut peak = self.sampled.get();
        if self.hwm_reset {
            peak = peak.max(proc_status_bytes("VmHWM").unwrap_or(0));
        }
        peak.saturating_sub(self.base)
    }
}

/// How often (in rows) the memory pass samples the resident set (a power of two).
const SAMPLE_EVERY: usize = 4096;

// --- the models (reference/django-seed-models.py) ----------------------------

/// Django's `auth.User`, reduced to what the seeds use.
#[derive(Model, Debug, Clone)]
#[model(app = "auth")]
pub struct User {
    pub id: Option<i64>,
    #[field(unique, max_length = 150)]
    pub username: String,
    pub is_staff: bool,
}

/// Seed 000: `Profile.user = OneToOneField(User, CASCADE, related_name="profile")`.
#[derive(Model, Debug, Clone)]
#[model(app = "app")]
pub struct Profile {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", related_name = "profile")]
    pub user: OneToOne<User>,
    pub bio: Option<String>,
    #[field(db_type = "date")]
    pub date_of_birth: Option<String>,
}

/// Seed 002 chain: User -> PageOwnerProfile -> Page -> Like.
#[derive(Model, Debug, Clone)]
#[model(app = "app")]
pub struct PageOwnerProfile {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade")]
    pub user: OneToOne<User>,
    #[field(max_length = 255)]
    pub name: String,
    #[field(max_length = 255)]
    pub city: String,
}

/// `Page.profile = OneToOneField(PageOwnerProfile, CASCADE)`.
#[derive(Model, Debug, Clone)]
#[model(app = "app")]
pub struct Page {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade")]
    pub profile: OneToOne<PageOwnerProfile>,
    #[field(max_length = 255)]
    pub page_name: String,
}

/// `class Like(Page)`: a multi-table child with the implicit `page_ptr`.
#[derive(Model, Debug, Clone)]
#[model(app = "app")]
pub struct Like {
    #[parent]
    pub page: Page,
    pub likes: i64,
}

// The hand-written side's plain structs: the same fields, no ORM types.

#[derive(Debug, Clone)]
struct HUser {
    id: Option<i64>,
    username: String,
    is_staff: bool,
}

#[derive(Debug, Clone)]
struct HProfile {
    id: Option<i64>,
    user_id: i64,
    bio: Option<String>,
    date_of_birth: Option<String>,
}

#[derive(Debug, Clone)]
struct HProfileWithUser {
    profile: HProfile,
    user: HUser,
}

#[derive(Debug, Clone)]
struct HLike {
    id: i64,
    profile_id: i64,
    page_name: String,
    likes: i64,
}

// The same checksum on both sides proves they read the same values.

fn ck_user(id: Option<i64>, username: &str, is_staff: bool) -> u64 {
    id.unwrap_or(0) as u64 + username.len() as u64 * 3 + u64::from(is_staff) * 7
}

fn ck_profile(id: Option<i64>, user_id: Option<i64>, bio: Option<&str>, dob: Option<&str>) -> u64 {
    id.unwrap_or(0) as u64 * 5
        + user_id.unwrap_or(0) as u64 * 11
        + bio.map_or(0, str::len) as u64
        + dob.map_or(0, str::len) as u64 * 13
}

fn ck_like(id: Option<i64>, profile_id: Option<i64>, page_name: &str, likes: i64) -> u64 {
    id.unwrap_or(0) as u64
        + profile_id.unwrap_or(0) as u64 * 3
        + page_name.len() as u64
        + likes as u64 * 17
}

// The values W1 writes, computed the same way by both sides.

fn username_of(i: usize) -> String {
    format!("user{i:07}")
}

fn bio_of(i: usize) -> Option<String> {
    Some(format!("Hello, I'm user {i}!"))
}

fn dob_of(i: usize) -> Option<String> {
    match i % 3 {
        0 => None,
        _ => Some("1990-05-17".to_string()),
    }
}

// --- configuration -------------------------------------------------------------

struct Config {
    quick: bool,
    n: usize,
    reps: usize,
    stream_sizes: [usize; 2],
    only: Option<Vec<String>>,
}

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
}

impl Config {
    fn from_env() -> Config {
        let args: Vec<String> = std::env::args().skip(1).collect();
        // `cargo bench` passes `--bench`; without it (e.g. `cargo test
        // --all-targets` running this target) behave as `--quick`, a smoke test.
        let quick = args.iter().any(|a| a == "--quick")
            || std::env::var("ORM_BENCH_QUICK").is_ok_and(|v| v != "0" && !v.is_empty())
            || !args.iter().any(|a| a == "--bench");
        let n = env_usize("ORM_BENCH_N").unwrap_or(if quick { 200 } else { 10_000 });
        let reps = env_usize("ORM_BENCH_REPS")
            .unwrap_or(if quick { 1 } else { 15 })
            .max(1);
        let big = env_usize("ORM_BENCH_STREAM").unwrap_or(if quick { 20_000 } else { 1_000_000 });
        let only = std::env::var("ORM_BENCH_ONLY")
            .ok()
            .map(|s| s.split(',').map(|w| w.trim().to_uppercase()).collect());
        Config {
            quick,
            n,
            reps,
            stream_sizes: [(big / 10).max(1), big],
            only,
        }
    }

    fn runs(&self, id: &str) -> bool {
        self.only.as_ref().is_none_or(|o| o.iter().any(|w| w == id))
    }
}

// --- measurement ----------------------------------------------------------------

type Res<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// A workload W1-W6: runs both sides and returns the figures.
type Workload = fn(&Config) -> Res<Outcome>;

/// One side's result for one repetition.
struct Run {
    time: Duration,
    statements: u64,
    checksum: u64,
}

/// The figures of one workload.
struct Outcome {
    id: &'static str,
    what: &'static str,
    objects: usize,
    orm: Duration,
    hand: Duration,
    orm_statements: u64,
    hand_statements: u64,
    /// Median of the per-repetition ratios ORM / hand-written. Both sides of a
    /// repetition run back to back, so a burst of load elsewhere on the
    /// machine hits one pair, not the whole comparison.
    ratio: f64,
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Runs `reps` repetitions of both sides (alternating which goes first; the
/// write workloads on a freshly prepared database each time) and checks that
/// both computed the same answer.
fn measure(
    cfg: &Config,
    id: &'static str,
    what: &'static str,
    objects: usize,
    reps: usize,
    mut orm: impl FnMut() -> Res<Run>,
    mut hand: impl FnMut() -> Res<Run>,
) -> Res<Outcome> {
    let mut ot = Vec::new();
    let mut ht = Vec::new();
    let mut ratios = Vec::new();
    let (mut os, mut hs) = (0, 0);
    let side = std::env::var("ORM_BENCH_SIDE").unwrap_or_default();
    for rep in 0..reps {
        // ORM_BENCH_SIDE=orm|hand runs one side only (for profiling).
        let skip = || Run {
            time: Duration::from_nanos(1),
            statements: 0,
            checksum: 0,
        };
        // Alternate which side goes first, so neither always runs on a warmer machine.
        let (o, h) = if rep % 2 == 0 {
            let o = if side == "hand" { skip() } else { orm()? };
            (o, if side == "orm" { skip() } else { hand()? })
        } else {
            let h = if side == "orm" { skip() } else { hand()? };
            (if side == "hand" { skip() } else { orm()? }, h)
        };
        if side.is_empty() && o.checksum != h.checksum {
            return Err(format!(
                "{id}: ORM and hand-written disagree (checksum {} vs {})",
                o.checksum, h.checksum
            )
            .into());
        }
        ratios.push(ratio(o.time, h.time));
        ot.push(o.time);
        ht.push(h.time);
        os = o.statements;
        hs = h.statements;
    }
    let out = Outcome {
        id,
        what,
        objects,
        orm: median(ot),
        hand: median(ht),
        orm_statements: os,
        hand_statements: hs,
        ratio: {
            ratios.sort_by(f64::total_cmp);
            ratios[ratios.len() / 2]
        },
    };
    if !cfg.quick {
        eprintln!(
            "  {id}: ORM {} / hand {}, ratio {:.2}x",
            ms(out.orm),
            ms(out.hand),
            out.ratio
        );
    }
    Ok(out)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-12)
}

fn per_sec(objects: usize, d: Duration) -> String {
    let v = objects as f64 / d.as_secs_f64().max(1e-12);
    let s = format!("{v:.0}");
    // thousands separators
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn kib(bytes: usize) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

// --- the hand-written side ------------------------------------------------------

/// A rusqlite connection plus a count of the statements executed through it
/// (transaction control excluded, as the ORM's `query_count` does).
struct Hand<'c> {
    conn: &'c Connection,
    statements: Cell<u64>,
}

impl<'c> Hand<'c> {
    fn new(conn: &'c Connection) -> Self {
        Hand {
            conn,
            statements: Cell::new(0),
        }
    }

    /// A cached prepared statement, counted as one execution.
    fn stmt(&self, sql: &str) -> rusqlite::Result<rusqlite::CachedStatement<'c>> {
        self.statements.set(self.statements.get() + 1);
        self.conn.prepare_cached(sql)
    }
}

const H_INSERT_USER: &str = r#"INSERT INTO "auth_user" ("username", "is_staff") VALUES (?1, ?2)"#;
const H_INSERT_PROFILE: &str =
    r#"INSERT INTO "app_profile" ("user_id", "bio", "date_of_birth") VALUES (?1, ?2, ?3)"#;
const H_PROFILES_WITH_USER: &str = r#"SELECT p."id", p."user_id", p."bio", p."date_of_birth", u."id", u."username", u."is_staff" FROM "app_profile" p INNER JOIN "auth_user" u ON p."user_id" = u."id""#;
const H_PROFILE_OF_USER: &str =
    r#"SELECT "id", "user_id", "bio", "date_of_birth" FROM "app_profile" WHERE "user_id" = ?1"#;
const H_USER_BY_PK: &str =
    r#"SELECT "id", "username", "is_staff" FROM "auth_user" WHERE "id" = ?1"#;
const H_ALL_USERS: &str = r#"SELECT "id", "username", "is_staff" FROM "auth_user""#;
const H_LIKES: &str = r#"SELECT p."id", p."profile_id", p."page_name", l."likes" FROM "app_like" l INNER JOIN "app_page" p ON l."page_ptr_id" = p."id""#;
/// W5 by hand: set-based DELETEs keyed on the users being deleted, children
/// first (the foreign keys are deferred, so the order is for clarity).
const H_CASCADE: [&str; 5] = [
    r#"DELETE FROM "app_like" WHERE "page_ptr_id" IN (SELECT "id" FROM "app_page" WHERE "profile_id" IN (SELECT "id" FROM "app_pageownerprofile" WHERE "user_id" IN (SELECT "id" FROM "auth_user")))"#,
    r#"DELETE FROM "app_page" WHERE "profile_id" IN (SELECT "id" FROM "app_pageownerprofile" WHERE "user_id" IN (SELECT "id" FROM "auth_user"))"#,
    r#"DELETE FROM "app_pageownerprofile" WHERE "user_id" IN (SELECT "id" FROM "auth_user")"#,
    r#"DELETE FROM "app_profile" WHERE "user_id" IN (SELECT "id" FROM "auth_user")"#,
    r#"DELETE FROM "auth_user""#,
];

fn h_user(row: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<HUser> {
    Ok(HUser {
        id: row.get(at)?,
        username: row.get(at + 1)?,
        is_staff: row.get(at + 2)?,
    })
}

fn h_profile(row: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<HProfile> {
    Ok(HProfile {
        id: row.get(at)?,
        user_id: row.get(at + 1)?,
        bio: row.get(at + 2)?,
        date_of_birth: row.get(at + 3)?,
    })
}

// --- data set-up (untimed, shared by both sides) --------------------------------

/// A fresh in-memory database with the ORM's schema (both sides use it: the
/// hand-written side only through `db.connection()`).
fn fresh_db() -> Res<Db> {
    let db = Db::open_in_memory()?;
    db.migrate()?;
    Ok(db)
}

/// `n` users, each with a `Profile` (the state W1 leaves behind).
fn seed_users_profiles(db: &Db, n: usize) -> Res<()> {
    let conn = db.connection();
    let tx = conn.unchecked_transaction()?;
    for i in 0..n {
        conn.prepare_cached(H_INSERT_USER)?
            .execute(params![username_of(i), i % 10 == 0])?;
        let uid = conn.last_insert_rowid();
        conn.prepare_cached(H_INSERT_PROFILE)?
            .execute(params![uid, bio_of(i), dob_of(i)])?;
    }
    tx.commit()?;
    Ok(())
}

/// `n` users, each with PageOwnerProfile -> Page -> Like (Like a child of Page).
fn seed_like_chain(db: &Db, n: usize) -> Res<()> {
    let conn = db.connection();
    let tx = conn.unchecked_transaction()?;
    for i in 0..n {
        conn.prepare_cached(H_INSERT_USER)?
            .execute(params![username_of(i), false])?;
        let uid = conn.last_insert_rowid();
        conn.prepare_cached(
            r#"INSERT INTO "app_pageownerprofile" ("user_id", "name", "city") VALUES (?1, ?2, ?3)"#,
        )?
        .execute(params![uid, format!("Owner {i}"), "Lisbon"])?;
        let oid = conn.last_insert_rowid();
        conn.prepare_cached(
            r#"INSERT INTO "app_page" ("profile_id", "page_name") VALUES (?1, ?2)"#,
        )?
        .execute(params![oid, format!("page-{i}")])?;
        let pid = conn.last_insert_rowid();
        conn.prepare_cached(r#"INSERT INTO "app_like" ("page_ptr_id", "likes") VALUES (?1, ?2)"#)?
            .execute(params![pid, (i % 1000) as i64])?;
    }
    tx.commit()?;
    Ok(())
}

/// `n` bare users, inserted by SQLite itself (fast enough for a million).
fn seed_many_users(db: &Db, n: usize) -> Res<()> {
    db.connection().execute(
        r#"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?1)
           INSERT INTO "auth_user" ("username", "is_staff") SELECT printf('user%07d', x), x % 2 FROM c"#,
        params![n as i64],
    )?;
    Ok(())
}

// Not inlined, so that a profiler can collect exactly the timed regions
// (`valgrind --tool=callgrind --toggle-collect='*orm_run*'`).
#[inline(never)]
fn orm_run<T>(db: &Db, f: impl FnOnce(&Db) -> Res<(T, u64)>) -> Res<Run> {
    let q0 = db.query_count();
    let t = Instant::now();
    let (out, checksum) = if std::env::var_os("ORM_BENCH_SQL").is_some() {
        // Diagnostic mode: list the distinct statements (the time then includes the logging).
        let (r, captured) = db.capture(|| f(db));
        let mut distinct: Vec<(&str, usize)> = Vec::new();
        for q in &captured.queries {
            match distinct.iter_mut().find(|(s, _)| *s == q.as_str()) {
                Some((_, n)) => *n += 1,
                None => distinct.push((q.as_str(), 1)),
            }
        }
        for (sql, n) in distinct {
            eprintln!("    ORM SQL x{n}: {sql}");
        }
        r?
    } else {
        f(db)?
    };
    let time = t.elapsed();
    drop(black_box(out));
    Ok(Run {
        time,
        statements: db.query_count() - q0,
        checksum,
    })
}

#[inline(never)]
fn hand_run<T>(conn: &Connection, f: impl FnOnce(&Hand<'_>) -> Res<(T, u64)>) -> Res<Run> {
    let h = Hand::new(conn);
    let t = Instant::now();
    let (out, checksum) = f(&h)?;
    let time = t.elapsed();
    drop(black_box(out));
    Ok(Run {
        time,
        statements: h.statements.get(),
        checksum,
    })
}

// --- W1: insert N users, each with a profile, in one transaction -------------------

fn w1(cfg: &Config) -> Res<Outcome> {
    let n = cfg.n;
    measure(
        cfg,
        "W1",
        "insert user + profile (one transaction)",
        n,
        cfg.reps,
        || {
            let db = fresh_db()?;
            orm_run(&db, |db| {
                let mut ck = 0;
                db.atomic(|db| {
                    for i in 0..n {
                        let mut u = User {
                            id: None,
                            username: username_of(i),
                            is_staff: i % 10 == 0,
                        };
                        u.save(db)?;
                        let mut p = Profile {
                            id: None,
                            user: OneToOne::to(&u),
                            bio: bio_of(i),
                            date_of_birth: dob_of(i),
                        };
                        p.save(db)?;
                        ck += ck_user(u.id, &u.username, u.is_staff)
                            + ck_profile(
                                p.id,
                                p.user.id(),
                                p.bio.as_deref(),
                                p.date_of_birth.as_deref(),
                            );
                    }
                    Ok(())
                })?;
                Ok(((), ck))
            })
        },
        || {
            let db = fresh_db()?;
            hand_run(db.connection(), |h| {
                let mut ck = 0;
                let tx = h.conn.unchecked_transaction()?;
                for i in 0..n {
                    let mut u = HUser {
                        id: None,
                        username: username_of(i),
                        is_staff: i % 10 == 0,
                    };
                    h.stmt(H_INSERT_USER)?
                        .execute(params![u.username, u.is_staff])?;
                    u.id = Some(h.conn.last_insert_rowid());
                    let mut p = HProfile {
                        id: None,
                        user_id: u.id.unwrap_or_default(),
                        bio: bio_of(i),
                        date_of_birth: dob_of(i),
                    };
                    h.stmt(H_INSERT_PROFILE)?.execute(params![
                        p.user_id,
                        p.bio,
                        p.date_of_birth
                    ])?;
                    p.id = Some(h.conn.last_insert_rowid());
                    ck += ck_user(u.id, &u.username, u.is_staff)
                        + ck_profile(
                            p.id,
                            Some(p.user_id),
                            p.bio.as_deref(),
                            p.date_of_birth.as_deref(),
                        );
                }
                tx.commit()?;
                Ok(((), ck))
            })
        },
    )
}

// --- W2: load all N profiles with their user, touching user.username ---------------

fn w2(cfg: &Config) -> Res<Outcome> {
    let n = cfg.n;
    let odb = fresh_db()?;
    seed_users_profiles(&odb, n)?;
    let hdb = fresh_db()?;
    seed_users_profiles(&hdb, n)?;
    measure(
        cfg,
        "W2",
        "select_related load, touch user.username",
        n,
        cfg.reps,
        || {
            orm_run(&odb, |db| {
                let rows = Profile::objects().select_related(Profile::user()).all(db)?;
                let mut ck = 0;
                for p in &rows {
                    let u = p.user.get(db)?;
                    ck += ck_user(u.id, &u.username, u.is_staff)
                        + ck_profile(
                            p.id,
                            p.user.id(),
                            p.bio.as_deref(),
                            p.date_of_birth.as_deref(),
                        );
                }
                Ok((rows, ck))
            })
        },
        || {
            hand_run(hdb.connection(), |h| {
                let mut stmt = h.stmt(H_PROFILES_WITH_USER)?;
                let rows = stmt
                    .query_map([], |r| {
                        Ok(HProfileWithUser {
                            profile: h_profile(r, 0)?,
                            user: h_user(r, 4)?,
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let mut ck = 0;
                for r in &rows {
                    let (p, u) = (&r.profile, &r.user);
                    ck += ck_user(u.id, &u.username, u.is_staff)
                        + ck_profile(
                            p.id,
                            Some(p.user_id),
                            p.bio.as_deref(),
                            p.date_of_birth.as_deref(),
                        );
                }
                Ok((rows, ck))
            })
        },
    )
}

// --- W3: user.profile for N users already loaded ----------------------------------

fn w3(cfg: &Config) -> Res<Outcome> {
    let n = cfg.n;
    let odb = fresh_db()?;
    seed_users_profiles(&odb, n)?;
    let hdb = fresh_db()?;
    seed_users_profiles(&hdb, n)?;
    let users = User::objects().all(&odb)?;
    let husers: Vec<HUser> = {
        let mut stmt = hdb.connection().prepare(H_ALL_USERS)?;
        let rows = stmt.query_map([], |r| h_user(r, 0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    measure(
        cfg,
        "W3",
        "reverse accessor user.profile",
        n,
        cfg.reps,
        || {
            // The reverse cache would answer every call after the first repetition.
            odb.clear_cache();
            orm_run(&odb, |db| {
                let mut ck = 0;
                for u in &users {
                    let p = u.profile(db)?;
                    ck += ck_profile(
                        p.id,
                        p.user.id(),
                        p.bio.as_deref(),
                        p.date_of_birth.as_deref(),
                    );
                }
                Ok(((), ck))
            })
        },
        || {
            hand_run(hdb.connection(), |h| {
                let mut ck = 0;
                for u in &husers {
                    let p = h
                        .stmt(H_PROFILE_OF_USER)?
                        .query_row([u.id], |r| h_profile(r, 0))?;
                    ck += ck_profile(
                        p.id,
                        Some(p.user_id),
                        p.bio.as_deref(),
                        p.date_of_birth.as_deref(),
                    );
                }
                Ok(((), ck))
            })
        },
    )
}

// --- W4: get by primary key, N times ---------------------------------------------

fn w4(cfg: &Config) -> Res<Outcome> {
    let n = cfg.n;
    let odb = fresh_db()?;
    seed_users_profiles(&odb, n)?;
    let hdb = fresh_db()?;
    seed_users_profiles(&hdb, n)?;
    measure(
        cfg,
        "W4",
        "get by primary key",
        n,
        cfg.reps,
        || {
            orm_run(&odb, |db| {
                let mut ck = 0;
                for id in 1..=n as i64 {
                    let u = User::get(db, id)?;
                    ck += ck_user(u.id, &u.username, u.is_staff);
                }
                Ok(((), ck))
            })
        },
        || {
            hand_run(hdb.connection(), |h| {
                let mut ck = 0;
                for id in 1..=n as i64 {
                    let u = h.stmt(H_USER_BY_PK)?.query_row([id], |r| h_user(r, 0))?;
                    ck += ck_user(u.id, &u.username, u.is_staff);
                }
                Ok(((), ck))
            })
        },
    )
}

// --- W5: cascade delete of N users, each with profile -> page -> like --------------

fn w5(cfg: &Config) -> Res<Outcome> {
    let n = cfg.n;
    measure(
        cfg,
        "W5",
        "cascade delete user -> profile -> page -> like",
        n,
        cfg.reps,
        || {
            let db = fresh_db()?;
            seed_like_chain(&db, n)?;
            let run = orm_run(&db, |db| {
                let deleted = User::objects().delete(db)?;
                Ok(((), deleted.total))
            })?;
            let left = Like::objects().count(&db)?
                + Page::objects().count(&db)?
                + User::objects().count(&db)?;
            if left != 0 {
                return Err(format!("W5: the ORM left {left} rows behind").into());
            }
            Ok(run)
        },
        || {
            let db = fresh_db()?;
            seed_like_chain(&db, n)?;
            hand_run(db.connection(), |h| {
                let tx = h.conn.unchecked_transaction()?;
                let mut total = 0;
                for sql in H_CASCADE {
                    total += h.stmt(sql)?.execute([])? as u64;
                }
                tx.commit()?;
                Ok(((), total))
            })
        },
    )
}

/// The ORM's W5 statement count for `n` users (untimed), to show it does not grow with N.
fn w5_statements(n: usize) -> Res<u64> {
    let db = fresh_db()?;
    seed_like_chain(&db, n)?;
    let q0 = db.query_count();
    let deleted = User::objects().delete(&db)?;
    if deleted.total != 4 * n as u64 {
        return Err(format!("W5: deleted {} rows, expected {}", deleted.total, 4 * n).into());
    }
    Ok(db.query_count() - q0)
}

// --- W6: load N multi-table children (like joined with page) ------------------------

fn w6(cfg: &Config) -> Res<Outcome> {
    let n = cfg.n;
    let odb = fresh_db()?;
    seed_like_chain(&odb, n)?;
    let hdb = fresh_db()?;
    seed_like_chain(&hdb, n)?;
    measure(
        cfg,
        "W6",
        "load multi-table children (like + page)",
        n,
        cfg.reps,
        || {
            orm_run(&odb, |db| {
                let likes = Like::objects().all(db)?;
                let mut ck = 0;
                for l in &likes {
                    // page fields read through Deref, as `like.page_name` in Django
                    ck += ck_like(l.id, l.profile.id(), &l.page_name, l.likes);
                }
                Ok((likes, ck))
            })
        },
        || {
            hand_run(hdb.connection(), |h| {
                let mut stmt = h.stmt(H_LIKES)?;
                let likes = stmt
                    .query_map([], |r| {
                        Ok(HLike {
                            id: r.get(0)?,
                            profile_id: r.get(1)?,
                            page_name: r.get(2)?,
                            likes: r.get(3)?,
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let mut ck = 0;
                for l in &likes {
                    ck += ck_like(Some(l.id), Some(l.profile_id), &l.page_name, l.likes);
                }
                Ok((likes, ck))
            })
        },
    )
}

// --- W7: stream rows through the iterator, peak memory flat ---------------------------

struct StreamFigures {
    rows: usize,
    outcome: Outcome,
    /// Resident-set growth while streaming, `None` without `/proc`.
    orm_peak: Option<usize>,
    hand_peak: Option<usize>,
    /// Control: the same rows loaded with `all()`, which must grow with N.
    orm_all_peak: Option<usize>,
}

/// The ORM side of W7; `mem` samples the resident set every few rows.
fn w7_orm(db: &Db, mem: Option<&MemWindow>) -> Res<(usize, u64)> {
    let mut ck = 0;
    let mut seen = 0usize;
    let mut stream = User::objects().stream(db)?;
    for u in stream.iter() {
        let u = u?;
        ck += ck_user(u.id, &u.username, u.is_staff);
        seen += 1;
        if let Some(m) = mem.filter(|_| seen & (SAMPLE_EVERY - 1) == 0) {
            m.sample();
        }
    }
    Ok((seen, ck))
}

/// The hand-written side of W7.
fn w7_hand(h: &Hand<'_>, mem: Option<&MemWindow>) -> Res<(usize, u64)> {
    let mut ck = 0;
    let mut seen = 0usize;
    let mut stmt = h.stmt(H_ALL_USERS)?;
    let mut q = stmt.query([])?;
    while let Some(r) = q.next()? {
        let u = h_user(r, 0)?;
        ck += ck_user(u.id, &u.username, u.is_staff);
        seen += 1;
        if let Some(m) = mem.filter(|_| seen & (SAMPLE_EVERY - 1) == 0) {
            m.sample();
        }
    }
    Ok((seen, ck))
}

fn w7(cfg: &Config, rows: usize) -> Res<StreamFigures> {
    let db = fresh_db()?;
    seed_many_users(&db, rows)?;
    // Timed repetitions, without sampling.
    let outcome = measure(
        cfg,
        "W7",
        "stream rows through the iterator",
        rows,
        cfg.reps.min(5),
        || orm_run(&db, |db| w7_orm(db, None)),
        || hand_run(db.connection(), |h| w7_hand(h, None)),
    )?;
    // One untimed memory pass per side, then the control.
    let orm_peak = match MemWindow::start() {
        Some(m) => {
            w7_orm(&db, Some(&m))?;
            Some(m.peak_above_base())
        }
        None => None,
    };
    let hand_peak = match MemWindow::start() {
        Some(m) => {
            w7_hand(&Hand::new(db.connection()), Some(&m))?;
            Some(m.peak_above_base())
        }
        None => None,
    };
    let orm_all_peak = match MemWindow::start() {
        Some(m) => {
            let all = User::objects().all(&db)?;
            let peak = m.peak_above_base();
            drop(black_box(all));
            Some(peak)
        }
        None => None,
    };
    Ok(StreamFigures {
        rows,
        outcome,
        orm_peak,
        hand_peak,
        orm_all_peak,
    })
}

// --- main ---------------------------------------------------------------------------

fn main() -> Res<()> {
    let cfg = Config::from_env();
    println!(
        "orm-core workloads: N = {}, {} repetition(s) (W7: at most 5), medians, SQLite {}{}",
        cfg.n,
        cfg.reps,
        rusqlite::version(),
        if cfg.quick { " (quick mode)" } else { "" }
    );
    // A failing workload is reported and the others still run; the process
    // then exits with an error.
    let mut failed = Vec::new();
    let mut results = Vec::new();
    let workloads: [(&str, Workload); 6] = [
        ("W1", w1),
        ("W2", w2),
        ("W3", w3),
        ("W4", w4),
        ("W5", w5),
        ("W6", w6),
    ];
    for (id, f) in workloads {
        if cfg.runs(id) {
            match f(&cfg) {
                Ok(o) => results.push(o),
                Err(e) => failed.push(format!("{id}: {e}")),
            }
        }
    }
    let mut streams = Vec::new();
    if cfg.runs("W7") {
        for rows in cfg.stream_sizes {
            match w7(&cfg, rows) {
                Ok(s) => streams.push(s),
                Err(e) => failed.push(format!("W7 ({rows} rows): {e}")),
            }
        }
    }

    println!();
    println!("| id | workload | objects | ORM (median) | hand-written (median) | ORM / hand (median of pairs) | ORM stmts | hand stmts | ORM objects/s | hand objects/s |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for o in results.iter().chain(streams.iter().map(|s| &s.outcome)) {
        println!(
            "| {} | {} | {} | {} | {} | {:.2}x | {} | {} | {} | {} |",
            o.id,
            o.what,
            o.objects,
            ms(o.orm),
            ms(o.hand),
            o.ratio,
            o.orm_statements,
            o.hand_statements,
            per_sec(o.objects, o.orm),
            per_sec(o.objects, o.hand),
        );
    }
    if cfg.runs("W5") {
        let sizes = [1, (cfg.n / 10).max(1), cfg.n];
        let mut counts = Vec::new();
        for n in sizes {
            match w5_statements(n) {
                Ok(c) => counts.push(c),
                Err(e) => failed.push(format!("W5 statement count: {e}")),
            }
        }
        if counts.len() == sizes.len() {
            println!();
            println!(
                "W5 ORM statements for N = {:?} users: {:?} (independent of N: {})",
                sizes,
                counts,
                if counts.iter().all(|c| *c == counts[0]) {
                    "yes"
                } else {
                    "NO"
                }
            );
        }
    }
    if !streams.is_empty() {
        let show = |b: Option<usize>| b.map_or_else(|| "n/a".to_string(), kib);
        println!();
        println!("W7 peak resident-set growth while reading every row (untimed pass, /proc/self):");
        println!();
        println!("| rows | ORM stream | hand-written | control: ORM all() into a Vec |");
        println!("|---:|---:|---:|---:|");
        for s in &streams {
            println!(
                "| {} | {} | {} | {} |",
                s.rows,
                show(s.orm_peak),
                show(s.hand_peak),
                show(s.orm_all_peak)
            );
        }
        if let [small, big] = streams.as_slice() {
            // Flat: ten times the rows cost at most 256 KiB more (page granularity, allocator noise).
            let flat = |a: Option<usize>, b: Option<usize>| match (a, b) {
                (Some(a), Some(b)) => {
                    if b <= a + 256 * 1024 {
                        "yes"
                    } else {
                        "NO"
                    }
                }
                _ => "n/a",
            };
            println!();
            println!(
                "W7 memory flat from {} to {} rows: ORM stream {}, hand-written {} \
                 (control, all() into a Vec: {}, so the measure does see growth)",
                small.rows,
                big.rows,
                flat(small.orm_peak, big.orm_peak),
                flat(small.hand_peak, big.hand_peak),
                match flat(small.orm_all_peak, big.orm_all_peak) {
                    "NO" => "grows",
                    "yes" => "flat",
                    other => other,
                },
            );
        }
    }
    if !failed.is_empty() {
        println!();
        for f in &failed {
            println!("FAILED {f}");
        }
        return Err(format!("{} workload(s) failed", failed.len()).into());
    }
    Ok(())
}
