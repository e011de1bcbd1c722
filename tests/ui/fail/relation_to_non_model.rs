// The target of a relation must derive `Model`. The first error says so on the
// field; the ones after it are consequences inside the generated code.

use orm_core::prelude::*;

#[derive(Clone)]
pub struct User {
    pub id: Option<i64>,
}

#[derive(Model, Clone)]
pub struct Profile {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade")]
    pub user: OneToOne<User>,
}

fn main() {}
