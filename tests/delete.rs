//! The deletion collector: every `on_delete` rule, Django's RESTRICT exception,
//! PROTECT reached through a CASCADE, multi-table inheritance both ways and
//! `keep_parents`, hooks and rollback, and set-based SQL (the number of
//! statements does not grow with the number of rows).

use std::sync::{Arc, Mutex};

use orm_core::prelude::*;
use orm_core::Blocker;

// ------------------------------------------------------------------ models

/// The seed's owner and one model per `on_delete` rule.
#[derive(Model, Debug, Clone)]
#[model(app = "shop")]
pub struct Owner {
    pub id: Option<i64>,
    #[field(max_length = 100)]
    pub name: String,
}

#[derive(Model, Debug, Clone)]
#[model(app = "shop")]
pub struct Guarded {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "protect")]
    pub owner: OneToOne<Owner>,
}

#[derive(Model, Debug, Clone)]
#[model(app = "shop")]
pub struct Nullable {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "set_null")]
    pub owner: Option<OneToOne<Owner>>,
}

/// SET_DEFAULT: the default is the fallback owner, id 1.
#[derive(Model, Debug, Clone)]
#[model(app = "shop")]
pub struct Defaulted {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "set_default", default = 1)]
    pub owner: Option<OneToOne<Owner>>,
}

/// SET(0): a sentinel key, so no database constraint.
#[derive(Model, Debug, Clone)]
#[model(app = "shop")]
pub struct Marked {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "set(0)", db_constraint = false)]
    pub owner: OneToOne<Owner>,
}

#[derive(Model, Debug, Clone)]
#[model(app = "shop")]
pub struct Loose {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "do_nothing", db_constraint = false)]
    pub owner: OneToOne<Owner>,
}

/// DO_NOTHING with the constraint kept: the database refuses the commit.
#[derive(Model, Debug, Clone)]
#[model(app = "shop")]
pub struct Strict {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "do_nothing")]
    pub owner: OneToOne<Owner>,
}

#[derive(Model, Debug, Clone)]
#[model(app = "shop")]
pub struct Restricted {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "restrict")]
    pub owner: OneToOne<Owner>,
}

/// The quickstart pair.
#[derive(Model, Debug, Clone)]
#[model(app = "auth")]
pub struct User {
    pub id: Option<i64>,
    #[field(unique, max_length = 150)]
    pub username: String,
}

#[derive(Model, Debug, Clone)]
#[model(app = "app")]
pub struct Profile {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", related_name = "profile")]
    pub user: OneToOne<User>,
    pub bio: Option<String>,
}

/// A hidden reverse relation still cascades.
#[derive(Model, Debug, Clone)]
#[model(app = "app")]
pub struct Audit {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", related_name = "+")]
    pub user: OneToOne<User>,
}

/// Django's `test_protect_path`: P <- R.p (CASCADE) <- A.protect (PROTECT).
#[derive(Model, Debug, Clone)]
#[model(app = "paths")]
pub struct P {
    pub id: Option<i64>,
    #[field(max_length = 20)]
    pub name: String,
}

#[derive(Model, Debug, Clone)]
#[model(app = "paths")]
pub struct R {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade")]
    pub p: OneToOne<P>,
}

#[derive(Model, Debug, Clone)]
#[model(app = "paths")]
pub struct A {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "protect")]
    pub protect: OneToOne<R>,
}

/// Django's RESTRICT example (Artist, Album, Song), with one-to-one keys.
#[derive(Model, Debug, Clone)]
#[model(app = "music")]
pub struct Artist {
    pub id: Option<i64>,
    #[field(max_length = 20)]
    pub name: String,
}

#[derive(Model, Debug, Clone)]
#[model(app = "music")]
pub struct Album {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade")]
    pub artist: OneToOne<Artist>,
}

#[derive(Model, Debug, Clone)]
#[model(app = "music")]
pub struct Song {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade")]
    pub artist: OneToOne<Artist>,
    #[one_to_one(on_delete = "restrict")]
    pub album: OneToOne<Album>,
}

/// The seed 002 chain: User -> PageOwnerProfile -> Page -> Like (a child of Page).
#[derive(Model, Debug, Clone)]
#[model(app = "seedapp")]
pub struct PageOwnerProfile {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade")]
    pub user: OneToOne<User>,
    #[field(max_length = 255)]
    pub name: String,
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

#[derive(Model, Debug, Clone)]
#[model(app = "seedapp")]
pub struct Like {
    #[parent]
    pub page: Page,
    pub likes: i64,
}

/// PROTECT pointing at the parent table.
#[derive(Model, Debug, Clone)]
#[model(app = "seedapp")]
pub struct PageGuard {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "protect")]
    pub page: OneToOne<Page>,
}

/// A three-level chain: Base <- Child <- GrandChild.
#[derive(Model, Debug, Clone)]
#[model(app = "mti")]
pub struct Base {
    pub id: Option<i64>,
    #[field(max_length = 20)]
    pub name: String,
}

#[derive(Model, Debug, Clone)]
#[model(app = "mti")]
pub struct Child {
    #[parent]
    pub base: Base,
    pub extra: i64,
}

#[derive(Model, Debug, Clone)]
#[model(app = "mti")]
pub struct GrandChild {
    #[parent]
    pub child: Child,
    pub more: i64,
}

/// A relation pointing at the top of the chain, from a plain model.
#[derive(Model, Debug, Clone)]
#[model(app = "mti")]
pub struct Tagged {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade")]
    pub base: OneToOne<Base>,
}

/// Self-referential CASCADE: a chain of nodes.
#[derive(Model, Debug, Clone)]
#[model(app = "tree")]
pub struct Node {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", related_name = "next")]
    pub prev: Option<OneToOne<Node>>,
    #[field(max_length = 20)]
    pub name: String,
}

/// Two models cascading into each other.
#[derive(Model, Debug, Clone)]
#[model(app = "cycle")]
pub struct Ping {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", related_name = "pings")]
    pub pong: Option<OneToOne<Pong>>,
}

#[derive(Model, Debug, Clone)]
#[model(app = "cycle")]
pub struct Pong {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", related_name = "pongs")]
    pub ping: Option<OneToOne<Ping>>,
}

/// CASCADE through a `to_field`.
#[derive(Model, Debug, Clone)]
#[model(app = "bank")]
pub struct Account {
    pub id: Option<i64>,
    #[field(unique, max_length = 20)]
    pub code: String,
}

#[derive(Model, Debug, Clone)]
#[model(app = "bank")]
pub struct Card {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", to_field = "code")]
    pub account: OneToOne<Account>,
}

/// Django's RESTRICT example again, with the song's artist nullable: a song
/// with no artist is never cascaded, so its RESTRICT key always blocks.
pub mod nullkey {
    use orm_core::prelude::*;

    #[derive(Model, Debug, Clone)]
    #[model(app = "nullkey")]
    pub struct Artist {
        pub id: Option<i64>,
        #[field(max_length = 20)]
        pub name: String,
    }

    #[derive(Model, Debug, Clone)]
    #[model(app = "nullkey")]
    pub struct Album {
        pub id: Option<i64>,
        #[one_to_one(on_delete = "cascade")]
        pub artist: OneToOne<Artist>,
    }

    #[derive(Model, Debug, Clone)]
    #[model(app = "nullkey")]
    pub struct Song {
        pub id: Option<i64>,
        #[one_to_one(on_delete = "cascade")]
        pub artist: Option<OneToOne<Artist>>,
        #[one_to_one(on_delete = "restrict")]
        pub album: OneToOne<Album>,
    }

    /// A label with no code is referenced by no `to_field` key.
    #[derive(Model, Debug, Clone)]
    #[model(app = "nullkey")]
    pub struct Label {
        pub id: Option<i64>,
        #[field(unique)]
        pub code: Option<i64>,
    }

    #[derive(Model, Debug, Clone)]
    #[model(app = "nullkey")]
    pub struct Release {
        pub id: Option<i64>,
        #[one_to_one(on_delete = "cascade")]
        pub label: OneToOne<Label>,
    }

    /// CASCADE through the label's code, RESTRICT on a release.
    #[derive(Model, Debug, Clone)]
    #[model(app = "nullkey")]
    pub struct Track {
        pub id: Option<i64>,
        #[one_to_one(on_delete = "cascade", to_field = "code")]
        pub label: OneToOne<Label>,
        #[one_to_one(on_delete = "restrict")]
        pub release: OneToOne<Release>,
    }
}

/// The same, with no database constraint behind the RESTRICT key: only the
/// collector stands between the delete and a song pointing at no album.
pub mod nullkey_loose {
    use orm_core::prelude::*;

    #[derive(Model, Debug, Clone)]
    #[model(app = "nullkey_loose")]
    pub struct Artist {
        pub id: Option<i64>,
        #[field(max_length = 20)]
        pub name: String,
    }

    #[derive(Model, Debug, Clone)]
    #[model(app = "nullkey_loose")]
    pub struct Album {
        pub id: Option<i64>,
        #[one_to_one(on_delete = "cascade")]
        pub artist: OneToOne<Artist>,
    }

    #[derive(Model, Debug, Clone)]
    #[model(app = "nullkey_loose")]
    pub struct Song {
        pub id: Option<i64>,
        #[one_to_one(on_delete = "cascade")]
        pub artist: Option<OneToOne<Artist>>,
        #[one_to_one(on_delete = "restrict", db_constraint = false)]
        pub album: OneToOne<Album>,
    }
}

/// `keep_parents` with a CASCADE cycle back to the child, and a grandchild.
pub mod keepcycle {
    use orm_core::prelude::*;

    #[derive(Model, Debug, Clone)]
    #[model(app = "keepcycle")]
    pub struct Base {
        pub id: Option<i64>,
        #[field(max_length = 20)]
        pub name: String,
    }

    /// A child whose `back` cascades from the `Tail` that cascades from it.
    #[derive(Model, Debug, Clone)]
    #[model(app = "keepcycle")]
    pub struct Kid {
        #[parent]
        pub base: Base,
        #[one_to_one(on_delete = "cascade", related_name = "back_of")]
        pub back: Option<OneToOne<Tail>>,
    }

    #[derive(Model, Debug, Clone)]
    #[model(app = "keepcycle")]
    pub struct Tail {
        pub id: Option<i64>,
        #[one_to_one(on_delete = "cascade")]
        pub kid: OneToOne<Kid>,
    }

    #[derive(Model, Debug, Clone)]
    #[model(app = "keepcycle")]
    pub struct Grand {
        #[parent]
        pub kid: Kid,
    }

    /// PROTECT and CASCADE pointing at the parent table.
    #[derive(Model, Debug, Clone)]
    #[model(app = "keepcycle")]
    pub struct Guard {
        pub id: Option<i64>,
        #[one_to_one(on_delete = "protect")]
        pub base: OneToOne<Base>,
    }

    #[derive(Model, Debug, Clone)]
    #[model(app = "keepcycle")]
    pub struct Note {
        pub id: Option<i64>,
        #[one_to_one(on_delete = "cascade")]
        pub base: OneToOne<Base>,
    }
}

// ----------------------------------------------------------------- helpers

fn db() -> Result<Db> {
    let db = Db::open_in_memory()?;
    db.migrate()?;
    Ok(db)
}

fn owner(db: &Db, name: &str) -> Result<Owner> {
    Owner {
        id: None,
        name: name.into(),
    }
    .create(db)
}

fn user(db: &Db, name: &str) -> Result<User> {
    User {
        id: None,
        username: name.into(),
    }
    .create(db)
}

fn profile(db: &Db, u: &User) -> Result<Profile> {
    Profile {
        id: None,
        user: OneToOne::to(u),
        bio: None,
    }
    .create(db)
}

fn like(db: &Db, u: &User, name: &str) -> Result<Like> {
    let prof = PageOwnerProfile {
        id: None,
        user: OneToOne::to(u),
        name: name.into(),
    }
    .create(db)?;
    Like {
        page: Page {
            id: None,
            profile: OneToOne::to(&prof),
            page_name: name.into(),
        },
        likes: 1,
    }
    .create(db)
}

fn base(db: &Db, name: &str) -> Result<Base> {
    Base {
        id: None,
        name: name.into(),
    }
    .create(db)
}

fn child(db: &Db, name: &str) -> Result<Child> {
    Child {
        base: Base {
            id: None,
            name: name.into(),
        },
        extra: 1,
    }
    .create(db)
}

fn grandchild(db: &Db, name: &str) -> Result<GrandChild> {
    GrandChild {
        child: Child {
            base: Base {
                id: None,
                name: name.into(),
            },
            extra: 1,
        },
        more: 2,
    }
    .create(db)
}

fn blocker(model: &str, pk: i64, through: &str) -> Blocker {
    Blocker {
        model: model.into(),
        pk: pk.to_string(),
        through: through.into(),
    }
}

// ------------------------------------------------------------------ CASCADE

#[test]
fn cascade_deletes_the_dependent_and_counts_per_model() -> Result<()> {
    let db = db()?;
    let mut u = user(&db, "johndoe")?;
    profile(&db, &u)?;
    let deleted = u.delete(&db)?;
    assert_eq!(
        deleted.to_string(),
        r#"(2, {"app.Profile": 1, "auth.User": 1})"#
    );
    assert_eq!(deleted.total, 2);
    assert_eq!(deleted.count("app.Profile"), 1);
    assert_eq!(deleted.count("auth.User"), 1);
    assert_eq!(u.id, None, "the instance reads as unsaved");
    assert_eq!(Profile::objects().count(&db)?, 0);
    Ok(())
}

#[test]
fn cascade_without_dependents_deletes_one_row() -> Result<()> {
    let db = db()?;
    let mut u = user(&db, "alone")?;
    let keep = user(&db, "other")?;
    profile(&db, &keep)?;
    let deleted = u.delete(&db)?;
    assert_eq!(deleted.to_string(), r#"(1, {"auth.User": 1})"#);
    assert_eq!(
        Profile::objects().count(&db)?,
        1,
        "another user's profile stays"
    );
    Ok(())
}

#[test]
fn hidden_reverse_relation_still_cascades() -> Result<()> {
    let db = db()?;
    let mut u = user(&db, "ann")?;
    Audit {
        id: None,
        user: OneToOne::to(&u),
    }
    .create(&db)?;
    let deleted = u.delete(&db)?;
    assert_eq!(
        deleted.to_string(),
        r#"(2, {"app.Audit": 1, "auth.User": 1})"#
    );
    Ok(())
}

#[test]
fn cascade_through_to_field() -> Result<()> {
    let db = db()?;
    let mut acc = Account {
        id: None,
        code: "ACC-1".into(),
    }
    .create(&db)?;
    let other = Account {
        id: None,
        code: "ACC-2".into(),
    }
    .create(&db)?;
    Card {
        id: None,
        account: OneToOne::to(&acc),
    }
    .create(&db)?;
    Card {
        id: None,
        account: OneToOne::to(&other),
    }
    .create(&db)?;
    let deleted = acc.delete(&db)?;
    assert_eq!(
        deleted.to_string(),
        r#"(2, {"bank.Card": 1, "bank.Account": 1})"#
    );
    assert_eq!(Card::objects().count(&db)?, 1);
    Ok(())
}

#[test]
fn self_referential_cascade_reaches_the_whole_chain() -> Result<()> {
    let db = db()?;
    let mut first = Node {
        id: None,
        prev: None,
        name: "n0".into(),
    }
    .create(&db)?;
    let mut prev = first.clone();
    for i in 1..6 {
        prev = Node {
            id: None,
            prev: Some(OneToOne::to(&prev)),
            name: format!("n{i}"),
        }
        .create(&db)?;
    }
    let lonely = Node {
        id: None,
        prev: None,
        name: "lonely".into(),
    }
    .create(&db)?;
    let deleted = first.delete(&db)?;
    assert_eq!(deleted.to_string(), r#"(6, {"tree.Node": 6})"#);
    assert_eq!(Node::objects().count(&db)?, 1);
    assert!(Node::objects().filter(Q::kw("id", lonely.id)).exists(&db)?);

    // From the middle of a chain, by query.
    let mut prev = Node {
        id: None,
        prev: None,
        name: "m0".into(),
    }
    .create(&db)?;
    for i in 1..4 {
        prev = Node {
            id: None,
            prev: Some(OneToOne::to(&prev)),
            name: format!("m{i}"),
        }
        .create(&db)?;
    }
    let deleted = Node::objects().filter(Q::kw("name", "m2")).delete(&db)?;
    assert_eq!(deleted.to_string(), r#"(2, {"tree.Node": 2})"#);
    assert_eq!(Node::objects().count(&db)?, 3);
    Ok(())
}

#[test]
fn cascade_cycle_between_two_models() -> Result<()> {
    // ping1 <- pong1 <- ping2 <- pong2, each pointing at the previous one.
    let db = db()?;
    let mut ping1 = Ping {
        id: None,
        pong: None,
    }
    .create(&db)?;
    let pong1 = Pong {
        id: None,
        ping: Some(OneToOne::to(&ping1)),
    }
    .create(&db)?;
    let ping2 = Ping {
        id: None,
        pong: Some(OneToOne::to(&pong1)),
    }
    .create(&db)?;
    Pong {
        id: None,
        ping: Some(OneToOne::to(&ping2)),
    }
    .create(&db)?;
    let spare = Ping {
        id: None,
        pong: None,
    }
    .create(&db)?;
    let deleted = ping1.delete(&db)?;
    assert_eq!(deleted.total, 4, "{deleted}");
    assert_eq!(deleted.count("cycle.Ping"), 2, "{deleted}");
    assert_eq!(deleted.count("cycle.Pong"), 2, "{deleted}");
    assert_eq!(Ping::objects().count(&db)?, 1);
    assert!(Ping::objects().filter(Q::kw("id", spare.id)).exists(&db)?);

    // A cycle in the rows themselves ends too.
    let mut a = Ping {
        id: None,
        pong: None,
    }
    .create(&db)?;
    let b = Pong {
        id: None,
        ping: Some(OneToOne::to(&a)),
    }
    .create(&db)?;
    a.pong = Some(OneToOne::to(&b));
    a.save(&db)?;
    let deleted = Pong::objects().delete(&db)?;
    assert_eq!(deleted.total, 2, "{deleted}");
    assert_eq!(Ping::objects().count(&db)?, 1, "only the spare is left");
    Ok(())
}

// ------------------------------------------------------------------ PROTECT

#[test]
fn protect_refuses_and_names_the_blocking_objects() -> Result<()> {
    let db = db()?;
    let mut o = owner(&db, "o")?;
    let g = Guarded {
        id: None,
        owner: OneToOne::to(&o),
    }
    .create(&db)?;
    let before = db.query_count();
    let err = o.delete(&db).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Cannot delete some instances of model 'Owner' because they are referenced through protected foreign keys: 'Guarded.owner'."
    );
    match &err {
        Error::Protected {
            model,
            keys,
            objects,
        } => {
            assert_eq!(*model, "Owner");
            assert_eq!(keys, &["Guarded.owner"]);
            assert_eq!(
                objects,
                &[blocker("shop.Guarded", g.id.unwrap(), "Guarded.owner")]
            );
            assert_eq!(
                objects[0].to_string(),
                format!("shop.Guarded object ({})", g.id.unwrap())
            );
        }
        other => panic!("expected Protected, got {other:?}"),
    }
    assert!(db.query_count() > before);
    assert!(o.id.is_some(), "a refused delete keeps the key");
    assert_eq!(Owner::objects().count(&db)?, 1);
    assert_eq!(Guarded::objects().count(&db)?, 1);
    Ok(())
}

#[test]
fn protect_reached_through_a_cascade_is_keyed_by_the_cascading_field() -> Result<()> {
    // Django's test_protect_path.
    let db = db()?;
    let mut p = P {
        id: None,
        name: "p".into(),
    }
    .create(&db)?;
    let r = R {
        id: None,
        p: OneToOne::to(&p),
    }
    .create(&db)?;
    let a = A {
        id: None,
        protect: OneToOne::to(&r),
    }
    .create(&db)?;
    let err = p.delete(&db).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Cannot delete some instances of model 'P' because they are referenced through protected foreign keys: 'R.p'."
    );
    match &err {
        Error::Protected { objects, .. } => {
            assert_eq!(objects, &[blocker("paths.A", a.id.unwrap(), "A.protect")]);
        }
        other => panic!("expected Protected, got {other:?}"),
    }
    assert_eq!(R::objects().count(&db)?, 1, "nothing written");

    // Deleting R directly names the protecting field itself.
    let mut r = r;
    let err = r.delete(&db).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Cannot delete some instances of model 'R' because they are referenced through protected foreign keys: 'A.protect'."
    );
    Ok(())
}

#[test]
fn protect_wins_over_restrict() -> Result<()> {
    let db = db()?;
    let mut o = owner(&db, "o")?;
    Guarded {
        id: None,
        owner: OneToOne::to(&o),
    }
    .create(&db)?;
    Restricted {
        id: None,
        owner: OneToOne::to(&o),
    }
    .create(&db)?;
    assert!(matches!(o.delete(&db), Err(Error::Protected { .. })));
    Ok(())
}

// ----------------------------------------------------------------- RESTRICT

/// a1, a2, a3; al1 (a1), al2 (a2); s1 (a1, al1); s2 (a3, al2).
fn music(db: &Db) -> Result<(Vec<Artist>, Vec<Album>, Vec<Song>)> {
    let artists: Vec<Artist> = ["a1", "a2", "a3"]
        .iter()
        .map(|n| {
            Artist {
                id: None,
                name: n.to_string(),
            }
            .create(db)
        })
        .collect::<Result<_>>()?;
    let albums = vec![
        Album {
            id: None,
            artist: OneToOne::to(&artists[0]),
        }
        .create(db)?,
        Album {
            id: None,
            artist: OneToOne::to(&artists[1]),
        }
        .create(db)?,
    ];
    let songs = vec![
        Song {
            id: None,
            artist: OneToOne::to(&artists[0]),
            album: OneToOne::to(&albums[0]),
        }
        .create(db)?,
        Song {
            id: None,
            artist: OneToOne::to(&artists[2]),
            album: OneToOne::to(&albums[1]),
        }
        .create(db)?,
    ];
    Ok((artists, albums, songs))
}

#[test]
fn restrict_refuses_deleting_the_referenced_row() -> Result<()> {
    let db = db()?;
    let (_, mut albums, songs) = music(&db)?;
    let err = albums[0].delete(&db).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Cannot delete some instances of model 'Album' because they are referenced through restricted foreign keys: 'Song.album'."
    );
    match &err {
        Error::Restricted {
            model,
            keys,
            objects,
        } => {
            assert_eq!(*model, "Album");
            assert_eq!(keys, &["Song.album"]);
            assert_eq!(
                objects,
                &[blocker("music.Song", songs[0].id.unwrap(), "Song.album")]
            );
        }
        other => panic!("expected Restricted, got {other:?}"),
    }
    assert_eq!(Album::objects().count(&db)?, 2);
    Ok(())
}

#[test]
fn restrict_refuses_when_the_row_is_reached_only_through_the_restricted_path() -> Result<()> {
    // a2 -> al2 (CASCADE) <- s2 (RESTRICT); s2 belongs to a3, not cascaded from a2.
    let db = db()?;
    let (mut artists, _, songs) = music(&db)?;
    let err = artists[1].delete(&db).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Cannot delete some instances of model 'Artist' because they are referenced through restricted foreign keys: 'Song.album'."
    );
    match &err {
        Error::Restricted { objects, .. } => {
            assert_eq!(
                objects,
                &[blocker("music.Song", songs[1].id.unwrap(), "Song.album")]
            );
        }
        other => panic!("expected Restricted, got {other:?}"),
    }
    assert_eq!(Artist::objects().count(&db)?, 3);
    assert_eq!(Album::objects().count(&db)?, 2);
    Ok(())
}

#[test]
fn restrict_allowed_when_cascaded_from_elsewhere() -> Result<()> {
    // a1 cascades to al1 and to s1; s1 restricts al1 but is itself deleted.
    let db = db()?;
    let (mut artists, _, _) = music(&db)?;
    let deleted = artists[0].delete(&db)?;
    assert_eq!(
        deleted.to_string(),
        r#"(3, {"music.Song": 1, "music.Album": 1, "music.Artist": 1})"#
    );
    assert_eq!(Song::objects().count(&db)?, 1);
    // Deleting the restricting row itself is never refused.
    let deleted = artists[2].delete(&db)?;
    assert_eq!(
        deleted.to_string(),
        r#"(2, {"music.Song": 1, "music.Artist": 1})"#
    );
    Ok(())
}

#[test]
fn restrict_by_query_resolved_against_the_whole_delete() -> Result<()> {
    // Deleting a1 and a2 together: s1 is cascaded (a1), s2 is not (a3): refused.
    let db = db()?;
    let (_, _, songs) = music(&db)?;
    let err = Artist::objects()
        .filter(Q::kw_list("name__in", ["a1", "a2"]))
        .delete(&db)
        .unwrap_err();
    match &err {
        Error::Restricted { model, objects, .. } => {
            assert_eq!(*model, "Artist");
            assert_eq!(
                objects,
                &[blocker("music.Song", songs[1].id.unwrap(), "Song.album")]
            );
        }
        other => panic!("expected Restricted, got {other:?}"),
    }
    // With a3 in the delete, s2 is cascaded too.
    let deleted = Artist::objects().delete(&db)?;
    assert_eq!(
        deleted.to_string(),
        r#"(7, {"music.Song": 2, "music.Album": 2, "music.Artist": 3})"#
    );
    Ok(())
}

/// The nullable-artist music models: a1, a2; al1 (a1), al2 (a2); s1 (no
/// artist, al1), s2 (a2, al2). Deleting both artists cascades to both albums
/// and to s2; s1 is not deleted, so its RESTRICT key on al1 blocks.
macro_rules! restrict_through_a_null_key {
    ($m:ident) => {{
        use $m::{Album, Artist, Song};
        let db = db()?;
        let artists: Vec<Artist> = ["a1", "a2"]
            .iter()
            .map(|n| {
                Artist {
                    id: None,
                    name: n.to_string(),
                }
                .create(&db)
            })
            .collect::<Result<_>>()?;
        let albums: Vec<Album> = artists
            .iter()
            .map(|a| {
                Album {
                    id: None,
                    artist: OneToOne::to(a),
                }
                .create(&db)
            })
            .collect::<Result<_>>()?;
        let s1 = Song {
            id: None,
            artist: None,
            album: OneToOne::to(&albums[0]),
        }
        .create(&db)?;
        Song {
            id: None,
            artist: Some(OneToOne::to(&artists[1])),
            album: OneToOne::to(&albums[1]),
        }
        .create(&db)?;
        let label = format!("{}.Song", stringify!($m));

        for err in [
            artists[0].clone().delete(&db).unwrap_err(),
            Artist::objects().delete(&db).unwrap_err(),
        ] {
            assert_eq!(
                err.to_string(),
                "Cannot delete some instances of model 'Artist' because they are referenced through restricted foreign keys: 'Song.album'."
            );
            match &err {
                Error::Restricted {
                    model,
                    keys,
                    objects,
                } => {
                    assert_eq!(*model, "Artist");
                    assert_eq!(keys, &["Song.album"]);
                    assert_eq!(objects, &[blocker(&label, s1.id.unwrap(), "Song.album")]);
                }
                other => panic!("expected Restricted, got {other:?}"),
            }
            assert_eq!(Artist::objects().count(&db)?, 2, "nothing deleted");
            assert_eq!(Album::objects().count(&db)?, 2, "nothing deleted");
            assert_eq!(Song::objects().count(&db)?, 2, "nothing deleted");
        }

        // Deleting the song first lifts the restriction.
        Song::objects().filter(Q::kw("id", s1.id)).delete(&db)?;
        let deleted = Artist::objects().delete(&db)?;
        assert_eq!(deleted.total, 5, "{deleted}");
        Ok(())
    }};
}

#[test]
fn restrict_through_a_null_cascade_key_refuses() -> Result<()> {
    restrict_through_a_null_key!(nullkey)
}

#[test]
fn restrict_through_a_null_cascade_key_refuses_without_a_constraint() -> Result<()> {
    restrict_through_a_null_key!(nullkey_loose)
}

#[test]
fn restrict_through_a_to_field_of_a_deleted_row_with_no_code_refuses() -> Result<()> {
    // l1 (no code) <- r1 <- t (RESTRICT); t's label is l2, by code. Deleting
    // l1 does not cascade to t: "is t deleted" compares t's code with the
    // codes of the deleted labels, a NULL, and must still read as "no".
    use nullkey::{Label, Release, Track};
    let db = db()?;
    let mut l1 = Label {
        id: None,
        code: None,
    }
    .create(&db)?;
    let l2 = Label {
        id: None,
        code: Some(2),
    }
    .create(&db)?;
    let r1 = Release {
        id: None,
        label: OneToOne::to(&l1),
    }
    .create(&db)?;
    let t = Track {
        id: None,
        label: OneToOne::to(&l2),
        release: OneToOne::to(&r1),
    }
    .create(&db)?;
    match l1.delete(&db).unwrap_err() {
        Error::Restricted {
            model,
            keys,
            objects,
        } => {
            assert_eq!(model, "Label");
            assert_eq!(keys, ["Track.release"]);
            assert_eq!(
                objects,
                [blocker("nullkey.Track", t.id.unwrap(), "Track.release")]
            );
        }
        other => panic!("expected Restricted, got {other:?}"),
    }
    assert_eq!(Label::objects().count(&db)?, 2, "nothing deleted");
    assert_eq!(Release::objects().count(&db)?, 1, "nothing deleted");
    assert_eq!(Track::objects().count(&db)?, 1, "nothing deleted");
    Ok(())
}

// ----------------------------------------------- SET_NULL, SET_DEFAULT, SET

#[test]
fn set_null_clears_the_key_with_one_update() -> Result<()> {
    let db = db()?;
    let mut o = owner(&db, "o")?;
    let n = Nullable {
        id: None,
        owner: Some(OneToOne::to(&o)),
    }
    .create(&db)?;
    let (deleted, captured) = db.capture(|| o.delete(&db));
    assert_eq!(deleted?.to_string(), r#"(1, {"shop.Owner": 1})"#);
    let updates: Vec<&String> = captured
        .queries
        .iter()
        .filter(|q| q.starts_with("UPDATE"))
        .collect();
    assert!(
        updates
            .iter()
            .any(|q| q.starts_with(r#"UPDATE "shop_nullable" SET "owner_id" = ?"#)),
        "{captured:#?}"
    );
    let n = Nullable::get(&db, n.id.unwrap())?;
    assert!(n.owner.is_none());
    Ok(())
}

#[test]
fn set_default_points_at_the_default() -> Result<()> {
    let db = db()?;
    let fallback = owner(&db, "fallback")?;
    assert_eq!(fallback.id, Some(1));
    let mut o = owner(&db, "o")?;
    let d = Defaulted {
        id: None,
        owner: Some(OneToOne::to(&o)),
    }
    .create(&db)?;
    let deleted = o.delete(&db)?;
    assert_eq!(deleted.to_string(), r#"(1, {"shop.Owner": 1})"#);
    let d = Defaulted::get(&db, d.id.unwrap())?;
    assert_eq!(d.owner.as_ref().and_then(|r| r.id()), Some(1));
    Ok(())
}

#[test]
fn set_value_writes_the_value() -> Result<()> {
    let db = db()?;
    let mut o = owner(&db, "o")?;
    let m = Marked {
        id: None,
        owner: OneToOne::to(&o),
    }
    .create(&db)?;
    o.delete(&db)?;
    assert_eq!(Marked::get(&db, m.id.unwrap())?.owner.id(), Some(0));
    Ok(())
}

#[test]
fn do_nothing_leaves_a_dangling_key_without_a_constraint() -> Result<()> {
    let db = db()?;
    let mut o = owner(&db, "o")?;
    let id = o.id.unwrap();
    let l = Loose {
        id: None,
        owner: OneToOne::to(&o),
    }
    .create(&db)?;
    let deleted = o.delete(&db)?;
    assert_eq!(deleted.to_string(), r#"(1, {"shop.Owner": 1})"#);
    assert_eq!(Loose::get(&db, l.id.unwrap())?.owner.id(), Some(id));
    Ok(())
}

#[test]
fn do_nothing_with_a_constraint_fails_at_commit_and_keeps_everything() -> Result<()> {
    let db = db()?;
    let mut o = owner(&db, "o")?;
    let n = Nullable {
        id: None,
        owner: Some(OneToOne::to(&o)),
    }
    .create(&db)?;
    Strict {
        id: None,
        owner: OneToOne::to(&o),
    }
    .create(&db)?;
    let err = o.delete(&db).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Integrity {
                kind: orm_core::Constraint::ForeignKey,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(Owner::objects().count(&db)?, 1);
    assert!(
        Nullable::get(&db, n.id.unwrap())?.owner.is_some(),
        "the SET_NULL was rolled back"
    );
    Ok(())
}

#[test]
fn every_rule_at_once_on_the_seed_models() -> Result<()> {
    let db = db()?;
    let _fallback = owner(&db, "fallback")?;
    let mut o = owner(&db, "o")?;
    let id = o.id.unwrap();
    let n = Nullable {
        id: None,
        owner: Some(OneToOne::to(&o)),
    }
    .create(&db)?;
    let d = Defaulted {
        id: None,
        owner: Some(OneToOne::to(&o)),
    }
    .create(&db)?;
    let m = Marked {
        id: None,
        owner: OneToOne::to(&o),
    }
    .create(&db)?;
    let l = Loose {
        id: None,
        owner: OneToOne::to(&o),
    }
    .create(&db)?;
    let (deleted, captured) = db.capture(|| o.delete(&db));
    assert_eq!(deleted?.to_string(), r#"(1, {"shop.Owner": 1})"#);
    // One check per PROTECT/RESTRICT relation, one UPDATE per SET_* relation,
    // one DELETE; DO_NOTHING runs nothing.
    let count = |p: &str| captured.queries.iter().filter(|q| q.starts_with(p)).count();
    assert_eq!(count("SELECT"), 2, "{captured:#?}");
    assert_eq!(count("UPDATE"), 3, "{captured:#?}");
    assert_eq!(count("DELETE"), 1, "{captured:#?}");
    assert_eq!(captured.len(), 6, "{captured:#?}");
    assert!(Nullable::get(&db, n.id.unwrap())?.owner.is_none());
    assert_eq!(
        Defaulted::get(&db, d.id.unwrap())?
            .owner
            .and_then(|r| r.id()),
        Some(1)
    );
    assert_eq!(Marked::get(&db, m.id.unwrap())?.owner.id(), Some(0));
    assert_eq!(Loose::get(&db, l.id.unwrap())?.owner.id(), Some(id));
    Ok(())
}

// --------------------------------------------------- multi-table inheritance

#[test]
fn deleting_a_child_deletes_its_parent_rows() -> Result<()> {
    let db = db()?;
    let u = user(&db, "ann")?;
    let mut l = like(&db, &u, "p1")?;
    let deleted = l.delete(&db)?;
    assert_eq!(
        deleted.to_string(),
        r#"(2, {"seedapp.Like": 1, "seedapp.Page": 1})"#
    );
    assert_eq!(Page::objects().count(&db)?, 0);
    assert_eq!(
        PageOwnerProfile::objects().count(&db)?,
        1,
        "forward relations are not followed"
    );
    Ok(())
}

#[test]
fn deleting_a_parent_deletes_its_children() -> Result<()> {
    let db = db()?;
    let u = user(&db, "ann")?;
    let l = like(&db, &u, "p1")?;
    let mut page = Page::get(&db, l.page.id.unwrap())?;
    let deleted = page.delete(&db)?;
    assert_eq!(
        deleted.to_string(),
        r#"(2, {"seedapp.Like": 1, "seedapp.Page": 1})"#
    );
    assert_eq!(Like::objects().count(&db)?, 0);
    Ok(())
}

#[test]
fn cascade_down_the_seed_chain() -> Result<()> {
    let db = db()?;
    let mut u = user(&db, "ann")?;
    like(&db, &u, "p1")?;
    profile(&db, &u)?;
    let deleted = u.delete(&db)?;
    assert_eq!(deleted.total, 5, "{deleted}");
    for (label, n) in [
        ("app.Profile", 1),
        ("seedapp.Like", 1),
        ("seedapp.Page", 1),
        ("seedapp.PageOwnerProfile", 1),
        ("auth.User", 1),
    ] {
        assert_eq!(deleted.count(label), n, "{deleted}");
    }
    let order: Vec<&str> = deleted.per_model.iter().map(|(l, _)| l.as_str()).collect();
    let pos = |l: &str| order.iter().position(|x| *x == l).unwrap();
    assert!(
        pos("seedapp.Like") < pos("seedapp.Page"),
        "children first: {deleted}"
    );
    assert!(
        pos("seedapp.Page") < pos("seedapp.PageOwnerProfile"),
        "{deleted}"
    );
    assert_eq!(*order.last().unwrap(), "auth.User", "{deleted}");
    Ok(())
}

#[test]
fn protect_on_the_parent_blocks_deleting_the_child_unless_keep_parents() -> Result<()> {
    let db = db()?;
    let u = user(&db, "ann")?;
    let mut l = like(&db, &u, "p1")?;
    let page_id = l.page.id.unwrap();
    let g = PageGuard {
        id: None,
        page: OneToOne::from_key(page_id),
    }
    .create(&db)?;
    let err = l.delete(&db).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Cannot delete some instances of model 'Like' because they are referenced through protected foreign keys: 'PageGuard.page'."
    );
    match &err {
        Error::Protected { objects, .. } => {
            assert_eq!(
                objects,
                &[blocker(
                    "seedapp.PageGuard",
                    g.id.unwrap(),
                    "PageGuard.page"
                )]
            )
        }
        other => panic!("expected Protected, got {other:?}"),
    }
    let deleted = l.delete_keep_parents(&db)?;
    assert_eq!(deleted.to_string(), r#"(1, {"seedapp.Like": 1})"#);
    assert_eq!(l.page.id, None);
    assert!(Page::objects().filter(Q::kw("id", page_id)).exists(&db)?);
    assert_eq!(PageGuard::objects().count(&db)?, 1);
    Ok(())
}

#[test]
fn protect_on_a_parent_is_reported_through_the_child_too() -> Result<()> {
    // Django: the page's own relation, and the Like collected through its
    // parent link (whose inherited relations include PageGuard.page).
    let db = db()?;
    let u = user(&db, "ann")?;
    let l = like(&db, &u, "p1")?;
    let g = PageGuard {
        id: None,
        page: OneToOne::from_key(l.page.id.unwrap()),
    }
    .create(&db)?;
    let mut page = Page::get(&db, l.page.id.unwrap())?;
    match page.delete(&db).unwrap_err() {
        Error::Protected {
            model,
            keys,
            objects,
        } => {
            assert_eq!(model, "Page");
            assert_eq!(keys, ["Like.page_ptr", "PageGuard.page"]);
            assert_eq!(
                objects,
                [blocker(
                    "seedapp.PageGuard",
                    g.id.unwrap(),
                    "PageGuard.page"
                )]
            );
        }
        other => panic!("expected Protected, got {other:?}"),
    }
    Ok(())
}

#[test]
fn three_levels_delete_both_ways() -> Result<()> {
    let db = db()?;
    grandchild(&db, "g3")?;
    grandchild(&db, "g4")?;
    let deleted = Base::objects().filter(Q::kw("name", "g3")).delete(&db)?;
    assert_eq!(
        deleted.to_string(),
        r#"(3, {"mti.GrandChild": 1, "mti.Child": 1, "mti.Base": 1})"#
    );

    let mut c = child(&db, "c1")?;
    let deleted = c.delete(&db)?;
    assert_eq!(
        deleted.to_string(),
        r#"(2, {"mti.Child": 1, "mti.Base": 1})"#
    );

    let mut g = GrandChild::objects().get(&db)?;
    let deleted = g.delete(&db)?;
    assert_eq!(
        deleted.to_string(),
        r#"(3, {"mti.GrandChild": 1, "mti.Child": 1, "mti.Base": 1})"#
    );
    assert_eq!(Base::objects().count(&db)?, 0);
    Ok(())
}

#[test]
fn keep_parents_deletes_the_child_row_only() -> Result<()> {
    let db = db()?;
    let mut g = grandchild(&db, "g1")?;
    let id = g.child.base.id.unwrap();
    let t = Tagged {
        id: None,
        base: OneToOne::from_key(id),
    }
    .create(&db)?;
    let deleted = g.delete_keep_parents(&db)?;
    assert_eq!(deleted.to_string(), r#"(1, {"mti.GrandChild": 1})"#);
    assert!(Child::objects().filter(Q::kw("id", id)).exists(&db)?);
    assert!(Base::objects().filter(Q::kw("id", id)).exists(&db)?);
    assert!(
        Tagged::objects().filter(Q::kw("id", t.id)).exists(&db)?,
        "relations to parents are kept"
    );

    // Without keep_parents, relations pointing at the ancestors apply.
    let mut c = Child::get(&db, id)?;
    let deleted = c.delete(&db)?;
    assert_eq!(
        deleted.to_string(),
        r#"(3, {"mti.Tagged": 1, "mti.Child": 1, "mti.Base": 1})"#
    );
    Ok(())
}

#[test]
fn keep_parents_holds_when_a_cascade_comes_back_to_the_child() -> Result<()> {
    // k -> t (Tail.kid CASCADE) -> k (Kid.back CASCADE). Django collects k
    // once, as the root: its parent row stays, and so do the rows pointing
    // at it (the guard does not block, the note is not cascaded).
    use keepcycle::{Base, Guard, Kid, Note, Tail};
    let db = db()?;
    let mut k = Kid {
        base: Base {
            id: None,
            name: "k".into(),
        },
        back: None,
    }
    .create(&db)?;
    let t = Tail {
        id: None,
        kid: OneToOne::to(&k),
    }
    .create(&db)?;
    k.back = Some(OneToOne::to(&t));
    k.save(&db)?;
    let id = k.base.id.unwrap();
    Guard {
        id: None,
        base: OneToOne::from_key(id),
    }
    .create(&db)?;
    Note {
        id: None,
        base: OneToOne::from_key(id),
    }
    .create(&db)?;
    let deleted = k.delete_keep_parents(&db)?;
    assert_eq!(deleted.total, 2, "{deleted}");
    assert_eq!(deleted.count("keepcycle.Kid"), 1, "{deleted}");
    assert_eq!(deleted.count("keepcycle.Tail"), 1, "{deleted}");
    assert!(Base::objects().filter(Q::kw("id", id)).exists(&db)?);
    assert_eq!(Guard::objects().count(&db)?, 1);
    assert_eq!(Note::objects().count(&db)?, 1);
    Ok(())
}

#[test]
fn keep_parents_with_a_grandchild_leaves_the_kept_parent_row_alone() -> Result<()> {
    // The grandchild goes with the child, through its parent link; the base
    // row stays, so the keys pointing at it neither block nor cascade.
    // (Django re-applies the base's relations from the grandchild, which
    // would raise ProtectedError here and delete the note.)
    use keepcycle::{Base, Grand, Guard, Kid, Note};
    let db = db()?;
    let g = Grand {
        kid: Kid {
            base: Base {
                id: None,
                name: "g".into(),
            },
            back: None,
        },
    }
    .create(&db)?;
    let id = g.kid.base.id.unwrap();
    Guard {
        id: None,
        base: OneToOne::from_key(id),
    }
    .create(&db)?;
    Note {
        id: None,
        base: OneToOne::from_key(id),
    }
    .create(&db)?;
    let deleted = Kid::get(&db, id)?.delete_keep_parents(&db)?;
    assert_eq!(
        deleted.to_string(),
        r#"(2, {"keepcycle.Grand": 1, "keepcycle.Kid": 1})"#
    );
    assert!(Base::objects().filter(Q::kw("id", id)).exists(&db)?);
    assert_eq!(Guard::objects().count(&db)?, 1);
    assert_eq!(Note::objects().count(&db)?, 1);
    Ok(())
}

#[test]
fn query_on_a_child_filtering_a_parent_field_deletes_both_tables() -> Result<()> {
    // The key query reads the parent table, which is deleted too: the keys
    // are materialized first.
    let db = db()?;
    child(&db, "c1")?;
    child(&db, "c2")?;
    let keep = base(&db, "c1")?;
    let deleted = Child::objects().filter(Q::kw("name", "c1")).delete(&db)?;
    assert_eq!(
        deleted.to_string(),
        r#"(2, {"mti.Child": 1, "mti.Base": 1})"#
    );
    assert_eq!(Child::objects().count(&db)?, 1);
    assert_eq!(Base::objects().count(&db)?, 2);
    assert!(Base::objects().filter(Q::kw("id", keep.id)).exists(&db)?);
    Ok(())
}

#[test]
fn a_root_query_with_a_subquery_is_read_before_any_write() -> Result<()> {
    // The filter reads Profile, which the delete empties first: the keys are
    // stored before any write.
    let db = db()?;
    for name in ["a", "b", "c"] {
        let u = user(&db, name)?;
        if name != "c" {
            profile(&db, &u)?;
        }
    }
    let with_profile = Profile::objects().values(Profile::user().key());
    let (deleted, captured) = db.capture(|| {
        User::objects()
            .filter(User::id().in_query(with_profile))
            .delete(&db)
    });
    assert_eq!(
        deleted?.to_string(),
        r#"(4, {"app.Profile": 2, "auth.User": 2})"#
    );
    assert!(
        captured
            .queries
            .iter()
            .any(|q| q.contains("orm_delete_keys")),
        "{captured:#?}"
    );
    assert_eq!(User::objects().get(&db)?.username, "c");
    Ok(())
}

// -------------------------------------------------------------------- hooks

#[test]
fn hooks_run_in_delete_order_ascending_then_descending() -> Result<()> {
    let db = db()?;
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut ids = Vec::new();
    for name in ["u1", "u2"] {
        let u = user(&db, name)?;
        let p = profile(&db, &u)?;
        ids.push((u.id.unwrap(), p.id.unwrap()));
    }
    let l = log.clone();
    db.on_pre_delete::<User>(move |_, u| {
        l.lock()
            .unwrap()
            .push(format!("pre User {}", u.id.unwrap()));
        Ok(())
    });
    let l = log.clone();
    db.on_post_delete::<User>(move |_, u| {
        l.lock()
            .unwrap()
            .push(format!("post User {}", u.id.unwrap()));
        Ok(())
    });
    let l = log.clone();
    db.on_pre_delete::<Profile>(move |_, p| {
        l.lock()
            .unwrap()
            .push(format!("pre Profile {}", p.id.unwrap()));
        Ok(())
    });
    let l = log.clone();
    db.on_post_delete::<Profile>(move |db, p| {
        // The model's rows are gone, the next model's are not.
        assert!(!Profile::objects().filter(Q::kw("id", p.id)).exists(db)?);
        assert_eq!(User::objects().count(db)?, 2);
        l.lock()
            .unwrap()
            .push(format!("post Profile {}", p.id.unwrap()));
        Ok(())
    });
    let deleted = User::objects().delete(&db)?;
    assert_eq!(
        deleted.to_string(),
        r#"(4, {"app.Profile": 2, "auth.User": 2})"#
    );
    let (u1, p1) = ids[0];
    let (u2, p2) = ids[1];
    assert_eq!(
        *log.lock().unwrap(),
        vec![
            format!("pre Profile {p1}"),
            format!("pre Profile {p2}"),
            format!("pre User {u1}"),
            format!("pre User {u2}"),
            format!("post Profile {p2}"),
            format!("post Profile {p1}"),
            format!("post User {u2}"),
            format!("post User {u1}"),
        ]
    );
    Ok(())
}

#[test]
fn hooks_fire_for_parent_rows_of_a_child() -> Result<()> {
    let db = db()?;
    let u = user(&db, "ann")?;
    let mut l = like(&db, &u, "p1")?;
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let lg = log.clone();
    db.on_pre_delete::<Page>(move |_, p| {
        lg.lock().unwrap().push(format!("pre Page {}", p.page_name));
        Ok(())
    });
    let lg = log.clone();
    db.on_pre_delete::<Like>(move |_, l| {
        lg.lock()
            .unwrap()
            .push(format!("pre Like {}", l.page.page_name));
        Ok(())
    });
    l.delete(&db)?;
    assert_eq!(*log.lock().unwrap(), vec!["pre Like p1", "pre Page p1"]);
    Ok(())
}

#[test]
fn a_failing_hook_midway_rolls_back_everything() -> Result<()> {
    let db = db()?;
    let mut u = user(&db, "ann")?;
    profile(&db, &u)?;
    like(&db, &u, "p1")?;
    // Profile and the seed chain go first; the User's post_delete refuses.
    db.on_post_delete::<User>(|_, _| Err(Error::hook("undo")));
    let err = u.delete(&db).unwrap_err();
    assert!(
        matches!(&err, Error::Hook { hook: "post_delete", model: "User", message } if message == "undo"),
        "{err:?}"
    );
    assert_eq!(u.id, Some(1), "a failed delete keeps the key");
    assert_eq!(User::objects().count(&db)?, 1);
    assert_eq!(Profile::objects().count(&db)?, 1);
    assert_eq!(Like::objects().count(&db)?, 1);
    assert_eq!(Page::objects().count(&db)?, 1);
    assert_eq!(PageOwnerProfile::objects().count(&db)?, 1);
    Ok(())
}

#[test]
fn without_hooks_no_row_is_loaded() -> Result<()> {
    let db = db()?;
    let mut u = user(&db, "ann")?;
    profile(&db, &u)?;
    let (deleted, captured) = db.capture(|| u.delete(&db));
    assert_eq!(
        deleted?.to_string(),
        r#"(2, {"app.Profile": 1, "auth.User": 1})"#
    );
    // The only SELECT is the PROTECT check of PageGuard (reached through the
    // seed chain); the profile is deleted by its key column, as Django's fast
    // delete does.
    let selects: Vec<&String> = captured
        .queries
        .iter()
        .filter(|q| q.starts_with("SELECT"))
        .collect();
    assert_eq!(selects.len(), 1, "{captured:#?}");
    assert!(
        selects[0].starts_with(r#"SELECT "seedapp_pageguard"."id", ? FROM "seedapp_pageguard""#)
    );
    assert!(captured
        .queries
        .contains(&r#"DELETE FROM "app_profile" WHERE "app_profile"."user_id" = ?"#.to_string()));
    assert!(captured
        .queries
        .contains(&r#"DELETE FROM "auth_user" WHERE "auth_user"."id" = ?"#.to_string()));
    Ok(())
}

// ------------------------------------------------------------- set-based SQL

/// `n` users, each with a profile and the seed chain down to a Like.
fn populate(n: usize) -> Result<Db> {
    let db = db()?;
    db.atomic(|db| {
        for i in 0..n {
            let u = user(db, &format!("user{i}"))?;
            profile(db, &u)?;
            like(db, &u, &format!("page{i}"))?;
        }
        Ok(())
    })?;
    Ok(db)
}

#[test]
fn statement_count_does_not_grow_with_rows() -> Result<()> {
    let mut counts = Vec::new();
    for n in [10, 10_000] {
        let db = populate(n)?;
        let (deleted, captured) = db.capture(|| User::objects().delete(&db));
        let deleted = deleted?;
        assert_eq!(deleted.total, 5 * n as u64, "{deleted}");
        assert_eq!(deleted.count("seedapp.Like"), n as u64);
        assert_eq!(deleted.count("seedapp.Page"), n as u64);
        assert!(
            captured
                .queries
                .iter()
                .all(|q| !q.contains("orm_delete_keys")),
            "no materialization in the acyclic case: {captured:#?}"
        );
        assert_eq!(Page::objects().count(&db)?, 0);
        counts.push(captured.len());
    }
    assert_eq!(counts[0], counts[1]);
    Ok(())
}

#[test]
fn a_long_key_list_never_hits_the_parameter_limit() -> Result<()> {
    let db = populate(1_500)?;
    let ids: Vec<i64> = (1..=1_500).collect();
    let (deleted, captured) = db.capture(|| {
        User::objects()
            .filter(Q::kw_list("id__in", ids.iter().copied()))
            .delete(&db)
    });
    assert_eq!(deleted?.total, 5 * 1_500);
    // The key list is bound once as one JSON array (json_each), so no
    // statement binds more than a handful of values, whatever the length.
    let binds = |q: &str| q.matches('?').count();
    assert!(
        captured.queries.iter().any(|q| q.contains("json_each")),
        "{captured:#?}"
    );
    assert!(captured.queries.iter().all(|q| binds(q) <= 8));
    Ok(())
}

// ----------------------------------------------------------------- edge cases

#[test]
fn deleting_an_unsaved_instance_is_an_error() -> Result<()> {
    let db = db()?;
    let mut o = Owner {
        id: None,
        name: "x".into(),
    };
    let err = o.delete(&db).unwrap_err();
    assert!(
        matches!(
            err,
            Error::DeleteUnsaved {
                model: "Owner",
                pk: "id"
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "Owner object can't be deleted because its id attribute is set to None."
    );
    Ok(())
}

#[test]
fn a_delete_matching_nothing_returns_zero() -> Result<()> {
    let db = db()?;
    owner(&db, "x")?;
    let deleted = Owner::objects()
        .filter(Q::kw("name", "nobody"))
        .delete(&db)?;
    assert_eq!(deleted, Deleted::default());
    assert_eq!(deleted.to_string(), "(0, {})");
    let (deleted, captured) = db.capture(|| {
        Owner::objects()
            .filter(Q::kw_list("id__in", Vec::<i64>::new()))
            .delete(&db)
    });
    assert_eq!(deleted?.to_string(), "(0, {})");
    assert!(captured.is_empty(), "{captured:#?}");
    assert_eq!(Owner::objects().count(&db)?, 1);
    Ok(())
}

#[test]
fn deleting_an_already_deleted_instance_returns_zero() -> Result<()> {
    let db = db()?;
    let o = owner(&db, "x")?;
    let mut again = o.clone();
    let mut o = o;
    o.delete(&db)?;
    assert_eq!(again.delete(&db)?.to_string(), "(0, {})");
    Ok(())
}

#[test]
fn a_query_delete_with_slicing_is_refused() -> Result<()> {
    let db = db()?;
    let err = Owner::objects().limit(1).delete(&db).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Cannot use 'limit' or 'offset' with delete()."
    );
    Ok(())
}
