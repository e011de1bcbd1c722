use orm_core::prelude::*;

#[derive(Model, Debug, Clone)]
#[model(app = "auth")]
pub struct User {
    pub id: Option<i64>,
    pub name: String,
}

// A proxy wraps exactly one model.
#[derive(Model, Debug, Clone)]
#[model(proxy)]
pub struct Named {
    pub user: User,
}

// A proxy has no table of its own.
#[derive(Model, Debug, Clone)]
#[model(proxy, table = "x")]
pub struct WithTable(pub User);

fn main() {}
