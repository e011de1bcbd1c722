// Every mistake in a struct is reported in one compilation, each on its token.

use orm_core::prelude::*;

#[derive(Model, Clone)]
pub struct User {
    pub id: Option<i64>,
}

#[derive(Model, Clone)]
pub struct Profile {
    pub id: i64,
    #[field(max_length = 10)]
    pub age: i32,
    #[field(colour = "red")]
    pub bio: String,
    #[one_to_one(on_delete = "set_null", related_name = "self")]
    pub user: OneToOne<User>,
    #[one_to_one]
    pub editor: OneToOne<User>,
}

fn main() {}
