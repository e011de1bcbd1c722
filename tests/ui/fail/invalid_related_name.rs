// Django fields.E306: the reverse accessor must be an identifier (or end with `+`).

use orm_core::prelude::*;

#[derive(Model, Clone)]
pub struct User {
    pub id: Option<i64>,
}

#[derive(Model, Clone)]
pub struct Profile {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", related_name = "my profile")]
    pub user: OneToOne<User>,
}

fn main() {}
