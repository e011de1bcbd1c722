use orm_core::prelude::*;

#[derive(Model, Clone)]
pub struct Tag {
    pub id: i64,
    pub name: String,
}

fn main() {}
