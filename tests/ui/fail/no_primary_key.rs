use orm_core::prelude::*;

#[derive(Model, Clone)]
pub struct Tag {
    pub name: String,
}

fn main() {}
