//! Choices fields (Django's `choices=`, `TextChoices`, `IntegerChoices`):
//! `#[derive(Choices)]` enums as model fields and query values, their
//! labels and choice lists, and what loading a value that is not a choice
//! reports. Each test names the Django test it is modelled on.

use orm_core::prelude::*;
use orm_core::{ChoiceValue, ColumnType, FieldType};

/// Django's documentation example (`Student.YearInSchool`).
#[derive(Choices, Debug, Clone, Copy, PartialEq, Eq)]
pub enum YearInSchool {
    #[choice("FR", label = "Freshman")]
    Freshman,
    #[choice("SO")]
    Sophomore,
    #[choice("JR", label = "Junior")]
    Junior,
    #[choice("SR", label = "Senior")]
    Senior,
    #[choice("GR")]
    GraduateStudent,
}

#[derive(Choices, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    #[choice(1, label = "Low")]
    Low,
    #[choice(2)]
    High,
    #[choice(-1, label = "Never")]
    Never,
}

/// The ends of the integer range: a `bigint` column.
#[derive(Choices, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extreme {
    #[choice(-9223372036854775808)]
    Min,
    #[choice(9223372036854775807)]
    Max,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(app = "school")]
pub struct Student {
    pub id: Option<i64>,
    #[field(max_length = 2, default = YearInSchool::Freshman)]
    pub year: YearInSchool,
    pub previous_year: Option<YearInSchool>,
    pub priority: Priority,
    pub fallback_priority: Option<Priority>,
}

/// `max_length` too small for the longest choice (Django's fields.E009).
#[derive(Model, Debug, Clone)]
#[model(app = "school")]
pub struct Narrow {
    pub id: Option<i64>,
    #[field(max_length = 1)]
    pub year: YearInSchool,
}

fn student(year: YearInSchool, priority: Priority) -> Student {
    Student {
        id: None,
        year,
        previous_year: None,
        priority,
        fallback_priority: None,
    }
}

/// `model_enums.tests.ChoicesTests.test_textchoices`: values, labels and
/// choices in declaration order.
#[test]
fn text_choices_values_labels_and_list() {
    assert_eq!(YearInSchool::Freshman.value(), Value::Text("FR".into()));
    assert_eq!(YearInSchool::Freshman.choice(), ChoiceValue::Text("FR"));
    assert_eq!(YearInSchool::Freshman.label(), "Freshman");
    assert_eq!(
        YearInSchool::CHOICES,
        &[
            (ChoiceValue::Text("FR"), "Freshman"),
            (ChoiceValue::Text("SO"), "Sophomore"),
            (ChoiceValue::Text("JR"), "Junior"),
            (ChoiceValue::Text("SR"), "Senior"),
            (ChoiceValue::Text("GR"), "Graduate student"),
        ]
    );
    assert_eq!(YearInSchool::Senior.index(), 3);
    assert_eq!(YearInSchool::from_index(3), Some(YearInSchool::Senior));
    assert_eq!(YearInSchool::from_index(5), None);
    assert_eq!(<YearInSchool as FieldType>::COLUMN, ColumnType::Text);
}

/// `model_enums.tests.ChoicesTests.test_integerchoices`.
#[test]
fn integer_choices_values_labels_and_list() {
    assert_eq!(Priority::High.value(), Value::Integer(2));
    assert_eq!(Priority::Never.value(), Value::Integer(-1));
    assert_eq!(
        Priority::CHOICES,
        &[
            (ChoiceValue::Int(1), "Low"),
            (ChoiceValue::Int(2), "High"),
            (ChoiceValue::Int(-1), "Never"),
        ]
    );
    assert_eq!(<Priority as FieldType>::COLUMN, ColumnType::SmallInt);
    assert_eq!(Extreme::Min.value(), Value::Integer(i64::MIN));
    assert_eq!(Extreme::from_value(&i64::MAX), Some(Extreme::Max));
    assert_eq!(<Extreme as FieldType>::COLUMN, ColumnType::BigInt);
}

/// `model_enums.tests.ChoicesTests.test_textchoices_auto_label`: a label
/// left out is the member's name in words.
#[test]
fn labels_default_to_the_variant_name_in_words() {
    assert_eq!(YearInSchool::Sophomore.label(), "Sophomore");
    assert_eq!(YearInSchool::GraduateStudent.label(), "Graduate student");
    assert_eq!(Priority::High.label(), "High");
}

/// `model_enums.tests.ChoicesTests.test_integerchoices_containment` and
/// `test_textchoices_containment`: looking a variant up by its value.
#[test]
fn from_value_finds_the_variant_or_none() {
    assert_eq!(
        YearInSchool::from_value("GR"),
        Some(YearInSchool::GraduateStudent)
    );
    assert_eq!(
        YearInSchool::from_value(&Value::Text("SO".into())),
        Some(YearInSchool::Sophomore)
    );
    assert_eq!(YearInSchool::from_value("XX"), None);
    assert_eq!(YearInSchool::from_value(&1), None);
    assert_eq!(Priority::from_value(&2), Some(Priority::High));
    assert_eq!(Priority::from_value(&-1_i64), Some(Priority::Never));
    assert_eq!(Priority::from_value("2"), None);
    assert_eq!(Priority::from_value(&Value::Null), None);
}

/// `model_fields.test_charfield.TestCharField.test_assignment_from_choice_enum`:
/// a choice saved and read back, and a filter by the choice.
#[test]
fn text_and_integer_choices_round_trip() -> Result<()> {
    let db = Db::open_in_memory()?;
    db.migrate()?;
    let mut s = student(YearInSchool::Junior, Priority::High);
    s.previous_year = Some(YearInSchool::Sophomore);
    s.fallback_priority = Some(Priority::Never);
    s.save(&db)?;
    let plain = student(YearInSchool::Freshman, Priority::Low).create(&db)?;

    let back = Student::objects()
        .filter(Student::year().eq(YearInSchool::Junior))
        .get(&db)?;
    assert_eq!(back, s);
    let back = Student::get(&db, plain.id)?;
    assert_eq!(back.previous_year, None);
    assert_eq!(back.fallback_priority, None);
    assert_eq!(back.priority, Priority::Low);

    // Stored as Django stores them: the value, not the label.
    let stored: (String, i64, String, i64) = db.connection().query_row(
        "SELECT year, priority, previous_year, fallback_priority FROM school_student WHERE id = ?1",
        [s.id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    assert_eq!(stored, ("JR".into(), 2, "SO".into(), -1));
    Ok(())
}

/// `model_fields.test_charfield.TestCharField.test_assignment_from_choice_enum`
/// (`Post.objects.get(title=Event.C)`): lookups take a choice like any value.
#[test]
fn filter_by_choice() -> Result<()> {
    let db = Db::open_in_memory()?;
    db.migrate()?;
    for (y, p) in [
        (YearInSchool::Freshman, Priority::Low),
        (YearInSchool::Freshman, Priority::High),
        (YearInSchool::Senior, Priority::High),
    ] {
        student(y, p).create(&db)?;
    }
    let count = |q: Q| Student::objects().filter(q).count(&db);
    assert_eq!(count(Student::year().eq(YearInSchool::Freshman))?, 2);
    assert_eq!(count(Student::priority().eq(Priority::High))?, 2);
    assert_eq!(
        count(Student::year().is_in([YearInSchool::Senior, YearInSchool::Junior]))?,
        1
    );
    assert_eq!(count(Student::priority().gt(Priority::Low))?, 2);
    assert_eq!(count(Student::previous_year().is_null(true))?, 3);
    assert_eq!(count(Q::kw("year", YearInSchool::Senior))?, 1);
    Ok(())
}

/// `model_fields.tests.GetFieldDisplayTests.test_choices_and_field_display`:
/// `get_FOO_display()` is the label of the loaded value.
#[test]
fn label_of_a_loaded_value_is_get_field_display() -> Result<()> {
    let db = Db::open_in_memory()?;
    db.migrate()?;
    student(YearInSchool::GraduateStudent, Priority::Low).create(&db)?;
    let s = Student::objects().get(&db)?;
    assert_eq!(s.year.label(), "Graduate student");
    assert_eq!(s.priority.label(), "Low");
    assert_eq!(s.previous_year.map(|y| y.label()), None);
    Ok(())
}

/// `model_fields.test_charfield.ValidationTests.test_charfield_with_choices_raises_error_on_invalid_choice`:
/// Django refuses "Value 'XX' is not a valid choice." in `full_clean`; an
/// enum cannot hold it, so a stored one is refused on load, naming model,
/// field, column and the value.
#[test]
fn a_stored_value_that_is_not_a_choice_is_a_typed_error() -> Result<()> {
    let db = Db::open_in_memory()?;
    db.migrate()?;
    db.connection().execute(
        "INSERT INTO school_student (year, priority) VALUES ('XX', 1)",
        [],
    )?;
    let err = Student::objects().all(&db).unwrap_err();
    match &err {
        Error::FieldValue {
            model,
            field,
            table,
            column,
            reason,
        } => {
            assert_eq!(
                (*model, *field, *table, *column),
                ("Student", "year", "school_student", "year")
            );
            assert!(
                reason.starts_with(
                    "'XX' is not one of the choices of YearInSchool (FR, SO, JR, SR, GR)"
                ),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }

    db.connection()
        .execute("UPDATE school_student SET year = 'FR', priority = 7", [])?;
    let err = Student::objects().all(&db).unwrap_err();
    assert!(
        matches!(&err, Error::FieldValue { field: "priority", reason, .. }
            if reason.starts_with("7 is not one of the choices of Priority (1, 2, -1)")),
        "{err}"
    );
    assert!(err.to_string().contains("school_student.priority"), "{err}");

    // A real where an integer is stored (an integer in a text column is
    // text: SQLite's column affinity).
    db.connection()
        .execute("UPDATE school_student SET priority = 1.5", [])?;
    let err = Student::objects().all(&db).unwrap_err();
    assert!(
        matches!(&err, Error::FieldValue { field: "priority", reason, .. }
            if reason.starts_with("1.5 is not one of the choices of Priority (1, 2, -1)")),
        "{err}"
    );
    Ok(())
}

/// `model_fields.test_charfield.TestCharField.test_max_length_passed_to_formfield`
/// and Django's `CharField(max_length=2, choices=...)`: a text choice is a
/// text column, so `max_length` makes it `varchar(n)`; no CHECK is added.
#[test]
fn max_length_on_a_text_choice_is_varchar() -> Result<()> {
    let db = Db::open_in_memory()?;
    let ddl = db.sql_create_all();
    let table = ddl
        .split(';')
        .find(|s| s.contains("\"school_student\""))
        .unwrap_or_default();
    assert!(table.contains("\"year\" varchar(2) NOT NULL"), "{table}");
    assert!(table.contains("\"previous_year\" text NULL"), "{table}");
    assert!(table.contains("\"priority\" smallint NOT NULL"), "{table}");
    assert!(!table.contains("CHECK"), "{table}");
    Ok(())
}

/// `invalid_models_tests.test_ordinary_fields.CharFieldTests.test_choices_in_max_length`
/// (fields.E009): Django's check that `max_length` fits the longest choice
/// is made by `full_clean` on the value at hand.
#[test]
fn full_clean_checks_max_length_of_a_text_choice() -> Result<()> {
    let db = Db::open_in_memory()?;
    db.migrate()?;
    let n = Narrow {
        id: None,
        year: YearInSchool::Freshman,
    };
    match n.full_clean(&db) {
        Err(Error::Validation(v)) => assert_eq!(
            v.errors,
            [(
                "year".to_string(),
                "Ensure this value has at most 1 characters (it has 2).".to_string()
            )]
        ),
        other => panic!("{other:?}"),
    }
    student(YearInSchool::Senior, Priority::Low).full_clean(&db)?;
    Ok(())
}

/// `model_fields.tests.GetChoicesTests`-style defaults: a choice as a
/// field's default.
#[test]
fn a_choice_as_default() {
    let meta = <Student as Model>::META;
    let year = meta.fields.iter().find(|f| f.name == "year");
    let default = year.and_then(|f| f.default).map(|d| d());
    assert_eq!(default, Some(Value::Text("FR".into())));
}
