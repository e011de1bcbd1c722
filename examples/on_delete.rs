//! Every `on_delete` rule on the seed models: an `Owner` with `Guarded`
//! (PROTECT), `Nullable` (SET_NULL), `Defaulted` (SET_DEFAULT), `Loose`
//! (DO_NOTHING), `Restricted` (RESTRICT), plus `Badge` (CASCADE) and `Marked`
//! (SET(value)); then Django's RESTRICT exception on Artist/Album/Song.
//!
//! Run with `cargo run --example on_delete`.

use orm_core::prelude::*;

#[derive(Model, Debug, Clone)]
#[model(app = "shop")]
pub struct Owner {
    pub id: Option<i64>,
    #[field(max_length = 100)]
    pub name: String,
}

/// `OneToOneField(Owner, on_delete=PROTECT)`
#[derive(Model, Debug, Clone)]
#[model(app = "shop")]
pub struct Guarded {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "protect")]
    pub owner: OneToOne<Owner>,
}

/// `OneToOneField(Owner, on_delete=SET_NULL, null=True)`
#[derive(Model, Debug, Clone)]
#[model(app = "shop")]
pub struct Nullable {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "set_null")]
    pub owner: Option<OneToOne<Owner>>,
}

/// `OneToOneField(Owner, on_delete=SET_DEFAULT, null=True, default=...)`: the
/// seed's default is None; here it is the fallback owner (id 1), to show the
/// value being written.
#[derive(Model, Debug, Clone)]
#[model(app = "shop")]
pub struct Defaulted {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "set_default", default = 1)]
    pub owner: Option<OneToOne<Owner>>,
}

/// `OneToOneField(Owner, on_delete=DO_NOTHING, db_constraint=False)`
#[derive(Model, Debug, Clone)]
#[model(app = "shop")]
pub struct Loose {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "do_nothing", db_constraint = false)]
    pub owner: OneToOne<Owner>,
}

/// `OneToOneField(Owner, on_delete=RESTRICT)`
#[derive(Model, Debug, Clone)]
#[model(app = "shop")]
pub struct Restricted {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "restrict")]
    pub owner: OneToOne<Owner>,
}

/// `OneToOneField(Owner, on_delete=CASCADE)`
#[derive(Model, Debug, Clone)]
#[model(app = "shop")]
pub struct Badge {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade")]
    pub owner: OneToOne<Owner>,
}

/// `OneToOneField(Owner, on_delete=SET(0), db_constraint=False)`: 0 is a sentinel.
#[derive(Model, Debug, Clone)]
#[model(app = "shop")]
pub struct Marked {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "set(0)", db_constraint = false)]
    pub owner: OneToOne<Owner>,
}

/// Django's RESTRICT example: Album and Song cascade from Artist, Song also
/// restricts deleting its Album.
#[derive(Model, Debug, Clone)]
#[model(app = "music")]
pub struct Artist {
    pub id: Option<i64>,
    #[field(max_length = 50)]
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

fn owner(db: &Db, name: &str) -> Result<Owner> {
    Owner {
        id: None,
        name: name.into(),
    }
    .create(db)
}

/// Prints a delete's result the way Django's shell shows it.
fn show(what: &str, r: Result<Deleted>) {
    match r {
        Ok(deleted) => println!("{what}: {deleted}"),
        Err(e) => println!("{what}: {e}"),
    }
}

fn main() -> Result<()> {
    let db = Db::open_in_memory()?;
    db.migrate()?;
    let fallback = owner(&db, "fallback")?;
    println!(
        "fallback owner id = {:?} (the SET_DEFAULT target)",
        fallback.id
    );

    // CASCADE: the badge goes with its owner.
    let mut o = owner(&db, "cascade")?;
    Badge {
        id: None,
        owner: OneToOne::to(&o),
    }
    .create(&db)?;
    show("CASCADE     owner.delete()", o.delete(&db));

    // PROTECT: refused, nothing deleted; delete the guard first.
    let mut o = owner(&db, "protect")?;
    let mut g = Guarded {
        id: None,
        owner: OneToOne::to(&o),
    }
    .create(&db)?;
    match o.delete(&db) {
        Err(e @ Error::Protected { .. }) => {
            println!("PROTECT     owner.delete(): {e}");
            if let Error::Protected { objects, .. } = &e {
                for b in objects {
                    println!("            blocked by {b} through '{}'", b.through);
                }
            }
        }
        other => println!("PROTECT     owner.delete(): {other:?}"),
    }
    show("            guarded.delete()", g.delete(&db));
    show("            owner.delete()", o.delete(&db));

    // SET_NULL: one UPDATE, the row stays.
    let mut o = owner(&db, "set_null")?;
    let n = Nullable {
        id: None,
        owner: Some(OneToOne::to(&o)),
    }
    .create(&db)?;
    show("SET_NULL    owner.delete()", o.delete(&db));
    let n = Nullable::get(&db, n.id)?;
    println!(
        "            nullable.owner_id = {:?}",
        n.owner.as_ref().and_then(|r| r.id())
    );

    // SET_DEFAULT: the key becomes the field's default.
    let mut o = owner(&db, "set_default")?;
    let d = Defaulted {
        id: None,
        owner: Some(OneToOne::to(&o)),
    }
    .create(&db)?;
    show("SET_DEFAULT owner.delete()", o.delete(&db));
    let d = Defaulted::get(&db, d.id)?;
    println!(
        "            defaulted.owner_id = {:?}",
        d.owner.as_ref().and_then(|r| r.id())
    );

    // SET(value): the key becomes the value.
    let mut o = owner(&db, "set")?;
    let m = Marked {
        id: None,
        owner: OneToOne::to(&o),
    }
    .create(&db)?;
    show("SET(0)      owner.delete()", o.delete(&db));
    println!(
        "            marked.owner_id = {:?}",
        Marked::get(&db, m.id)?.owner.id()
    );

    // DO_NOTHING: without a constraint the key is left dangling.
    let mut o = owner(&db, "do_nothing")?;
    let l = Loose {
        id: None,
        owner: OneToOne::to(&o),
    }
    .create(&db)?;
    show("DO_NOTHING  owner.delete()", o.delete(&db));
    println!(
        "            loose.owner_id = {:?} (dangling)",
        Loose::get(&db, l.id)?.owner.id()
    );

    // RESTRICT: refused while the restricted row stays.
    let mut o = owner(&db, "restrict")?;
    let mut r = Restricted {
        id: None,
        owner: OneToOne::to(&o),
    }
    .create(&db)?;
    show("RESTRICT    owner.delete()", o.delete(&db));
    show("            restricted.delete()", r.delete(&db));
    show("            owner.delete()", o.delete(&db));

    // RESTRICT's exception: allowed when the restricting row is deleted by a
    // CASCADE of the same delete. a1 -> al1, a1 -> s1 -> al1; s2 (of a3) -> al2 (of a2).
    let artists: Vec<Artist> = ["a1", "a2", "a3"]
        .into_iter()
        .map(|name| {
            Artist {
                id: None,
                name: name.into(),
            }
            .create(&db)
        })
        .collect::<Result<_>>()?;
    let al1 = Album {
        id: None,
        artist: OneToOne::to(&artists[0]),
    }
    .create(&db)?;
    let al2 = Album {
        id: None,
        artist: OneToOne::to(&artists[1]),
    }
    .create(&db)?;
    Song {
        id: None,
        artist: OneToOne::to(&artists[0]),
        album: OneToOne::to(&al1),
    }
    .create(&db)?;
    Song {
        id: None,
        artist: OneToOne::to(&artists[2]),
        album: OneToOne::to(&al2),
    }
    .create(&db)?;
    let (mut a1, mut a2) = (artists[0].clone(), artists[1].clone());
    show("RESTRICT    album1.delete()", al1.clone().delete(&db));
    show("RESTRICT    artist2.delete()", a2.delete(&db));
    show("RESTRICT    artist1.delete()", a1.delete(&db));

    // Deleting a whole query: set-based, one statement per table.
    for name in ["q1", "q2", "q3"] {
        let o = owner(&db, name)?;
        Badge {
            id: None,
            owner: OneToOne::to(&o),
        }
        .create(&db)?;
    }
    let (r, captured) = db.capture(|| {
        Owner::objects()
            .filter(Q::kw("name__startswith", "q"))
            .delete(&db)
    });
    show(
        "QUERY       Owner.objects.filter(name__startswith=\"q\").delete()",
        r,
    );
    println!("            in {} statements:", captured.len());
    for q in &captured.queries {
        println!("              {q}");
    }
    Ok(())
}
