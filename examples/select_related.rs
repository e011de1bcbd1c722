//! Seed 001: "Always use `select_related()` with OneToOneField". A loop over
//! profiles that touches `profile.user.username` runs 1 + N statements
//! without it (the N+1 problem) and exactly 1 with it; the same holds for the
//! reverse side, `user.profile`.
//!
//! Run with `cargo run --example select_related`.

use orm_core::prelude::*;

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
}

const N: usize = 5;

fn main() -> orm_core::Result<()> {
    let db = Db::open_in_memory()?;
    db.migrate()?;
    db.atomic(|db| {
        for i in 1..=N {
            let u = User {
                id: None,
                username: format!("user{i}"),
                is_staff: false,
            }
            .create(db)?;
            Profile {
                id: None,
                user: OneToOne::to(&u),
                bio: Some(format!("bio {i}")),
            }
            .create(db)?;
        }
        Ok(())
    })?;
    println!("{N} users, each with a profile");

    // for profile in Profile.objects.all(): print(profile.user.username)
    let (names, without) = db.capture(|| -> Result<Vec<String>> {
        let mut names = Vec::new();
        for p in Profile::objects().order_by(Profile::id().asc()).all(&db)? {
            names.push(p.user.get(&db)?.username.clone());
        }
        Ok(names)
    });
    println!(
        "without select_related: {} statements (1 + N) -> {:?}",
        without.len(),
        names?
    );

    // for profile in Profile.objects.select_related("user"): print(profile.user.username)
    let qs = Profile::objects()
        .select_related(Profile::user())
        .order_by(Profile::id().asc());
    let (names, with) = db.capture(|| -> Result<Vec<String>> {
        let mut names = Vec::new();
        for p in qs.clone().all(&db)? {
            names.push(p.user.get(&db)?.username.clone());
        }
        Ok(names)
    });
    println!(
        "with select_related: {} statement -> {:?}",
        with.len(),
        names?
    );
    println!(
        "  {}",
        with.queries.first().map(String::as_str).unwrap_or("")
    );

    // The reverse side: for user in User.objects.all(): user.profile.bio
    db.clear_cache();
    let (bios, without) = db.capture(|| -> Result<Vec<String>> {
        let mut bios = Vec::new();
        for u in User::objects().order_by(User::id().asc()).all(&db)? {
            bios.push(u.profile(&db)?.bio.unwrap_or_default());
        }
        Ok(bios)
    });
    println!(
        "reverse without select_related: {} statements (1 + N) -> {:?}",
        without.len(),
        bios?
    );

    db.clear_cache();
    let (bios, with) = db.capture(|| -> Result<Vec<String>> {
        let mut bios = Vec::new();
        for u in User::objects()
            .select_related("profile")
            .order_by(User::id().asc())
            .all(&db)?
        {
            bios.push(u.profile(&db)?.bio.unwrap_or_default());
        }
        Ok(bios)
    });
    println!(
        "reverse with select_related(\"profile\"): {} statement -> {:?}",
        with.len(),
        bios?
    );
    println!(
        "  {}",
        with.queries.first().map(String::as_str).unwrap_or("")
    );
    Ok(())
}
