// `max_length` applies to text fields only.

use orm_core::prelude::*;

#[derive(Model, Clone)]
pub struct User {
    pub id: Option<i64>,
    #[field(max_length = 3)]
    pub age: i32,
}

fn main() {}
