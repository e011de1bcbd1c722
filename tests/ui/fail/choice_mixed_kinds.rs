// A choices enum stores text or integers, not both: one column type.

use orm_core::prelude::*;

#[derive(Choices, Clone, Copy)]
pub enum Priority {
    #[choice(1, label = "Low")]
    Low,
    #[choice("high")]
    High,
}

fn main() {}
