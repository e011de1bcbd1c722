// The target of a one-to-one is named by its path; `Self` is refused (the
// generated reverse accessor is implemented outside the model's `impl`).

use orm_core::prelude::*;

#[derive(Model, Clone)]
pub struct Person {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "set_null")]
    pub spouse: Option<OneToOne<Self>>,
}

fn main() {}
