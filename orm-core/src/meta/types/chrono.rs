//! `chrono` field types (feature `chrono`), stored as Django stores them on
//! SQLite: `DateField` as `2024-02-29`, `DateTimeField` as
//! `2024-02-29 13:45:00.123456` (in UTC for `DateTime<Utc>`, Django's
//! `USE_TZ = True`), `TimeField` as `13:45:00`, `DurationField` as
//! microseconds. ISO text sorts like the values, so comparisons and ordering
//! in SQL are right.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc};
use rusqlite::types::{Value, ValueRef};

use super::{stored_text, wrong_type, ColumnType, FieldType, Stored, ToValue};

const DATE: &str = "%Y-%m-%d";
const DATETIME: &str = "%Y-%m-%d %H:%M:%S%.f";
const TIME: &str = "%H:%M:%S%.f";

fn text(s: String) -> Result<Stored<'static>, String> {
    Ok(Stored::Owned(Value::Text(s)))
}

/// Django's range, years 1 to 9999: beyond it the ISO text would not sort
/// like the dates (`+10000-01-01` sorts before `2024-01-01`).
fn in_range(d: NaiveDate) -> Result<(), String> {
    use chrono::Datelike;
    if (1..=9999).contains(&d.year()) {
        Ok(())
    } else {
        Err(format!(
            "{d} is outside years 1 to 9999, the dates that are stored as text that sorts like them"
        ))
    }
}

impl ToValue for NaiveDate {
    fn to_stored(&self) -> Result<Stored<'_>, String> {
        in_range(*self)?;
        text(self.format(DATE).to_string())
    }
}

impl FieldType for NaiveDate {
    const COLUMN: ColumnType = ColumnType::Date;
    fn from_stored(v: ValueRef<'_>) -> Result<Self, String> {
        let s = stored_text(v)?;
        NaiveDate::parse_from_str(s, DATE)
            .map_err(|e| format!("{s:?} is not a date (YYYY-MM-DD): {e}"))
    }
}

impl ToValue for NaiveDateTime {
    fn to_stored(&self) -> Result<Stored<'_>, String> {
        in_range(self.date())?;
        text(self.format(DATETIME).to_string())
    }
}

/// Reads Django's `YYYY-MM-DD HH:MM:SS[.ffffff]`, also with a `T` and with
/// an offset (as other programs write it); an offset is applied.
fn parse_datetime(s: &str) -> Result<NaiveDateTime, String> {
    let t = s.replacen('T', " ", 1);
    if let Ok(dt) = NaiveDateTime::parse_from_str(&t, DATETIME) {
        return Ok(dt);
    }
    let zoned = t
        .strip_suffix('Z')
        .map_or(t.clone(), |x| format!("{x}+00:00"));
    DateTime::<FixedOffset>::parse_from_str(&zoned, "%Y-%m-%d %H:%M:%S%.f%:z")
        .map(|dt| dt.naive_utc())
        .or_else(|_| NaiveDate::parse_from_str(&t, DATE).map(|d| d.and_time(NaiveTime::MIN)))
        .map_err(|e| format!("{s:?} is not a date and time (YYYY-MM-DD HH:MM:SS): {e}"))
}

impl FieldType for NaiveDateTime {
    const COLUMN: ColumnType = ColumnType::DateTime;
    fn from_stored(v: ValueRef<'_>) -> Result<Self, String> {
        parse_datetime(stored_text(v)?)
    }
}

impl ToValue for DateTime<Utc> {
    fn to_stored(&self) -> Result<Stored<'_>, String> {
        self.naive_utc()
            .to_stored()
            .map(|s| Stored::Owned(s.into_value()))
    }
}

impl FieldType for DateTime<Utc> {
    const COLUMN: ColumnType = ColumnType::DateTimeTz;
    fn from_stored(v: ValueRef<'_>) -> Result<Self, String> {
        NaiveDateTime::from_stored(v).map(|dt| dt.and_utc())
    }
}

/// A value with an offset is compared and stored in UTC, as Django does.
impl ToValue for DateTime<FixedOffset> {
    fn to_stored(&self) -> Result<Stored<'_>, String> {
        self.naive_utc()
            .to_stored()
            .map(|s| Stored::Owned(s.into_value()))
    }
}

impl ToValue for NaiveTime {
    fn to_stored(&self) -> Result<Stored<'_>, String> {
        text(self.format(TIME).to_string())
    }
}

impl FieldType for NaiveTime {
    const COLUMN: ColumnType = ColumnType::Time;
    fn from_stored(v: ValueRef<'_>) -> Result<Self, String> {
        let s = stored_text(v)?;
        NaiveTime::parse_from_str(s, TIME)
            .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M"))
            .map_err(|e| format!("{s:?} is not a time (HH:MM:SS): {e}"))
    }
}

impl ToValue for TimeDelta {
    fn to_stored(&self) -> Result<Stored<'_>, String> {
        // Django stores whole microseconds; a finer duration would be cut.
        if self.subsec_nanos() % 1_000 != 0 {
            return Err(format!(
                "{self} is not a whole number of microseconds (DurationField stores microseconds)"
            ));
        }
        self.num_microseconds()
            .map(|us| Stored::Owned(Value::Integer(us)))
            .ok_or_else(|| format!("{self} is too long to store in microseconds"))
    }
}

impl FieldType for TimeDelta {
    const COLUMN: ColumnType = ColumnType::Duration;
    fn from_stored(v: ValueRef<'_>) -> Result<Self, String> {
        match v {
            ValueRef::Integer(us) => Ok(TimeDelta::microseconds(us)),
            v => Err(wrong_type(v)),
        }
    }
}
