//! Validation (Django's `full_clean`): field checks, uniqueness against the
//! database, and `limit_choices_to` on relations; every problem at once.

use rusqlite::types::Value;

use crate::db::Db;
use crate::error::{Error, Result, ValidationErrors};
use crate::model::Model;
use crate::query::{QuerySet, Q};

/// Runs every check on `obj` and collects the problems per field.
pub(crate) fn full_clean<M: Model>(db: &Db, obj: &M) -> Result<()> {
    let mut errors = Vec::new();
    obj.__clean_fields(&mut errors);
    let own_pk = obj.pk();
    for (depth, m) in M::META.chain().enumerate() {
        for f in m.fields.iter() {
            // Uniqueness: another row with the same value (the instance itself excluded).
            if (f.unique && !(f.primary_key && f.auto)) && !(f.relation.is_some_and(|r| r.parent_link)) {
                let Some(v) = obj.value_of(f.name) else { continue };
                if matches!(v, Value::Null) {
                    continue;
                }
                let mut q = Q::kw(f.name, v);
                if let Some(pk) = &own_pk {
                    q = q & !Q::kw("pk", pk.clone());
                }
                if QuerySet::<M>::new().filter(q).exists(db)? {
                    errors.push((
                        f.name.to_string(),
                        format!("{} with this {} already exists.", m.name, verbose(f.name)),
                    ));
                }
            }
            // limit_choices_to: the related row must match the lookups.
            if let Some(rel) = f.relation {
                let _ = depth;
                if let (Some(limit), Some(key)) = (rel.limit_choices_to, obj.value_of(f.name)) {
                    if matches!(key, Value::Null) {
                        continue;
                    }
                    let target = (rel.target)();
                    let to = rel.to_field.unwrap_or("pk");
                    let ok = crate::exec::exists_dyn(db, target, Q::kw(to, key.clone()) & limit())?;
                    if !ok {
                        errors.push((
                            f.name.to_string(),
                            format!(
                                "{} instance with {} {} is not a valid choice.",
                                target.model_name,
                                if rel.to_field.is_some() { to } else { "id" },
                                crate::delete::display_value(&key)
                            ),
                        ));
                    }
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(ValidationErrors {
            model: M::META.name,
            errors,
        }))
    }
}

fn verbose(name: &str) -> String {
    let mut s = name.replace('_', " ");
    if let Some(first) = s.get(0..1) {
        let up = first.to_uppercase();
        s.replace_range(0..1, &up);
    }
    s
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
