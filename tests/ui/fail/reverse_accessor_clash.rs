// Django fields.E304: both relations would install `User::profile`.

use orm_core::prelude::*;

#[derive(Model, Clone)]
pub struct User {
    pub id: Option<i64>,
}

#[derive(Model, Clone)]
pub struct Profile {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade")]
    pub owner: OneToOne<User>,
    #[one_to_one(on_delete = "cascade")]
    pub editor: OneToOne<User>,
}

fn main() {}
