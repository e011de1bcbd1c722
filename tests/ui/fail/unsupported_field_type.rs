// A field type the ORM cannot store: the error is on the type, in the ORM's words.

use std::collections::HashMap;

use orm_core::prelude::*;

#[derive(Model, Clone)]
pub struct User {
    pub id: Option<i64>,
    pub settings: HashMap<String, String>,
}

fn main() {}
