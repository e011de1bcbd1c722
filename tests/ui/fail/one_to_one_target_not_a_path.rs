// The target of a one-to-one is a model named by its path: an array (or a
// tuple, a reference, `dyn Trait`...) is refused on the type, not with a
// panic in the derive. The errors after the first are rustc's own: the
// struct's `OneToOne<[User; 1]>` breaks the `T: Model` bound.

use orm_core::prelude::*;

#[derive(Model, Clone)]
pub struct User {
    pub id: Option<i64>,
}

#[derive(Model, Clone)]
pub struct Profile {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade")]
    pub user: OneToOne<[User; 1]>,
}

fn main() {}
