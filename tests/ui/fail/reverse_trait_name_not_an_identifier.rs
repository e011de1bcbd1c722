// The reverse accessor's trait is its name in camel case: `related_name =
// "_1"` would give `1OfUser`, which is no identifier (the derive used to
// panic on it).

use orm_core::prelude::*;

#[derive(Model, Clone)]
pub struct User {
    pub id: Option<i64>,
}

#[derive(Model, Clone)]
pub struct Profile {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", related_name = "_1")]
    pub user: OneToOne<User>,
}

fn main() {}
