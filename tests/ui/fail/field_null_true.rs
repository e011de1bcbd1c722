// Django's `null=True` is spelled with the type here: `Option<T>`.

use orm_core::prelude::*;

#[derive(Model, Clone)]
pub struct User {
    pub id: Option<i64>,
    #[field(null = true)]
    pub nickname: String,
}

fn main() {}
