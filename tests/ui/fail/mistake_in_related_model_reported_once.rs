// A mistake in `User` is reported once, on `User`: the derive still emits a
// stub `impl Model for User`, so `Profile`'s relation to it and the code
// below that uses it as a model add no errors of their own.

use orm_core::prelude::*;

#[derive(Model, Clone)]
pub struct User {
    pub id: Option<i64>,
    #[field(max_length = 150)]
    pub age: i32,
}

#[derive(Model, Clone)]
pub struct Profile {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", related_name = "profile")]
    pub user: OneToOne<User>,
}

fn main() -> orm_core::Result<()> {
    let db = Db::open_in_memory()?;
    let mut user = User { id: None, age: 42 }.create(&db)?;
    let mut profile = Profile {
        id: None,
        user: OneToOne::to(&user),
    };
    profile.save(&db)?;
    user.delete(&db)?;
    Ok(())
}
