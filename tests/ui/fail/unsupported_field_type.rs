use std::collections::HashMap;

use orm_core::prelude::*;

#[derive(Model, Clone)]
pub struct User {
    pub id: Option<i64>,
    pub settings: HashMap<String, String>,
}

fn main() {}
