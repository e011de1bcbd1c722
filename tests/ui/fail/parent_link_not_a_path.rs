// An explicit parent link embeds the parent model itself, not a
// `OneToOne<T>`; the type is refused with the right form.

use orm_core::prelude::*;

#[derive(Model, Clone)]
pub struct Place {
    pub id: Option<i64>,
}

#[derive(Model, Clone)]
pub struct Restaurant {
    #[one_to_one(parent_link, on_delete = "cascade")]
    pub place: OneToOne<Place>,
    pub serves_pizza: bool,
}

fn main() {}
