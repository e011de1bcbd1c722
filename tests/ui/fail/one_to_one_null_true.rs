// Django's `null=True` is spelled with the type here: `Option<OneToOne<T>>`.

use orm_core::prelude::*;

#[derive(Model, Clone)]
pub struct User {
    pub id: Option<i64>,
}

#[derive(Model, Clone)]
pub struct Profile {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "set_null", null = true)]
    pub user: OneToOne<User>,
}

fn main() {}
