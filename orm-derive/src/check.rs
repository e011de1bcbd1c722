//! Check: rules that span several fields or options, one function per rule,
//! each mirroring one of Django's system checks where there is one.

use quote::ToTokens;
use syn::spanned::Spanned;

use crate::ast::{Ctxt, Field, Kind, Model, OnDelete, Relation};

pub fn check(cx: &mut Ctxt, m: &Model) {
    primary_key(cx, m);
    single_parent(cx, m);
    for f in &m.fields {
        if let Kind::Relation(rel) | Kind::Parent(rel) = &f.kind {
            on_delete_present(cx, rel);
            set_null_needs_option(cx, f, rel);
            set_default_needs_default(cx, f, rel);
            related_name_valid(cx, m, f, rel);
        }
        max_length_on_text(cx, f);
    }
    reverse_accessor_clash(cx, m);
}

/// The accessor a relation installs on its target (`related_name`, else the
/// model name in lower case).
pub fn accessor(m: &Model, rel: &Relation) -> String {
    rel.related_name
        .as_ref()
        .map(|l| l.value())
        .unwrap_or_else(|| m.ident.to_string().to_lowercase())
}

/// Exactly one primary key: the auto `id`, a `primary_key` field, or the
/// parent link of a multi-table child.
fn primary_key(cx: &mut Ctxt, m: &Model) {
    let explicit: Vec<&Field> = m.fields.iter().filter(|f| f.primary_key).collect();
    let parent = m.fields.iter().find(|f| matches!(f.kind, Kind::Parent(_)));
    if explicit.len() > 1 {
        for f in &explicit[1..] {
            cx.error(
                f.ident.span(),
                format!("model `{}` declares more than one primary key", m.ident),
                Some("keep `primary_key` on one field only"),
            );
        }
    }
    if let (Some(p), Some(f)) = (parent, explicit.first()) {
        if !std::ptr::eq(*f, p) {
            cx.error(
                f.ident.span(),
                "a multi-table child's primary key is its parent link",
                Some("remove `primary_key` here; the child shares its parent's key"),
            );
        }
    }
    if explicit.is_empty() && parent.is_none() {
        match m.fields.iter().find(|f| f.ident == "id") {
            Some(f) if f.auto.is_some() => {}
            Some(f) => cx.error(
                f.ty.span(),
                "the automatic primary key `id` must be `Option<i64>` (or `Option<i32>`): `None` until the first save",
                Some("pub id: Option<i64>,"),
            ),
            None => cx.error(
                m.ident.span(),
                format!("model `{}` has no primary key", m.ident),
                Some("add `pub id: Option<i64>,` or mark a field `#[field(primary_key)]`"),
            ),
        }
    }
}

/// One parent model (single multi-table inheritance).
fn single_parent(cx: &mut Ctxt, m: &Model) {
    let parents: Vec<&Field> = m
        .fields
        .iter()
        .filter(|f| matches!(f.kind, Kind::Parent(_)))
        .collect();
    for f in parents.iter().skip(1) {
        cx.error(
            f.ident.span(),
            "a model can have one parent model",
            Some("keep one #[parent] (or #[one_to_one(parent_link, ...)]) field"),
        );
    }
}

/// `on_delete` is required (Django: missing positional argument).
fn on_delete_present(cx: &mut Ctxt, rel: &Relation) {
    if rel.on_delete.is_none() && !rel.on_delete_seen {
        cx.error(
            rel.attr_span,
            "#[one_to_one] needs an `on_delete` rule",
            Some(crate::ast::ON_DELETE_HELP),
        );
    }
}

/// fields.E320: SET_NULL on a field that cannot be null.
fn set_null_needs_option(cx: &mut Ctxt, f: &Field, rel: &Relation) {
    if matches!(rel.on_delete, Some(OnDelete::SetNull)) && !rel.nullable {
        cx.error(
            rel.on_delete_span,
            format!("field `{}` specifies on_delete = \"set_null\", but cannot be null", f.ident),
            Some(&format!(
                "make it nullable: `pub {}: Option<OneToOne<{}>>`, or change the on_delete rule",
                f.ident,
                rel.target.to_token_stream()
            )),
        );
    }
}

/// fields.E321: SET_DEFAULT without a default.
fn set_default_needs_default(cx: &mut Ctxt, f: &Field, rel: &Relation) {
    if matches!(rel.on_delete, Some(OnDelete::SetDefault)) && f.default.is_none() {
        cx.error(
            rel.on_delete_span,
            format!("field `{}` specifies on_delete = \"set_default\", but has no default value", f.ident),
            Some("add `default = <key>` to the #[one_to_one(...)] attribute, or change the on_delete rule"),
        );
    }
}

fn is_rust_keyword(s: &str) -> bool {
    syn::parse_str::<syn::Ident>(s).is_err()
}

/// fields.E306/E308/E309: related names must be identifiers (or end in `+`).
fn related_name_valid(cx: &mut Ctxt, m: &Model, f: &Field, rel: &Relation) {
    if let Some(rn) = &rel.related_name {
        let v = rn.value();
        if !v.ends_with('+') && (v.is_empty() || is_rust_keyword(&v)) {
            cx.error(
                rn.span(),
                format!("the name '{v}' is an invalid related_name for field {}.{}", m.ident, f.ident),
                Some("a related name must be a valid Rust identifier, or end with '+' to hide the reverse accessor"),
            );
        }
    }
    if let Some(q) = &rel.related_query_name {
        let v = q.value();
        if v.ends_with('_') {
            cx.error(q.span(), format!("reverse query name '{v}' must not end with an underscore"), Some("related_query_name = \"profile\""));
        }
        if v.contains("__") {
            cx.error(q.span(), format!("reverse query name '{v}' must not contain '__'"), Some("related_query_name = \"profile\""));
        }
    }
}

/// max_length applies to text fields.
fn max_length_on_text(cx: &mut Ctxt, f: &Field) {
    if f.max_length.is_some() && !f.is_text && matches!(f.kind, Kind::Plain) {
        cx.error(
            f.ty.span(),
            format!("`max_length` needs a text field, but `{}` is not a `String`", f.ident),
            Some("use `String` (or `Option<String>`), or drop max_length"),
        );
    }
}

/// fields.E304: two relations of this model to the same target with the same
/// reverse accessor.
fn reverse_accessor_clash(cx: &mut Ctxt, m: &Model) {
    let rels: Vec<(&Field, &Relation)> = m
        .fields
        .iter()
        .filter_map(|f| match &f.kind {
            Kind::Relation(r) | Kind::Parent(r) => Some((f, &**r)),
            Kind::Plain => None,
        })
        .collect();
    for (i, (fa, a)) in rels.iter().enumerate() {
        for (fb, b) in rels.iter().skip(i + 1) {
            let (na, nb) = (accessor(m, a), accessor(m, b));
            if na.ends_with('+') || nb.ends_with('+') {
                continue;
            }
            if na == nb && a.target.to_token_stream().to_string() == b.target.to_token_stream().to_string() {
                cx.error(
                    fb.ident.span(),
                    format!(
                        "reverse accessor '{}.{na}' for '{}.{}' clashes with reverse accessor for '{}.{}'",
                        b.target.to_token_stream(),
                        m.ident,
                        fb.ident,
                        m.ident,
                        fa.ident
                    ),
                    Some(&format!(
                        "add or change a related_name argument to the definition for '{}.{}' or '{}.{}'",
                        m.ident, fa.ident, m.ident, fb.ident
                    )),
                );
            }
        }
    }
}
