use orm_core::prelude::*;

#[derive(Model, Debug, Clone)]
#[model(app = "auth")]
pub struct User {
    pub id: Option<i64>,
    pub name: String,
}

// An abstract base has no table: `table` and `app` belong to each model
// that extends it.
#[derive(Model, Debug, Clone)]
#[model(abstract, table = "x")]
pub struct Stamped {
    pub created: i64,
}

// Only an abstract base can be extended.
#[orm_core::extends(User)]
#[derive(Model, Debug, Clone)]
pub struct Article {
    pub id: Option<i64>,
}

fn main() {}
