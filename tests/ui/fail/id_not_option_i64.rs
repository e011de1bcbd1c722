// The automatic key `id` is `None` until the first save, so it must be an `Option`.

use orm_core::prelude::*;

#[derive(Model, Clone)]
pub struct Tag {
    pub id: i64,
    pub name: String,
}

fn main() {}
