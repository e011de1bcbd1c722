// Every model needs a primary key: `id: Option<i64>` or a `primary_key` field.

use orm_core::prelude::*;

#[derive(Model, Clone)]
pub struct Tag {
    pub name: String,
}

fn main() {}
