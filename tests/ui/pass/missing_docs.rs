//! Documented models compile under `#![deny(missing_docs)]`: nothing the
//! derive generates (column functions, reverse-accessor traits, the parent
//! `Deref`) asks the user to relax a lint.

#![deny(missing_docs)]

use orm_core::prelude::*;

/// A user.
#[derive(Model, Debug, Clone)]
#[model(app = "auth")]
pub struct User {
    /// The key.
    pub id: Option<i64>,
    /// The login.
    #[field(unique, max_length = 150)]
    pub username: String,
}

/// A profile: a relation to `User`, whose reverse accessor is `User::profile`
/// (the generated public trait `ProfileOfUser`).
#[derive(Model, Debug, Clone)]
#[model(app = "app")]
pub struct Profile {
    /// The key.
    pub id: Option<i64>,
    /// The owner.
    #[one_to_one(on_delete = "cascade", related_name = "profile")]
    pub user: OneToOne<User>,
    /// An optional second user; `User::edited_profile` is its reverse accessor.
    #[one_to_one(on_delete = "set_null", related_name = "edited_profile")]
    pub editor: Option<OneToOne<User>>,
}

/// A place.
#[derive(Model, Debug, Clone)]
#[model(app = "app")]
pub struct Place {
    /// The key.
    pub id: Option<i64>,
    /// The name.
    #[field(max_length = 50)]
    pub name: String,
}

/// A multi-table child of `Place` (implicit `place_ptr` link).
#[derive(Model, Debug, Clone)]
#[model(app = "app")]
pub struct Restaurant {
    /// The parent row.
    #[parent]
    pub place: Place,
    /// Serves pizza.
    pub serves_pizza: bool,
}

/// A multi-table child of `Restaurant` with an explicit parent link.
#[derive(Model, Debug, Clone)]
#[model(app = "app")]
pub struct ItalianRestaurant {
    /// The parent row.
    #[one_to_one(parent_link, on_delete = "cascade", related_name = "italian")]
    pub restaurant: Restaurant,
    /// Serves gnocchi.
    pub serves_gnocchi: bool,
}

fn main() -> orm_core::Result<()> {
    let db = Db::open_in_memory()?;
    db.migrate()?;
    let user = User {
        id: None,
        username: "ann".into(),
    }
    .create(&db)?;
    Profile {
        id: None,
        user: OneToOne::to(&user),
        editor: None,
    }
    .create(&db)?;
    assert!(user.profile(&db)?.editor.is_none());
    let r = Restaurant {
        place: Place {
            id: None,
            name: "Demon Dogs".into(),
        },
        serves_pizza: true,
    }
    .create(&db)?;
    assert_eq!(r.name, "Demon Dogs");
    assert!(r.place.restaurant_opt(&db)?.is_some());
    Ok(())
}
