//! `time` field types (feature `time`), stored exactly as the `chrono` ones:
//! `Date` as `2024-02-29`, `PrimitiveDateTime` and `OffsetDateTime` (in UTC)
//! as `2024-02-29 13:45:00.123456`, `Time` as `13:45:00`, `Duration` as
//! microseconds.

use rusqlite::types::{Value, ValueRef};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use super::{stored_text, wrong_type, ColumnType, FieldType, Stored, ToValue};

const DATE: &[BorrowedFormatItem<'_>] = format_description!("[year]-[month]-[day]");
const TIME: &[BorrowedFormatItem<'_>] =
    format_description!("[hour]:[minute]:[second][optional [.[subsecond]]]");
const DATETIME: &[BorrowedFormatItem<'_>] = format_description!(
    "[year]-[month]-[day][first [ ][T]][hour]:[minute]:[second][optional [.[subsecond]]]"
);
const DATETIME_OUT: &[BorrowedFormatItem<'_>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");

fn owned(s: String) -> Result<Stored<'static>, String> {
    Ok(Stored::Owned(Value::Text(s)))
}

/// `.ffffff` when there are sub-seconds (Django's `isoformat`), else nothing.
fn subsec(nanos: u32) -> String {
    if nanos == 0 {
        String::new()
    } else if nanos.is_multiple_of(1_000) {
        format!(".{:06}", nanos / 1_000)
    } else {
        format!(".{nanos:09}")
    }
}

/// Django's range, years 1 to 9999: beyond it the ISO text would not sort
/// like the dates.
fn in_range(d: Date) -> Result<(), String> {
    if (1..=9999).contains(&d.year()) {
        Ok(())
    } else {
        Err(format!(
            "{d} is outside years 1 to 9999, the dates that are stored as text that sorts like them"
        ))
    }
}

impl ToValue for Date {
    fn to_stored(&self) -> Result<Stored<'_>, String> {
        in_range(*self)?;
        owned(self.format(DATE).map_err(|e| e.to_string())?)
    }
}

impl FieldType for Date {
    const COLUMN: ColumnType = ColumnType::Date;
    fn from_stored(v: ValueRef<'_>) -> Result<Self, String> {
        let s = stored_text(v)?;
        Date::parse(s, DATE).map_err(|e| format!("{s:?} is not a date (YYYY-MM-DD): {e}"))
    }
}

impl ToValue for PrimitiveDateTime {
    fn to_stored(&self) -> Result<Stored<'_>, String> {
        in_range(self.date())?;
        let head = self.format(DATETIME_OUT).map_err(|e| e.to_string())?;
        owned(head + &subsec(self.nanosecond()))
    }
}

impl FieldType for PrimitiveDateTime {
    const COLUMN: ColumnType = ColumnType::DateTime;
    fn from_stored(v: ValueRef<'_>) -> Result<Self, String> {
        let s = stored_text(v)?;
        PrimitiveDateTime::parse(s, DATETIME)
            .map_err(|e| format!("{s:?} is not a date and time (YYYY-MM-DD HH:MM:SS): {e}"))
    }
}

impl ToValue for OffsetDateTime {
    fn to_stored(&self) -> Result<Stored<'_>, String> {
        let utc = self.to_offset(UtcOffset::UTC);
        PrimitiveDateTime::new(utc.date(), utc.time())
            .to_stored()
            .map(|s| Stored::Owned(s.into_value()))
    }
}

impl FieldType for OffsetDateTime {
    const COLUMN: ColumnType = ColumnType::DateTimeTz;
    fn from_stored(v: ValueRef<'_>) -> Result<Self, String> {
        PrimitiveDateTime::from_stored(v).map(PrimitiveDateTime::assume_utc)
    }
}

impl ToValue for Time {
    fn to_stored(&self) -> Result<Stored<'_>, String> {
        let head = format!(
            "{:02}:{:02}:{:02}",
            self.hour(),
            self.minute(),
            self.second()
        );
        owned(head + &subsec(self.nanosecond()))
    }
}

impl FieldType for Time {
    const COLUMN: ColumnType = ColumnType::Time;
    fn from_stored(v: ValueRef<'_>) -> Result<Self, String> {
        let s = stored_text(v)?;
        Time::parse(s, TIME).map_err(|e| format!("{s:?} is not a time (HH:MM:SS): {e}"))
    }
}

impl ToValue for Duration {
    fn to_stored(&self) -> Result<Stored<'_>, String> {
        if self.subsec_nanoseconds() % 1_000 != 0 {
            return Err(format!(
                "{self} is not a whole number of microseconds (DurationField stores microseconds)"
            ));
        }
        i64::try_from(self.whole_microseconds())
            .map(|us| Stored::Owned(Value::Integer(us)))
            .map_err(|_| format!("{self} is too long to store in microseconds"))
    }
}

impl FieldType for Duration {
    const COLUMN: ColumnType = ColumnType::Duration;
    fn from_stored(v: ValueRef<'_>) -> Result<Self, String> {
        match v {
            ValueRef::Integer(us) => Ok(Duration::microseconds(us)),
            v => Err(wrong_type(v)),
        }
    }
}
