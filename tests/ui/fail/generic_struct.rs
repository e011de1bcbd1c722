// A model maps to one table, so it cannot be generic.

use orm_core::prelude::*;

#[derive(Model, Clone)]
pub struct Tagged<T> {
    pub id: Option<i64>,
    pub value: T,
}

fn main() {}
