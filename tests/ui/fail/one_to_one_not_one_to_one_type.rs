// A #[one_to_one] field holds a `OneToOne<T>`, not the related model itself.

use orm_core::prelude::*;

#[derive(Model, Clone)]
pub struct User {
    pub id: Option<i64>,
}

#[derive(Model, Clone)]
pub struct Profile {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade")]
    pub user: User,
}

fn main() {}
