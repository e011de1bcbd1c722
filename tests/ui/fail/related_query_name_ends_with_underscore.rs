// Django fields.E308: a reverse query name must not end with `_`.

use orm_core::prelude::*;

#[derive(Model, Clone)]
pub struct User {
    pub id: Option<i64>,
}

#[derive(Model, Clone)]
pub struct Profile {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", related_query_name = "profile_")]
    pub user: OneToOne<User>,
}

fn main() {}
