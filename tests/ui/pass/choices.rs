//! Choices enums compile under strict lints: documented public ones under
//! `missing_docs`, private ones and raw-identifier variants with no warning.

#![deny(warnings, missing_docs)]

use orm_core::prelude::*;

/// A year in school.
#[derive(Choices, Debug, Clone, Copy, PartialEq, Eq)]
pub enum YearInSchool {
    /// First year.
    #[choice("FR", label = "Freshman")]
    Freshman,
    /// Last year.
    #[choice("SR")]
    Senior,
}

#[derive(Choices, Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    #[choice(1)]
    r#Type,
    #[choice(2)]
    r#Match,
}

/// A student.
#[derive(Model, Debug, Clone)]
#[model(app = "school")]
pub struct Student {
    /// The key.
    pub id: Option<i64>,
    /// The year.
    #[field(max_length = 2)]
    pub year: YearInSchool,
}

fn main() -> orm_core::Result<()> {
    let db = Db::open_in_memory()?;
    db.migrate()?;
    let s = Student { id: None, year: YearInSchool::Senior }.create(&db)?;
    assert_eq!(Student::get(&db, s.id)?.year.label(), "Senior");
    assert_eq!(Kind::r#Type.label(), "Type");
    assert_eq!(Kind::from_value(&2), Some(Kind::r#Match));
    Ok(())
}
