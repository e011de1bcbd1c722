// Django fields.E321: SET_DEFAULT needs a default.

use orm_core::prelude::*;

#[derive(Model, Clone)]
pub struct User {
    pub id: Option<i64>,
}

#[derive(Model, Clone)]
pub struct Profile {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "set_default")]
    pub user: OneToOne<User>,
}

fn main() {}
