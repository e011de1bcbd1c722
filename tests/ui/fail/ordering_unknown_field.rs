// Django: invalid_models_tests.test_models.OtherModelTests.test_ordering_pointing_to_missing_field (models.E015).

use orm_core::prelude::*;

#[derive(Model, Debug, Clone)]
#[model(app = "ui", ordering = "-created, titel")]
pub struct Article {
    pub id: Option<i64>,
    pub created: i64,
    pub title: String,
}

fn main() {}
