// A model needs named fields: they name its columns.

use orm_core::prelude::*;

#[derive(Model, Clone)]
pub struct Tag(Option<i64>, String);

fn main() {}
