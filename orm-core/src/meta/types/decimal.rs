//! `rust_decimal::Decimal` as Django's `DecimalField` (feature `decimal`),
//! with `#[field(max_digits = 10, decimal_places = 2)]`.
//!
//! SQLite has no decimal type: a `decimal` column keeps numbers as 64-bit
//! integers or floats, so comparisons and ordering are numeric. A float holds
//! 15 significant digits exactly; a value with more is refused rather than
//! rounded, and values are read back at the field's `decimal_places`
//! (`1.10` stays `1.10`).

use std::str::FromStr;

use rusqlite::types::{Value, ValueRef};
use rust_decimal::Decimal;

use super::{stored_text, wrong_type, ColumnType, FieldType, Stored, ToValue};
use crate::meta::FieldMeta;

/// The significant digits a 64-bit float keeps exactly.
const EXACT_DIGITS: u32 = 15;

/// Digits before and after the point of `d` without trailing zeros.
fn digits(d: Decimal) -> (u32, u32) {
    let n = d.normalize();
    let scale = n.scale();
    let mantissa = n.mantissa().unsigned_abs();
    let total = if mantissa == 0 {
        1
    } else {
        mantissa.ilog10() + 1
    };
    (total.saturating_sub(scale), scale)
}

impl ToValue for Decimal {
    fn to_stored(&self) -> Result<Stored<'_>, String> {
        let (whole, places) = digits(*self);
        if whole + places > EXACT_DIGITS {
            return Err(format!(
                "{self} has {} significant digits; SQLite stores decimals as 64-bit floats, exact to {EXACT_DIGITS}",
                whole + places
            ));
        }
        let n = self.normalize();
        if n.scale() == 0 {
            if let Ok(i) = i64::try_from(n.mantissa()) {
                return Ok(Stored::Owned(Value::Integer(i)));
            }
        }
        // A REAL, as the `decimal` column's NUMERIC affinity would make of
        // the text anyway (exact within the 15 digits checked above), so
        // it also compares as a number where no column converts it (a JSON
        // key, an expression).
        let text = n.to_string();
        text.parse::<f64>()
            .map(|r| Stored::Owned(Value::Real(r)))
            .map_err(|e| format!("{text} cannot be stored as a number: {e}"))
    }
}

impl FieldType for Decimal {
    const COLUMN: ColumnType = ColumnType::Decimal;
    const USES_FIELD: bool = true;

    fn from_stored(v: ValueRef<'_>) -> Result<Self, String> {
        match v {
            ValueRef::Integer(i) => Ok(Decimal::from(i)),
            // `Display` of a float is its shortest exact form: `0.1`, not
            // `0.1000000000000000055511151231257827`.
            ValueRef::Real(r) => Decimal::from_str(&r.to_string())
                .or_else(|_| Decimal::from_scientific(&format!("{r:e}")))
                .map_err(|e| format!("{r} is not a decimal this type can hold: {e}")),
            ValueRef::Text(_) => {
                let s = stored_text(v)?;
                Decimal::from_str(s)
                    .or_else(|_| Decimal::from_scientific(s))
                    .map_err(|e| format!("{s:?} is not a decimal: {e}"))
            }
            v => Err(wrong_type(v)),
        }
    }

    fn from_stored_field(v: ValueRef<'_>, field: &'static FieldMeta) -> Result<Self, String> {
        let mut d = Self::from_stored(v)?;
        if let Some((_, places)) = field.decimal {
            d.rescale(places);
        }
        Ok(d)
    }

    fn check_field(&self, field: &'static FieldMeta) -> Result<(), String> {
        let Some((max_digits, places)) = field.decimal else {
            return Ok(());
        };
        let (whole, frac) = digits(*self);
        if frac > places {
            return Err(format!(
                "Ensure that there are no more than {places} decimal places."
            ));
        }
        if whole + places > max_digits {
            return Err(if whole > max_digits - places.min(max_digits) {
                format!(
                    "Ensure that there are no more than {} digits before the decimal point.",
                    max_digits - places.min(max_digits)
                )
            } else {
                format!("Ensure that there are no more than {max_digits} digits in total.")
            });
        }
        Ok(())
    }
}
