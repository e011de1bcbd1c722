//! Validation (Django's `full_clean`): field checks, uniqueness against the
//! database, and `limit_choices_to` on relations; every problem at once.

use rusqlite::types::{Value, ValueRef};

use crate::error::{Error, Result, ValidationErrors};
use crate::exec::db::Db;
use crate::meta::types::ToValue;
use crate::meta::{FieldMeta, RelationMeta};
use crate::ops::model::Model;
use crate::query::Q;

/// Runs every check on `obj` and collects the problems per field.
///
/// Like Django: field checks first (blank, `max_length`, a relation's key
/// must be set, point at an existing row and satisfy `limit_choices_to`), then
/// uniqueness for the fields that passed them.
pub(crate) fn full_clean<M: Model>(db: &Db, obj: &M) -> Result<()> {
    let mut errors = Vec::new();
    obj.__clean_fields(&mut errors);
    for m in M::META.chain() {
        for f in m.fields.iter() {
            if let Some(rel) = f.relation.filter(|r| !r.parent_link) {
                if let Some(msg) = check_relation(db, obj, f, rel)? {
                    errors.push((f.name.to_string(), msg));
                }
            }
        }
    }
    let own_pk = obj.pk();
    for m in M::META.chain() {
        for f in m.fields.iter() {
            // Uniqueness: another row with the same value (the instance itself
            // excluded), for fields with no error so far.
            if !f.unique || (f.primary_key && f.auto) || f.relation.is_some_and(|r| r.parent_link) {
                continue;
            }
            if errors.iter().any(|(name, _)| name == f.name) {
                continue;
            }
            let Some(v) = obj.value_of(f.name) else {
                continue;
            };
            if matches!(v, Value::Null) {
                continue;
            }
            let mut q = Q::column_eq(m, f, v);
            if let Some(pk) = &own_pk {
                q = q & !Q::column_eq(m, m.pk_field(), pk.clone());
            }
            // Query the model that declares the field: a multi-table
            // parent's row clashes even when it is not this child.
            if crate::exec::exists_dyn(db, m, q)? {
                errors.push((
                    f.name.to_string(),
                    format!(
                        "{} with this {} already exists.",
                        capfirst(m.verbose_name),
                        capfirst(&f.name.replace('_', " "))
                    ),
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        // Field order (the root ancestor's fields first, like Django's
        // message_dict); a field's messages keep the order they were found in.
        let chain: Vec<_> = M::META.chain().collect();
        let order: Vec<&str> = chain
            .iter()
            .rev()
            .flat_map(|m| m.fields.iter().map(|f| f.name))
            .collect();
        errors
            .sort_by_key(|(field, _)| order.iter().position(|n| n == field).unwrap_or(usize::MAX));
        Err(Error::Validation(ValidationErrors {
            model: M::META.name,
            errors,
        }))
    }
}

/// Django's `ForeignKey.validate`: the key is set (unless nullable), the row
/// exists, and it satisfies `limit_choices_to`.
fn check_relation<M: Model>(
    db: &Db,
    obj: &M,
    f: &'static FieldMeta,
    rel: &'static RelationMeta,
) -> Result<Option<String>> {
    let key = obj.value_of(f.name).unwrap_or(Value::Null);
    if matches!(key, Value::Null) {
        return Ok((!f.null).then(|| "This field cannot be null.".to_string()));
    }
    let target = (rel.target)();
    let to = f.target_field().unwrap_or_else(|| target.pk_field());
    let row = Q::column_eq(target, to, key.clone());
    let limit = limit_choices_to(rel);
    let allowed = match limit {
        Some(limit) => crate::exec::exists_dyn(db, target, row.clone() & limit())?,
        None => crate::exec::exists_dyn(db, target, row.clone())?,
    };
    if allowed {
        return Ok(None);
    }
    // Only on failure: tell a missing row from one outside the choices.
    let exists = limit.is_some() && crate::exec::exists_dyn(db, target, row)?;
    Ok(Some(format!(
        "{} instance with {} {} {}.",
        target.model_name,
        rel.to_field.unwrap_or(target.pk_field().name),
        crate::error::display_value(&key),
        if exists {
            "is not a valid choice"
        } else {
            "does not exist"
        }
    )))
}

/// Django's `capfirst`: the first character in upper case (a verbose name
/// in a message: "Grand parent", "Email").
fn capfirst(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `max_length` and blank checks for one text value (called by the derive).
#[doc(hidden)]
pub fn check_text(
    errors: &mut Vec<(String, String)>,
    field: &'static str,
    text: Option<&str>,
    max_length: Option<usize>,
    blank: bool,
) {
    let Some(text) = text else { return };
    if text.is_empty() && !blank {
        errors.push((field.to_string(), "This field cannot be blank.".into()));
    }
    if let Some(max) = max_length {
        let n = text.chars().count();
        if n > max {
            errors.push((
                field.to_string(),
                format!("Ensure this value has at most {max} characters (it has {n})."),
            ));
        }
    }
}

/// `max_length` for a field of a type of the user's with a text column (a
/// text choices enum, a newtype): the length of its stored text (called by
/// the derive). Django's check of a `choices` field's `max_length` against
/// its longest value (fields.E009) happens here, for the value at hand.
#[doc(hidden)]
pub fn check_max_length<T: ToValue + ?Sized>(
    errors: &mut Vec<(String, String)>,
    field: &'static str,
    value: &T,
    max_length: usize,
) {
    // A value that cannot be stored is reported when it is bound.
    let Ok(stored) = value.to_stored() else {
        return;
    };
    if let ValueRef::Text(t) = stored.as_ref() {
        check_text(
            errors,
            field,
            Some(&String::from_utf8_lossy(t)),
            Some(max_length),
            true,
        );
    }
}

/// A relation's `limit_choices_to`, registered by the derive (it is a query,
/// so it lives with validation rather than in the metadata).
#[doc(hidden)]
pub struct ChoicesEntry(pub &'static RelationMeta, pub fn() -> Q);

inventory::collect!(ChoicesEntry);

/// The `limit_choices_to` of `rel`, if it has one.
pub(crate) fn limit_choices_to(rel: &'static RelationMeta) -> Option<fn() -> Q> {
    use std::collections::HashMap;
    use std::sync::OnceLock;
    static CHOICES: OnceLock<HashMap<usize, fn() -> Q>> = OnceLock::new();
    CHOICES
        .get_or_init(|| {
            inventory::iter::<ChoicesEntry>
                .into_iter()
                .map(|e| (e.0 as *const RelationMeta as usize, e.1))
                .collect()
        })
        .get(&(rel as *const RelationMeta as usize))
        .copied()
}
