// Django writes `on_delete=models.CASCADE`; here the rule is a string.

use orm_core::prelude::*;

#[derive(Model, Clone)]
pub struct User {
    pub id: Option<i64>,
}

#[derive(Model, Clone)]
pub struct Profile {
    pub id: Option<i64>,
    #[one_to_one(on_delete = CASCADE)]
    pub user: OneToOne<User>,
}

fn main() {}
