// A misspelt #[field] option, with a suggestion.

use orm_core::prelude::*;

#[derive(Model, Clone)]
pub struct User {
    pub id: Option<i64>,
    #[field(max_len = 150)]
    pub username: String,
}

fn main() {}
