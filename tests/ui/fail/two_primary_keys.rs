// Django models.E026: one primary key per model.

use orm_core::prelude::*;

#[derive(Model, Clone)]
pub struct Country {
    #[field(primary_key)]
    pub code: String,
    #[field(primary_key)]
    pub iso_number: i64,
}

fn main() {}
