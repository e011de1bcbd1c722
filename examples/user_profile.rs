//! Seeds 000 and 001: a `User` with one `Profile`, both directions, the
//! missing-profile idiom and the duplicate-profile error.
//!
//! Run with `cargo run --example user_profile`.

use chrono::NaiveDate;
use orm_core::prelude::*;
use orm_core::{FileSystemStorage, ImageFile};

/// Django's `auth.User`, reduced to what the tutorials use.
#[derive(Model, Debug, Clone)]
#[model(app = "auth")]
pub struct User {
    pub id: Option<i64>,
    #[field(unique, max_length = 150)]
    pub username: String,
    pub is_staff: bool,
}

/// `Profile.user = OneToOneField(User, on_delete=CASCADE, related_name="profile")`
#[derive(Model, Debug, Clone)]
#[model(app = "app")]
pub struct Profile {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", related_name = "profile")]
    pub user: OneToOne<User>,
    pub bio: Option<String>,
    /// `DateField(null=True, blank=True)`
    pub date_of_birth: Option<NaiveDate>,
    /// `ImageField(upload_to='profile_pics/', null=True, blank=True)`: the
    /// row stores the file's name in its storage (`varchar(100)`).
    pub profile_picture: Option<ImageFile>,
}

/// A 2x3 PNG header: enough for an image's size to be read.
fn tiny_png() -> Vec<u8> {
    let mut b = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    b.extend_from_slice(&13u32.to_be_bytes());
    b.extend_from_slice(b"IHDR");
    b.extend_from_slice(&2u32.to_be_bytes());
    b.extend_from_slice(&3u32.to_be_bytes());
    b.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    b
}

fn main() -> orm_core::Result<()> {
    let db = Db::open_in_memory()?;
    db.migrate()?;

    // user = User.objects.create(username="johndoe")
    let mut user = User {
        id: None,
        username: "johndoe".into(),
        is_staff: false,
    };
    user.save(&db)?;
    let jane = User {
        id: None,
        username: "jane".into(),
        is_staff: false,
    }
    .create(&db)?;

    // profile = Profile.objects.create(user=user, bio="Hello, I'm John!")
    let profile = Profile {
        id: None,
        user: OneToOne::to(&user),
        bio: Some("Hello, I'm John!".into()),
        date_of_birth: NaiveDate::from_ymd_opt(1990, 5, 17),
        profile_picture: None,
    }
    .create(&db)?;
    println!(
        "created profile {} for user {}",
        profile.id.unwrap_or_default(),
        user.username
    );

    // profile = Profile.objects.get(id=1); user = profile.user
    let p = Profile::get(&db, profile.id)?;
    println!("profile.user_id = {:?} (no query)", p.user.id());
    println!("profile.user.username = {}", p.user.get(&db)?.username);

    // user = User.objects.get(username="johndoe"); profile = user.profile
    let u = User::objects()
        .filter(User::username().eq("johndoe"))
        .get(&db)?;
    let mine = u.profile(&db)?;
    println!("user.profile.bio = {}", mine.bio.as_deref().unwrap_or(""));
    if let Some(born) = mine.date_of_birth {
        println!("user.profile.date_of_birth = {born}");
    }

    // A form upload: profile.profile_picture.save("me.png", content); profile.save()
    let media = std::env::temp_dir().join(format!("orm-example-media-{}", std::process::id()));
    let storage = FileSystemStorage::new(&media, "/media/");
    let mut mine = mine;
    let mut picture = ImageFile::default();
    picture.save(&storage, "profile_pics/", "me.png", &tiny_png())?;
    mine.profile_picture = Some(picture);
    mine.save(&db)?;
    let stored = Profile::get(&db, mine.id)?;
    if let Some(pic) = &stored.profile_picture {
        let (w, h) = pic.dimensions(&storage)?;
        println!("profile_picture.url = {} ({w}x{h})", pic.url(&storage)?);
    }
    let _ = std::fs::remove_dir_all(&media);
    // Profile.objects.filter(date_of_birth__year__lt=2000)
    let before_2000 = Profile::objects()
        .filter(Profile::date_of_birth().year().lt(2000))
        .count(&db)?;
    println!("profiles born before 2000: {before_2000}");

    // The missing profile: user.profile raises, getattr(user, "profile", None) is None.
    match jane.profile(&db) {
        Err(e) => println!("jane.profile -> {e}"),
        Ok(p) => println!("jane.profile -> {p:?}"),
    }
    println!(
        "getattr(jane, \"profile\", None) -> {:?}",
        jane.profile_opt(&db)?.map(|p| p.id)
    );

    // Profile.objects.create(user=user) a second time: the UNIQUE key refuses it.
    let dup = Profile {
        id: None,
        user: OneToOne::to(&user),
        bio: None,
        date_of_birth: None,
        profile_picture: None,
    }
    .create(&db);
    match dup {
        Err(e) => println!("second profile for johndoe -> {e}"),
        Ok(_) => println!("second profile for johndoe -> created (unexpected)"),
    }

    // Queries across the relation, both directions.
    let by_user = Profile::objects()
        .filter(Profile::user().then(User::username()).eq("johndoe"))
        .count(&db)?;
    println!("profiles of user johndoe: {by_user}");
    let with_bio = User::objects()
        .filter(Q::kw("profile__bio__contains", "John"))
        .count(&db)?;
    println!("users whose profile bio contains 'John': {with_bio}");
    let without = User::objects()
        .filter(Q::kw("profile__isnull", true))
        .all(&db)?;
    println!(
        "users without a profile: {:?}",
        without
            .iter()
            .map(|u| u.username.as_str())
            .collect::<Vec<_>>()
    );

    // Profile.objects.select_related("user"): one query, no N+1.
    let ((), captured) = db.capture(|| {
        if let Ok(rows) = Profile::objects().select_related(Profile::user()).all(&db) {
            for p in rows {
                if let Ok(u) = p.user.get(&db) {
                    println!("{} -> {}", u.username, p.bio.as_deref().unwrap_or(""));
                }
            }
        }
    });
    println!("select_related loop ran {} statement(s)", captured.len());
    Ok(())
}
