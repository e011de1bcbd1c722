//! Seed 000: "Auto-create Profile for new users" with signals. A `post_save`
//! hook on `User` creates the `Profile`; re-saving the user creates no
//! second one; creating a second profile by hand hits the UNIQUE key; a
//! failing hook rolls the whole save back.
//!
//! Run with `cargo run --example auto_profile`.

use chrono::NaiveDate;
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
    /// `DateField(null=True, blank=True)`
    pub date_of_birth: Option<NaiveDate>,
}

/// The seed's `signals.py`, registered on one database handle (Django's
/// `AppConfig.ready()` importing the module).
fn connect_signals(db: &Db) {
    // @receiver(post_save, sender=User)
    // def create_user_profile(sender, instance, created, **kwargs):
    //     if created:
    //         Profile.objects.create(user=instance)
    db.on_post_save::<User>(|db, user, created| {
        if created {
            Profile {
                id: None,
                user: OneToOne::to(user),
                bio: None,
                date_of_birth: None,
            }
            .save(db)?;
        }
        Ok(())
    });
    // @receiver(post_save, sender=User)
    // def save_user_profile(sender, instance, **kwargs):
    //     instance.profile.save()
    db.on_post_save::<User>(|db, user, _created| {
        user.profile(db)?.save(db)?;
        Ok(())
    });
    // Watch the profile saves the two receivers cause.
    db.on_post_save::<Profile>(|_, profile, created| {
        println!(
            "  [post_save Profile id={} created={created}]",
            profile.id.unwrap_or_default()
        );
        Ok(())
    });
}

fn main() -> orm_core::Result<()> {
    let db = Db::open_in_memory()?;
    db.migrate()?;
    connect_signals(&db);

    // User.objects.create(username="johndoe"): the hook creates the profile.
    println!("User.objects.create(username=\"johndoe\")");
    let mut user = User {
        id: None,
        username: "johndoe".into(),
        is_staff: false,
    }
    .create(&db)?;
    let profile = user.profile(&db)?;
    println!(
        "user.profile -> Profile {} of user {}",
        profile.id.unwrap_or_default(),
        user.username
    );
    println!("profiles: {}", Profile::objects().count(&db)?);

    // Saving the user again: created=false, so no second profile.
    println!("user.save() again");
    user.is_staff = true;
    user.save(&db)?;
    println!("profiles after re-save: {}", Profile::objects().count(&db)?);

    // The common bug: a form or admin inline creates the profile as well.
    let dup = Profile {
        id: None,
        user: OneToOne::to(&user),
        bio: Some("again".into()),
        date_of_birth: None,
    }
    .create(&db);
    match dup {
        Err(e) => println!("Profile.objects.create(user=user) -> {e}"),
        Ok(_) => println!("Profile.objects.create(user=user) -> created (unexpected)"),
    }

    // The fix: get_or_create reuses the profile the hook made.
    // Profile.objects.get_or_create(user=user)
    let (mut mine, created) = Profile::objects()
        .filter(Profile::user().eq(user.id))
        .get_or_create(&db, || Profile {
            id: None,
            user: OneToOne::to(&user),
            bio: None,
            date_of_birth: None,
        })?;
    println!(
        "get_or_create(user=user) -> (Profile {}, created={created})",
        mine.id.unwrap_or_default()
    );
    mine.bio = Some("Hello, I'm John!".into());
    mine.save(&db)?;
    println!(
        "user.profile.bio = {}",
        user.profile(&db)?.bio.as_deref().unwrap_or("")
    );

    // Unlike Django, the user INSERT and the hooks share one transaction: when a
    // hook fails, the user row is rolled back with everything else.
    db.on_pre_save::<Profile>(|db, p| {
        if p.user.get(db)?.username.starts_with("bot") {
            return Err(Error::hook("bots get no profile"));
        }
        Ok(())
    });
    let mut bot = User {
        id: None,
        username: "bot-7".into(),
        is_staff: false,
    };
    match bot.save(&db) {
        Err(e) => println!("User.objects.create(username=\"bot-7\") -> {e}"),
        Ok(()) => println!("User.objects.create(username=\"bot-7\") -> saved (unexpected)"),
    }
    println!(
        "after the failed save: bot.id = {:?}, users = {}, profiles = {}",
        bot.id,
        User::objects().count(&db)?,
        Profile::objects().count(&db)?
    );

    // on_delete=CASCADE: deleting the user takes the profile with it.
    match user.delete(&db) {
        Ok(deleted) => println!("user.delete() -> {deleted}"),
        Err(e) => println!("user.delete() -> {e}"),
    }
    Ok(())
}
