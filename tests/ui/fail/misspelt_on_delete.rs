// An unknown on_delete rule: the error lists the valid ones.

use orm_core::prelude::*;

#[derive(Model, Clone)]
pub struct User {
    pub id: Option<i64>,
}

#[derive(Model, Clone)]
pub struct Profile {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "casade")]
    pub user: OneToOne<User>,
}

fn main() {}
