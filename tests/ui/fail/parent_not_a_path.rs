// A `#[parent]` field embeds the parent model itself: a parent link is never
// null, so `Option<Place>` is refused on the type.

use orm_core::prelude::*;

#[derive(Model, Clone)]
pub struct Place {
    pub id: Option<i64>,
}

#[derive(Model, Clone)]
pub struct Restaurant {
    #[parent]
    pub place: Option<Place>,
    pub serves_pizza: bool,
}

fn main() {}
