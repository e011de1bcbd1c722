//! Choices (Django's `choices=`, `TextChoices` and `IntegerChoices`): a
//! fieldless enum whose variants each stand for one stored value and carry a
//! label, made with `#[derive(Choices)]`.
//!
//! The derive implements [`Choices`], [`ToValue`] and [`FieldType`], so the
//! enum is a model field (`pub year: YearInSchool`, `Option<YearInSchool>`)
//! and a query value (`Student::year().eq(YearInSchool::Freshman)`). Text
//! values make a text column (`max_length` gives `varchar(n)`); integer
//! values make a `smallint`, `integer` or `bigint` column, the smallest that
//! holds every value. The schema gets no CHECK constraint (Django adds none).
//!
//! Django's `full_clean` refuses a value that is not one of the choices
//! ("Value 'XX' is not a valid choice."). A Rust enum cannot hold such a
//! value, so there is nothing to validate; a row that stores one is refused
//! when it is loaded instead, with [`crate::Error::FieldValue`] naming model,
//! field, column and the value.

use std::fmt;

use rusqlite::types::{Value, ValueRef};

use crate::meta::types::{wrong_type, FieldType, Stored, ToValue};

/// One choice's stored value, as a constant: the first argument of
/// `#[choice(...)]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChoiceValue {
    /// An integer choice (`IntegerChoices`).
    Int(i64),
    /// A text choice (`TextChoices`).
    Text(&'static str),
}

impl ChoiceValue {
    /// The value as stored, borrowed from the constant.
    pub const fn as_value_ref(self) -> ValueRef<'static> {
        match self {
            ChoiceValue::Int(i) => ValueRef::Integer(i),
            ChoiceValue::Text(s) => ValueRef::Text(s.as_bytes()),
        }
    }

    /// True when `v` is this value as stored (an integer is not its text).
    pub fn matches(self, v: ValueRef<'_>) -> bool {
        match (self, v) {
            (ChoiceValue::Int(a), ValueRef::Integer(b)) => a == b,
            (ChoiceValue::Text(a), ValueRef::Text(b)) => a.as_bytes() == b,
            _ => false,
        }
    }
}

/// The value as Django prints a choice: `FR`, `1`.
impl fmt::Display for ChoiceValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChoiceValue::Int(i) => write!(f, "{i}"),
            ChoiceValue::Text(s) => f.write_str(s),
        }
    }
}

impl From<ChoiceValue> for Value {
    fn from(c: ChoiceValue) -> Value {
        match c {
            ChoiceValue::Int(i) => Value::Integer(i),
            ChoiceValue::Text(s) => Value::Text(s.to_owned()),
        }
    }
}

impl ToValue for ChoiceValue {
    fn to_stored(&self) -> Result<Stored<'_>, String> {
        Ok(Stored::Ref(self.as_value_ref()))
    }
}

/// A fieldless enum of choices (Django's `TextChoices`/`IntegerChoices`):
/// implemented by `#[derive(Choices)]`, not by hand.
///
/// # Examples
///
/// ```
/// use orm_core::prelude::*;
/// use orm_core::ChoiceValue;
///
/// #[derive(Choices, Debug, Clone, Copy, PartialEq, Eq)]
/// pub enum YearInSchool {
///     #[choice("FR", label = "Freshman")]
///     Freshman,
///     #[choice("GR")]
///     GraduateStudent,
/// }
///
/// #[derive(Model, Debug, Clone)]
/// #[model(app = "school")]
/// pub struct Student {
///     pub id: Option<i64>,
///     #[field(max_length = 2)]
///     pub year: YearInSchool,
/// }
///
/// assert_eq!(YearInSchool::Freshman.value(), Value::Text("FR".into()));
/// assert_eq!(YearInSchool::GraduateStudent.label(), "Graduate student"); // get_year_display()
/// assert_eq!(
///     YearInSchool::CHOICES,
///     &[(ChoiceValue::Text("FR"), "Freshman"), (ChoiceValue::Text("GR"), "Graduate student")]
/// );
/// assert_eq!(YearInSchool::from_value("GR"), Some(YearInSchool::GraduateStudent));
///
/// let db = Db::open_in_memory()?;
/// db.migrate()?;
/// Student { id: None, year: YearInSchool::Freshman }.create(&db)?;
/// let n = Student::objects().filter(Student::year().eq(YearInSchool::Freshman)).count(&db)?;
/// assert_eq!(n, 1);
/// # Ok::<(), orm_core::Error>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a choices enum",
    label = "not `#[derive(Choices)]`",
    note = "derive it on a fieldless enum: `#[derive(Choices)] enum E {{ #[choice(\"A\")] A, ... }}`"
)]
pub trait Choices: FieldType {
    /// The enum's name, for messages.
    const NAME: &'static str;

    /// Every `(value, label)` pair, in declaration order (Django's
    /// `Model.field.choices`, `YearInSchool.choices`).
    const CHOICES: &'static [(ChoiceValue, &'static str)];

    /// The variant's position in declaration order (its index in
    /// [`Choices::CHOICES`]).
    fn index(&self) -> usize;

    /// The variant at `index` in declaration order, `None` past the end.
    fn from_index(index: usize) -> Option<Self>;

    /// The stored value, as a constant.
    fn choice(&self) -> ChoiceValue;

    /// The label (Django's `get_FOO_display()`, `YearInSchool.FRESHMAN.label`).
    fn label(&self) -> &'static str;

    /// The stored value (Django's `YearInSchool.FRESHMAN.value`).
    fn value(&self) -> Value {
        self.choice().into()
    }

    /// The variant stored as `v` (Django's `YearInSchool("FR")`), `None`
    /// when `v` is not one of the choices: `YearInSchool::from_value("FR")`,
    /// `Priority::from_value(&1)`, `from_value(&Value::Integer(1))`.
    fn from_value<V: ToValue + ?Sized>(v: &V) -> Option<Self> {
        let stored = v.to_stored().ok()?;
        let at = Self::CHOICES
            .iter()
            .position(|(c, _)| c.matches(stored.as_ref()))?;
        Self::from_index(at)
    }
}

/// The stored value of a choice (the derived [`ToValue::to_stored`]); never
/// an error for a derived enum.
#[doc(hidden)]
pub fn to_stored<C: Choices>(c: &C) -> Result<Stored<'static>, String> {
    Ok(Stored::Ref(c.choice().as_value_ref()))
}

/// The longest choices listed in a message.
const LISTED: usize = 20;

/// The derived [`FieldType::from_stored`]: the variant stored as `v`, or why
/// `v` is not one of the choices:
/// `'XX' is not one of the choices of YearInSchool (FR, SO)`.
#[doc(hidden)]
pub fn from_stored<C: Choices>(v: ValueRef<'_>) -> Result<C, String> {
    if let Some(c) = C::CHOICES
        .iter()
        .position(|(c, _)| c.matches(v))
        .and_then(C::from_index)
    {
        return Ok(c);
    }
    let shown = match v {
        ValueRef::Null | ValueRef::Blob(_) => return Err(wrong_type(v)),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(r) => r.to_string(),
        ValueRef::Text(t) => format!("'{}'", String::from_utf8_lossy(t)),
    };
    let mut list: Vec<String> = C::CHOICES
        .iter()
        .take(LISTED)
        .map(|(c, _)| c.to_string())
        .collect();
    if C::CHOICES.len() > LISTED {
        list.push("...".into());
    }
    Err(format!(
        "{shown} is not one of the choices of {} ({})",
        C::NAME,
        list.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_matches_its_own_storage_class_only() {
        assert!(ChoiceValue::Int(1).matches(ValueRef::Integer(1)));
        assert!(!ChoiceValue::Int(1).matches(ValueRef::Text(b"1")));
        assert!(ChoiceValue::Text("FR").matches(ValueRef::Text(b"FR")));
        assert!(!ChoiceValue::Text("FR").matches(ValueRef::Text(b"fr")));
        assert!(!ChoiceValue::Text("1").matches(ValueRef::Integer(1)));
    }

    #[test]
    fn display_and_value() {
        assert_eq!(ChoiceValue::Text("FR").to_string(), "FR");
        assert_eq!(ChoiceValue::Int(-3).to_string(), "-3");
        assert_eq!(
            Value::from(ChoiceValue::Text("FR")),
            Value::Text("FR".into())
        );
        assert_eq!(Value::from(ChoiceValue::Int(2)), Value::Integer(2));
    }
}
