// A model is a struct: an enum has no table.

use orm_core::prelude::*;

#[derive(Model, Clone)]
pub enum Status {
    Active,
    Retired,
}

fn main() {}
