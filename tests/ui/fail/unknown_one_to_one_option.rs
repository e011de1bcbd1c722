// An option #[one_to_one] does not have.

use orm_core::prelude::*;

#[derive(Model, Clone)]
pub struct User {
    pub id: Option<i64>,
}

#[derive(Model, Clone)]
pub struct Profile {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", reverse_name = "profile")]
    pub user: OneToOne<User>,
}

fn main() {}
