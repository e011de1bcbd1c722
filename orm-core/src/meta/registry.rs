//! The app registry: every model in the program, found without a list.
//!
//! `#[derive(Model)]` submits each model's metadata to an [`inventory`]
//! collection at link time, wherever the model is defined (any module, any
//! crate). The registry is built once, on first use, and checked with Django's
//! system checks; [`crate::Db`] refuses to open when a check fails.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::meta::{FieldMeta, ModelMeta, OnDelete, RelationMeta};

/// One registered model, as submitted by the derive.
#[doc(hidden)]
pub struct ModelEntry(pub fn() -> &'static ModelMeta);

inventory::collect!(ModelEntry);

/// A relation seen from its target: a model that points at `target`.
#[derive(Debug, Clone, Copy)]
pub struct ReverseRelation {
    /// The model that declares the one-to-one field.
    pub source: &'static ModelMeta,
    /// The field that holds the key.
    pub field: &'static FieldMeta,
    /// The relation options.
    pub rel: &'static RelationMeta,
    /// The model pointed at.
    pub target: &'static ModelMeta,
}

impl ReverseRelation {
    /// The reverse accessor name (`profile`), Django's `get_accessor_name()`.
    pub fn accessor(&self) -> &'static str {
        self.rel.related_name.unwrap_or(self.source.model_name)
    }

    /// The reverse query name used in lookups and `select_related`.
    pub fn query_name(&self) -> &'static str {
        self.rel
            .related_query_name
            .or(self.rel.related_name)
            .unwrap_or(self.source.model_name)
    }

    /// A `related_name` ending in `+` hides the reverse accessor (cascades still run).
    pub fn is_hidden(&self) -> bool {
        self.accessor().ends_with('+')
    }

    /// `'Source.field'`, the key Django uses in Protected/Restricted errors.
    pub fn key(&self) -> String {
        format!("{}.{}", self.source.name, self.field.name)
    }
}

/// All models and the reverse relations pointing at each.
pub struct Registry {
    models: Vec<&'static ModelMeta>,
    reverse: HashMap<usize, Vec<ReverseRelation>>,
    errors: Vec<String>,
}

static REGISTRY: OnceLock<Registry> = OnceLock::new();

/// The registry's key of a model: its concrete model, so that a proxy and
/// the model it proxies share their reverse relations (Django resolves
/// relations to a proxy on the concrete model).
fn key(m: &'static ModelMeta) -> usize {
    m.concrete() as *const ModelMeta as usize
}

/// The registry of this program.
pub fn registry() -> &'static Registry {
    REGISTRY.get_or_init(|| {
        let mut models: Vec<&'static ModelMeta> = inventory::iter::<ModelEntry>
            .into_iter()
            .map(|e| (e.0)())
            .collect();
        models.sort_by_key(|m| (m.app_label, m.name));
        models.dedup_by(|a, b| a.is(b));
        let mut reverse: HashMap<usize, Vec<ReverseRelation>> = HashMap::new();
        // Reverse relations in the order the models are defined (Django's
        // `related_objects` follow the app registry's order), which is the
        // order the delete collector discovers them in.
        let mut defined = models.clone();
        defined.sort_by_key(|m| m.defined_at);
        for m in &defined {
            for (field, rel) in m.relations() {
                let target = (rel.target)();
                reverse
                    .entry(key(target))
                    .or_default()
                    .push(ReverseRelation {
                        source: m,
                        field,
                        rel,
                        target,
                    });
            }
        }
        let mut reg = Registry {
            models,
            reverse,
            errors: Vec::new(),
        };
        reg.errors = reg.run_checks();
        reg
    })
}

/// Every registered model.
pub fn models() -> &'static [&'static ModelMeta] {
    &registry().models
}

impl Registry {
    /// Every registered model, sorted by label.
    pub fn models(&self) -> &[&'static ModelMeta] {
        &self.models
    }

    /// The relations that point directly at `model` (not at its ancestors).
    pub fn reverse_of(&self, model: &'static ModelMeta) -> &[ReverseRelation] {
        self.reverse
            .get(&key(model))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The reverse relation of `model` or an ancestor with the given query name,
    /// with the depth of the model it points at.
    pub fn reverse_by_query_name(
        &self,
        model: &'static ModelMeta,
        name: &str,
    ) -> Option<(usize, ReverseRelation)> {
        model.chain().enumerate().find_map(|(d, m)| {
            self.reverse_of(m)
                .iter()
                .find(|r| !r.is_hidden() && r.query_name() == name)
                .filter(|r| d == 0 || !r.rel.parent_link)
                .map(|r| (d, *r))
        })
    }

    /// The reverse relation that a given relation field creates.
    pub fn reverse_for(&self, rel: &RelationMeta) -> Option<ReverseRelation> {
        let target = (rel.target)();
        self.reverse_of(target)
            .iter()
            .find(|r| std::ptr::eq(r.rel, rel))
            .copied()
    }

    /// The problems Django's system checks would report, one line each.
    pub fn check_errors(&self) -> &[String] {
        &self.errors
    }

    /// Django's system checks over the whole program (fields.E302-E312, E304/E305,
    /// duplicate tables). Checks the derive can make on its own are compile errors.
    fn run_checks(&self) -> Vec<String> {
        let mut errors = Vec::new();
        let mut tables: HashMap<&str, &ModelMeta> = HashMap::new();
        // A proxy shares its concrete model's table and relations: checked there.
        for m in self.models.iter().filter(|m| !m.is_proxy()) {
            if let Some(other) = tables.insert(m.table, m) {
                errors.push(format!(
                    "models.E028: db_table '{}' is used by multiple models: {}, {}.",
                    m.table,
                    other.label(),
                    m.label()
                ));
            }
        }
        for m in self.models.iter().filter(|m| !m.is_proxy()) {
            let rels = self.reverse_of(m);
            for (i, r) in rels.iter().enumerate() {
                let field_label = format!("{}.{}", r.source.label(), r.field.name);
                // E312 / E311: to_field must exist and be unique.
                if let Some(to) = r.rel.to_field {
                    match m.local_field(to) {
                        None => errors.push(format!(
                            "fields.E312: The to_field '{to}' doesn't exist on the related model '{}'.",
                            m.label()
                        )),
                        Some(f) if !f.unique && !f.primary_key => errors.push(format!(
                            "fields.E311: '{}.{}' must be unique because it is referenced by a foreign key. HINT: Add #[field(unique)] to this field.",
                            m.name, f.name
                        )),
                        _ => {}
                    }
                }
                // A to_field chain must end at a column that is not a
                // relation (A.b -> B.a -> A.b never does): the column type,
                // the value checks and the DDL all follow it, and a cycle
                // overflowed the stack (an abort, not even a panic).
                if let Some(cycle) = to_field_cycle(r.source, r.field) {
                    errors.push(format!(
                        "{field_label}: the to_field chain {cycle} comes back to itself and never reaches a column that is not a relation. HINT: Point one of these relations at a field that is not a relation."
                    ));
                }
                if matches!(r.rel.on_delete, OnDelete::SetDefault) && r.field.default.is_none() {
                    errors.push(format!(
                        "fields.E321: {field_label}: Field specifies on_delete=SET_DEFAULT, but has no default value. HINT: Set a default value, or change the on_delete rule."
                    ));
                }
                let qn = r.query_name();
                if qn.ends_with('_') && !r.is_hidden() {
                    errors.push(format!(
                        "fields.E308: {field_label}: Reverse query name '{qn}' must not end with an underscore."
                    ));
                }
                if qn.contains("__") {
                    errors.push(format!(
                        "fields.E309: {field_label}: Reverse query name '{qn}' must not contain '__'."
                    ));
                }
                if !r.is_hidden() {
                    // E302 / E303: clash with a field of the target.
                    if let Some((_, f)) = m.find_field(r.accessor()) {
                        errors.push(format!(
                            "fields.E302: Reverse accessor '{}.{}' for '{field_label}' clashes with field name '{}.{}'. HINT: Rename field '{}.{}', or add/change a related_name argument to the definition for field '{field_label}'.",
                            m.name, r.accessor(), m.label(), f.name, m.label(), f.name
                        ));
                    }
                    // E304 / E305: two relations with the same accessor.
                    for other in rels.iter().skip(i + 1) {
                        if other.is_hidden() {
                            continue;
                        }
                        let other_label = format!("{}.{}", other.source.label(), other.field.name);
                        if other.accessor() == r.accessor() {
                            errors.push(format!(
                                "fields.E304: Reverse accessor '{}.{}' for '{field_label}' clashes with reverse accessor for '{other_label}'. HINT: Add or change a related_name argument to the definition for '{field_label}' or '{other_label}'.",
                                m.name, r.accessor()
                            ));
                        }
                        if other.query_name() == r.query_name() {
                            errors.push(format!(
                                "fields.E305: Reverse query name for '{field_label}' clashes with reverse query name for '{other_label}'. HINT: Add or change a related_name argument to the definition for '{field_label}' or '{other_label}'."
                            ));
                        }
                    }
                }
            }
        }
        errors
    }
}

/// The fields of `field`'s `to_field` chain, as `Model.field -> ...`, when
/// the chain comes back to a field it went through; `None` when it ends.
/// One hop at a time (`target_field` does not recurse), each field once.
fn to_field_cycle(model: &'static ModelMeta, field: &'static FieldMeta) -> Option<String> {
    let mut seen: Vec<&'static FieldMeta> = vec![field];
    let mut names = vec![format!("{}.{}", model.name, field.name)];
    let mut at = field;
    while let Some(rel) = at.relation {
        let next = at.target_field().filter(|f| f.relation.is_some())?;
        names.push(format!("{}.{}", (rel.target)().name, next.name));
        if seen.iter().any(|f| std::ptr::eq(*f, next)) {
            return Some(names.join(" -> "));
        }
        seen.push(next);
        at = next;
    }
    None
}
