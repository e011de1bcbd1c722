// Django requires `on_delete` on every OneToOneField; so does the derive.

use orm_core::prelude::*;

#[derive(Model, Clone)]
pub struct User {
    pub id: Option<i64>,
}

#[derive(Model, Clone)]
pub struct Profile {
    pub id: Option<i64>,
    #[one_to_one(related_name = "profile")]
    pub user: OneToOne<User>,
}

fn main() {}
