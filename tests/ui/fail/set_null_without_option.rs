// Django fields.E320: SET_NULL needs a nullable field, `Option<OneToOne<T>>`.

use orm_core::prelude::*;

#[derive(Model, Clone)]
pub struct User {
    pub id: Option<i64>,
}

#[derive(Model, Clone)]
pub struct Profile {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "set_null")]
    pub user: OneToOne<User>,
}

fn main() {}
