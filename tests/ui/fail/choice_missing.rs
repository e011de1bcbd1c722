// Every variant of a choices enum says what it stores. Only the mistake is
// reported: the enum still works as a field where it is used.

use orm_core::prelude::*;

#[derive(Choices, Clone, Copy)]
pub enum YearInSchool {
    #[choice("FR", label = "Freshman")]
    Freshman,
    Sophomore,
}

#[derive(Model, Clone)]
#[model(app = "school")]
pub struct Student {
    pub id: Option<i64>,
    #[field(max_length = 2)]
    pub year: YearInSchool,
}

fn main() {}
