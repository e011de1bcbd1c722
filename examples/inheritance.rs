//! Seeds 002 and 004: multi-table inheritance.
//!
//! * Seed 002's chain `User -> PageOwnerProfile -> Page -> Like`, where
//!   `Like(Page)` is a multi-table child with the implicit `page_ptr` key.
//! * Seed 004's `Husband(Women)` with an explicit parent link
//!   `wife = OneToOneField(Women, parent_link=True, related_name="husband")`.
//!
//! Run with `cargo run --example inheritance`.

use orm_core::prelude::*;

/// Django's `auth.User`, reduced to what the tutorials use.
#[derive(Model, Debug, Clone)]
#[model(app = "auth")]
pub struct User {
    pub id: Option<i32>,
    #[field(unique, max_length = 150)]
    pub username: String,
}

/// `PageOwnerProfile.user = OneToOneField(User, on_delete=CASCADE)`
#[derive(Model, Debug, Clone)]
#[model(app = "seedapp")]
pub struct PageOwnerProfile {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade")]
    pub user: OneToOne<User>,
    #[field(max_length = 255)]
    pub name: String,
    #[field(max_length = 255)]
    pub city: String,
}

/// `Page.profile = OneToOneField(PageOwnerProfile, on_delete=CASCADE)`
#[derive(Model, Debug, Clone)]
#[model(app = "seedapp")]
pub struct Page {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade")]
    pub profile: OneToOne<PageOwnerProfile>,
    #[field(max_length = 255)]
    pub page_name: String,
}

/// `class Like(Page): likes = models.IntegerField()`. The key column is
/// `page_ptr_id`; `Like` derefs to `Page`, so `like.page_name` works.
#[derive(Model, Debug, Clone)]
#[model(app = "seedapp")]
pub struct Like {
    #[parent]
    pub page: Page,
    pub likes: i32,
}

/// Seed 004's `Women`.
#[derive(Model, Debug, Clone)]
#[model(app = "seedapp")]
pub struct Women {
    pub id: Option<i64>,
    #[field(max_length = 100)]
    pub name: String,
}

/// `class Husband(Women)` with the explicit parent link `wife` (column `wife_id`).
#[derive(Model, Debug, Clone)]
#[model(app = "seedapp")]
pub struct Husband {
    #[one_to_one(parent_link, on_delete = "cascade", related_name = "husband")]
    pub wife: Women,
    pub age: Option<i32>,
}

fn profile_for(db: &Db, username: &str, city: &str) -> orm_core::Result<PageOwnerProfile> {
    let user = User {
        id: None,
        username: username.into(),
    }
    .create(db)?;
    PageOwnerProfile {
        id: None,
        user: OneToOne::to(&user),
        name: username.into(),
        city: city.into(),
    }
    .create(db)
}

fn main() -> orm_core::Result<()> {
    let db = Db::open_in_memory()?;
    db.migrate()?;

    println!("== DDL (as `sqlmigrate` prints it)");
    for model in [Like::META, Husband::META] {
        println!("{}", orm_core::schema::create_table(model).sql);
    }

    println!("\n== seed 002: User -> PageOwnerProfile -> Page -> Like");
    // Like.objects.create(profile=profile, page_name="John's page", likes=10):
    // the page row, then the like row, in one transaction.
    let john = profile_for(&db, "john", "Paris")?;
    let mut like = Like {
        page: Page {
            id: None,
            profile: OneToOne::to(&john),
            page_name: "John's page".into(),
        },
        likes: 10,
    };
    let (saved, captured) = db.capture(|| like.save(&db));
    saved?;
    for sql in &captured.queries {
        println!("  {sql}");
    }
    println!(
        "saved like: page id {:?} = like pk {:?}, page_name {:?}, likes {}",
        like.id,
        like.pk(),
        like.page_name,
        like.likes
    );

    let jane = profile_for(&db, "jane", "Oslo")?;
    Like {
        page: Page {
            id: None,
            profile: OneToOne::to(&jane),
            page_name: "Jane's page".into(),
        },
        likes: 3,
    }
    .create(&db)?;
    let ann = profile_for(&db, "ann", "Rome")?;
    let plain = Page {
        id: None,
        profile: OneToOne::to(&ann),
        page_name: "Ann's page".into(),
    }
    .create(&db)?;

    // Like.objects.get(pk=...): one statement joining the page table.
    let (loaded, captured) = db.capture(|| Like::get(&db, like.id));
    let mut loaded = loaded?;
    println!(
        "loaded in {} statement: {}",
        captured.len(),
        captured.queries[0]
    );
    println!(
        "like.page_name = {:?}, like.likes = {}",
        loaded.page_name, loaded.likes
    );

    // Filters and ordering on the parent's fields.
    let names: Vec<String> = Like::objects()
        .filter(Page::page_name().ends_with("page"))
        .order_by("-page_name")
        .all(&db)?
        .into_iter()
        .map(|l| format!("{} ({} likes)", l.page.page_name, l.likes))
        .collect();
    println!("likes ordered by -page_name: {names:?}");
    let in_paris = Like::objects()
        .filter(Q::kw("profile__city", "Paris"))
        .count(&db)?;
    println!("likes whose page owner lives in Paris: {in_paris}");

    // page.like: the reverse accessor from parent to child.
    let page = Page::get(&db, like.id)?;
    println!("page.like.likes = {}", page.like(&db)?.likes);
    match plain.like(&db) {
        Err(e) => println!("plain page .like -> {e}"),
        Ok(l) => println!("plain page .like -> {l:?}"),
    }
    println!(
        "getattr(plain, \"like\", None) -> {:?}",
        plain.like_opt(&db)?.map(|l| l.likes)
    );
    println!(
        "pages that are not likes: {:?}",
        Page::objects()
            .filter(Q::kw("like__isnull", true))
            .all(&db)?
            .iter()
            .map(|p| p.page_name.as_str())
            .collect::<Vec<_>>()
    );

    // Turning the existing plain page into a Like without touching its
    // columns (Django ticket #7623): only the like row is inserted.
    let mut promoted = Like {
        page: Page {
            id: plain.id,
            profile: OneToOne::default(),
            page_name: String::new(),
        },
        likes: 1,
    };
    promoted.extend_parent(&db)?;
    println!(
        "extend_parent: {:?} is now a Like with {} like(s), page_name kept",
        promoted.page_name, promoted.likes
    );

    println!("\n== seed 004: Women / Husband (explicit parent link)");
    // Husband.objects.create(name="Jack", age=32): a women row and a husband row.
    let mut jack = Husband {
        wife: Women {
            id: None,
            name: "Jack".into(),
        },
        age: Some(32),
    }
    .create(&db)?;
    println!(
        "created husband: wife_id {:?}, name {:?}, age {:?}",
        jack.wife.id, jack.name, jack.age
    );

    // w = Women.objects.get(pk=...); w.husband = h; (saves the husband side)
    let mut w = Women {
        id: None,
        name: "Mary".into(),
    }
    .create(&db)?;
    println!(
        "mary.husband before -> {:?}",
        w.husband(&db).map(|h| h.age).map_err(|e| e.to_string())
    );
    let mut h = Husband {
        wife: Women {
            id: None,
            name: String::new(),
        },
        age: Some(35),
    };
    w.set_husband(&db, &mut h)?;
    println!(
        "mary.husband after -> age {:?}, wife_id {:?}",
        w.husband(&db)?.age,
        h.wife.id
    );
    println!(
        "women with a husband over 33: {:?}",
        Women::objects()
            .filter(Q::kw("husband__age__gt", 33))
            .all(&db)?
            .iter()
            .map(|w| w.name.as_str())
            .collect::<Vec<_>>()
    );

    println!("\n== deletes");
    // Deleting a child deletes its parent row; keep_parents keeps it.
    println!("like.delete() -> {}", loaded.delete(&db)?);
    println!(
        "promoted.delete(keep_parents=True) -> {}",
        promoted.delete_keep_parents(&db)?
    );
    println!(
        "the plain page is still there: {}",
        Page::get(&db, plain.id).is_ok()
    );
    // Deleting the user at the top of the chain cascades all the way down.
    let mut jane_user = User::objects()
        .filter(User::username().eq("jane"))
        .get(&db)?;
    println!("jane's user.delete() -> {}", jane_user.delete(&db)?);
    // Deleting the parent deletes the child; deleting the child deletes the parent.
    println!("mary.delete() -> {}", w.delete(&db)?);
    println!("jack.delete() -> {}", jack.delete(&db)?);
    println!(
        "left: {} like(s), {} page(s), {} women, {} husband(s)",
        Like::objects().count(&db)?,
        Page::objects().count(&db)?,
        Women::objects().count(&db)?,
        Husband::objects().count(&db)?
    );
    Ok(())
}
