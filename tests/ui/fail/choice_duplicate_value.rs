// Two variants cannot store the same value: loading it would be ambiguous.

use orm_core::prelude::*;

#[derive(Choices, Clone, Copy)]
pub enum YearInSchool {
    #[choice("FR", label = "Freshman")]
    Freshman,
    #[choice("FR")]
    Sophomore,
}

fn main() {}
