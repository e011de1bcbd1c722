//! Check: rules that span several fields or options, one function per rule,
//! each mirroring one of Django's system checks where there is one.

use quote::ToTokens;

use crate::ast::{is_identifier, model_name, tidy, Ctxt, Field, Kind, Model, OnDelete, Relation};

pub fn check(cx: &mut Ctxt, m: &Model) {
    primary_key(cx, m);
    id_is_the_primary_key(cx, m);
    single_parent(cx, m);
    for f in &m.fields {
        at(cx, m, f);
        if let Kind::Relation(rel) | Kind::Parent(rel) = &f.kind {
            set_null_needs_option(cx, f, rel);
            set_default_needs_default(cx, f, rel);
            related_name_valid(cx, m, f, rel);
            reverse_trait_name_valid(cx, m, f, rel);
            related_query_name_valid(cx, m, rel);
        }
        max_length_on_text(cx, f);
        decimal_options(cx, f);
        auto_now_options(cx, f);
    }
    reverse_name_clash(cx, m);
    cx.at(0);
    ordering_fields_exist(cx, m);
}

/// models.E015: each `ordering` term names a field (or its `_id` column, or
/// `pk`). Terms with `__` (a lookup across relations), and on a multi-table
/// child the names that may be the parent's, are checked when a query
/// first uses them.
fn ordering_fields_exist(cx: &mut Ctxt, m: &Model) {
    let Some(span) = m.ordering_span else {
        return;
    };
    let mut names: Vec<String> = vec!["pk".into()];
    let mut has_parent = false;
    for f in &m.fields {
        match &f.kind {
            Kind::Plain => names.push(f.name.clone()),
            Kind::Parent(rel) if rel.implicit_parent => {
                has_parent = true;
                let ptr = format!("{}_ptr", rel.target_name.to_lowercase());
                names.push(format!("{ptr}_id"));
                names.push(ptr);
            }
            Kind::Relation(_) | Kind::Parent(_) => {
                has_parent |= matches!(f.kind, Kind::Parent(_));
                names.push(format!("{}_id", f.name));
                names.push(f.name.clone());
            }
        }
    }
    for term in &m.ordering {
        let name = term.strip_prefix('-').unwrap_or(term);
        if name.contains("__") || names.iter().any(|n| n == name) || has_parent {
            continue;
        }
        let candidates: Vec<&str> = names.iter().map(String::as_str).collect();
        let help = match crate::ast::did_you_mean(name, &candidates) {
            Some(c) => format!(
                "did you mean `{c}`? The fields are: {}",
                candidates.join(", ")
            ),
            None => format!("the fields are: {}", candidates.join(", ")),
        };
        cx.error(
            span,
            format!(
                "'ordering' refers to the nonexistent field, related field, or lookup '{name}'"
            ),
            help,
        );
    }
}

/// Files the next errors under field `f` (see `Ctxt::at`).
fn at(cx: &mut Ctxt, m: &Model, f: &Field) {
    let i = m.fields.iter().position(|x| std::ptr::eq(x, f));
    cx.at(i.map_or(0, |i| i + 1));
}

/// The accessor a relation installs on its target (`related_name`, else the
/// model name in lower case).
pub fn accessor(m: &Model, rel: &Relation) -> String {
    rel.related_name
        .as_ref()
        .map(|l| l.value())
        .unwrap_or_else(|| m.name.to_lowercase())
}

fn camel(s: &str) -> String {
    s.split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// The trait that declares the reverse accessor on the target:
/// `ProfileOfUser` for `User::profile`.
pub fn reverse_trait_name(m: &Model, rel: &Relation) -> String {
    format!("{}Of{}", camel(&accessor(m, rel)), rel.target_name)
}

/// The name lookups from the target use (`related_query_name`, else
/// `related_name`, else the model name in lower case).
fn query_name(m: &Model, rel: &Relation) -> String {
    rel.related_query_name
        .as_ref()
        .map(|l| l.value())
        .unwrap_or_else(|| accessor(m, rel))
}

/// The query name lookups can use: none for a hidden relation (`+`) unless
/// it names one with `related_query_name`.
fn lookup_name(m: &Model, rel: &Relation) -> Option<String> {
    if is_hidden(rel) && rel.related_query_name.is_none() {
        None
    } else {
        Some(query_name(m, rel))
    }
}

fn is_hidden(rel: &Relation) -> bool {
    rel.related_name
        .as_ref()
        .is_some_and(|l| l.value().ends_with('+'))
}

/// models.E026: one primary key, whether the auto `id`, a `primary_key`
/// field, or the parent link of a multi-table child.
fn primary_key(cx: &mut Ctxt, m: &Model) {
    let explicit: Vec<&Field> = m
        .fields
        .iter()
        .filter(|f| f.primary_key.is_some())
        .collect();
    let parent = m.fields.iter().find(|f| matches!(f.kind, Kind::Parent(_)));
    if let Some((first, rest)) = explicit.split_first() {
        for f in rest {
            at(cx, m, f);
            cx.error(
                f.primary_key.unwrap_or_else(|| f.ident.span()),
                format!(
                    "model `{}` cannot have two primary keys: `{}` is already one",
                    m.ident, first.ident
                ),
                "keep `primary_key` on one field; for another unique column write `#[field(unique)]`",
            );
        }
    }
    if let (Some(p), Some(f)) = (parent, explicit.first()) {
        if !std::ptr::eq(*f, p) {
            at(cx, m, f);
            cx.error(
                f.primary_key.unwrap_or_else(|| f.ident.span()),
                format!(
                    "the primary key of multi-table child `{}` is its parent link `{}`",
                    m.ident, p.ident
                ),
                "remove `primary_key` here; the child shares its parent's key",
            );
        }
    }
    if explicit.is_empty() && parent.is_none() {
        match m.fields.iter().find(|f| f.name == "id") {
            Some(f) if f.auto.is_some() => {}
            Some(f) => {
                at(cx, m, f);
                cx.error_spanned(
                    &f.ty,
                    format!(
                        "the automatic primary key `id` must be `Option<i64>` or `Option<i32>`, not `{}`: it is `None` until the first save",
                        tidy(&f.ty)
                    ),
                    "write `pub id: Option<i64>`, or mark the field `#[field(primary_key)]` to set the key yourself",
                );
            }
            None => {
                cx.at(0);
                cx.error(
                    m.ident.span(),
                    format!("model `{}` has no primary key", m.ident),
                    "add `pub id: Option<i64>,` or mark a field `#[field(primary_key)]`",
                );
            }
        }
    }
}

/// models.E004: a field named `id` must be the primary key.
fn id_is_the_primary_key(cx: &mut Ctxt, m: &Model) {
    let Some(pk) = m.fields.iter().find(|f| f.primary_key.is_some()) else {
        return;
    };
    for f in &m.fields {
        if f.name == "id" && f.primary_key.is_none() && matches!(f.kind, Kind::Plain) {
            at(cx, m, f);
            cx.error(
                f.ident.span(),
                format!(
                    "a field named `id` must be the primary key, but `{}` is the primary key of `{}`",
                    pk.ident, m.ident
                ),
                "rename this field, or remove `primary_key` from the other one",
            );
        }
    }
}

/// One parent model (single multi-table inheritance).
fn single_parent(cx: &mut Ctxt, m: &Model) {
    let mut parents = m
        .fields
        .iter()
        .filter(|f| matches!(f.kind, Kind::Parent(_)));
    let Some(first) = parents.next() else {
        return;
    };
    for f in parents {
        at(cx, m, f);
        cx.error(
            f.ident.span(),
            format!(
                "model `{}` can have one parent model, and `{}` is already its parent link",
                m.ident, first.ident
            ),
            "keep one #[parent] (or #[one_to_one(parent_link, ...)]) field",
        );
    }
}

/// fields.E320: SET_NULL on a field that cannot be null.
fn set_null_needs_option(cx: &mut Ctxt, f: &Field, rel: &Relation) {
    // A `null = true` option has been reported with the same fix.
    if matches!(rel.on_delete, Some(OnDelete::SetNull)) && !rel.nullable && !rel.null_given {
        cx.error(
            rel.on_delete_span,
            format!(
                "field `{}` specifies on_delete = \"set_null\", but cannot be null",
                f.ident
            ),
            format!(
                "make it nullable, `pub {}: Option<OneToOne<{}>>`, or change the on_delete rule",
                f.ident,
                tidy(&rel.target)
            ),
        );
    }
}

/// fields.E321: SET_DEFAULT without a default.
fn set_default_needs_default(cx: &mut Ctxt, f: &Field, rel: &Relation) {
    if matches!(rel.on_delete, Some(OnDelete::SetDefault)) && f.default.is_none() {
        cx.error(
            rel.on_delete_span,
            format!(
                "field `{}` specifies on_delete = \"set_default\", but has no default value",
                f.ident
            ),
            "add `default = <key>` to the #[one_to_one(...)] attribute, or change the on_delete rule",
        );
    }
}

/// fields.E306: the reverse accessor must be an identifier (or end with `+`,
/// which hides it). It becomes a method name, so Rust keywords are refused
/// too, including a model name that is one in lower case (`Type`).
fn related_name_valid(cx: &mut Ctxt, m: &Model, f: &Field, rel: &Relation) {
    match &rel.related_name {
        Some(rn) => {
            let v = rn.value();
            if !v.ends_with('+') && !is_identifier(&v) {
                cx.error(
                    rn.span(),
                    format!(
                        "the name \"{v}\" is an invalid related_name for field `{}.{}`",
                        m.ident, f.ident
                    ),
                    "a related name must be a Rust identifier (not a keyword), or end with '+' to hide the reverse accessor",
                );
            }
        }
        None => {
            let acc = accessor(m, rel);
            if !is_identifier(&acc) {
                cx.error(
                    f.ident.span(),
                    format!(
                        "the reverse accessor of `{}.{}` would be `{acc}` (the model name in lower case), which is a Rust keyword",
                        m.ident, f.ident
                    ),
                    "add `related_name = \"...\"` to the #[one_to_one(...)] attribute",
                );
            }
        }
    }
}

/// The reverse accessor's trait is named after it in camel case, which
/// drops underscores: `related_name = "_1"` would give `1OfUser`.
fn reverse_trait_name_valid(cx: &mut Ctxt, m: &Model, f: &Field, rel: &Relation) {
    let acc = accessor(m, rel);
    // A hidden accessor has no trait; an invalid accessor or target is
    // reported already.
    if is_hidden(rel) || !is_identifier(&acc) || model_name(&rel.target).is_none() {
        return;
    }
    let name = reverse_trait_name(m, rel);
    if is_identifier(&name) {
        return;
    }
    let msg = format!(
        "the reverse accessor `{acc}` of `{}.{}` would be declared by a trait named `{name}`, which is not a Rust identifier",
        m.ident, f.ident
    );
    match &rel.related_name {
        Some(rn) => cx.error(rn.span(), msg, "start the related_name with a letter"),
        None => cx.error(
            f.ident.span(),
            msg,
            "add `related_name = \"...\"`, starting with a letter, to the #[one_to_one(...)] attribute",
        ),
    }
}

/// fields.E308/E309: the reverse query name must not end with `_` or contain
/// `__` (the lookup separator). It is `related_query_name`, else
/// `related_name`, else the model name; a hidden relation is exempt.
fn related_query_name_valid(cx: &mut Ctxt, m: &Model, rel: &Relation) {
    if is_hidden(rel) {
        return;
    }
    let Some(lit) = rel
        .related_query_name
        .as_ref()
        .or(rel.related_name.as_ref())
    else {
        return;
    };
    let name = query_name(m, rel);
    const HELP: &str = "add or change a related_name or related_query_name argument for this field";
    if name.ends_with('_') {
        cx.error(
            lit.span(),
            format!("reverse query name \"{name}\" must not end with an underscore"),
            HELP,
        );
    }
    if name.contains("__") {
        cx.error(
            lit.span(),
            format!("reverse query name \"{name}\" must not contain \"__\", the lookup separator"),
            HELP,
        );
    }
}

/// `max_length` applies to text fields (Django ignores it elsewhere with a
/// warning; here it is a mistake).
fn max_length_on_text(cx: &mut Ctxt, f: &Field) {
    if let Some((_, span)) = f.max_length {
        // A type of the user's (a newtype over text) is checked by its
        // `FieldType::COLUMN` when the crate compiles; the built-in ones here.
        let builtin = crate::ast::is_builtin_scalar(&f.ty, false);
        if !f.is_text && builtin && matches!(f.kind, Kind::Plain) {
            cx.error(
                span,
                format!(
                    "`max_length` applies to text fields, but `{}` is `{}`",
                    f.ident,
                    tidy(&f.ty)
                ),
                "remove `max_length`, or make the field a `String` (or `Option<String>`)",
            );
        }
    }
}

/// fields.E130/E132/E134: `max_digits` and `decimal_places` come together,
/// and the places fit in the digits. (A `Decimal` field without them is
/// refused by the type's `FieldType::COLUMN` when the crate compiles.)
fn decimal_options(cx: &mut Ctxt, f: &Field) {
    const HELP: &str = "#[field(max_digits = 10, decimal_places = 2)]";
    match (f.max_digits, f.decimal_places) {
        (Some((d, _)), Some((p, span))) if p > d => cx.error(
            span,
            format!("'max_digits' ({d}) must be greater or equal to 'decimal_places' ({p})"),
            HELP,
        ),
        (Some((_, span)), None) => cx.error(
            span,
            "DecimalFields must define a 'decimal_places' attribute",
            HELP,
        ),
        (None, Some((_, span))) => cx.error(
            span,
            "DecimalFields must define a 'max_digits' attribute",
            HELP,
        ),
        _ => {}
    }
}

/// fields.E160: `auto_now`, `auto_now_add` and `default` exclude each other.
fn auto_now_options(cx: &mut Ctxt, f: &Field) {
    let n =
        usize::from(f.auto_now) + usize::from(f.auto_now_add) + usize::from(f.default.is_some());
    if n > 1 {
        cx.error(
            f.ident.span(),
            "The options auto_now, auto_now_add, and default are mutually exclusive. Only one of these options may be present.",
            "keep one of them",
        );
    }
}

/// fields.E304/E305: two relations of this model to the same target with the
/// same reverse accessor or the same reverse query name. Reported once per
/// pair, on the second field.
fn reverse_name_clash(cx: &mut Ctxt, m: &Model) {
    let rels: Vec<(&Field, &Relation)> = m
        .fields
        .iter()
        .filter_map(|f| match &f.kind {
            Kind::Relation(r) | Kind::Parent(r) => Some((f, &**r)),
            Kind::Plain => None,
        })
        .collect();
    let model = &m.ident;
    for (i, (fa, a)) in rels.iter().enumerate() {
        for (fb, b) in &rels[i + 1..] {
            if a.target.to_token_stream().to_string() != b.target.to_token_stream().to_string() {
                continue;
            }
            at(cx, m, fb);
            let help = format!(
                "add or change a related_name argument to the definition for `{model}.{}` or `{model}.{}`",
                fa.ident, fb.ident
            );
            let target = tidy(&b.target);
            let acc = accessor(m, b);
            if !is_hidden(a) && !is_hidden(b) && accessor(m, a) == acc {
                cx.error(
                    fb.ident.span(),
                    format!(
                        "reverse accessor `{target}.{acc}` for `{model}.{}` clashes with reverse accessor for `{model}.{}`",
                        fb.ident, fa.ident
                    ),
                    help,
                );
            } else if lookup_name(m, a).is_some() && lookup_name(m, a) == lookup_name(m, b) {
                cx.error(
                    fb.ident.span(),
                    format!(
                        "reverse query name `{}` for `{model}.{}` clashes with reverse query name for `{model}.{}`",
                        query_name(m, b),
                        fb.ident,
                        fa.ident
                    ),
                    help.replace("related_name", "related_query_name"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::DeriveInput;

    fn errors(src: &str) -> Vec<String> {
        let input: DeriveInput = syn::parse_str(src).unwrap();
        let mut cx = Ctxt::default();
        let m = crate::ast::parse(&mut cx, &input).unwrap();
        check(&mut cx, &m);
        match cx.into_result() {
            Ok(()) => Vec::new(),
            Err(e) => e
                .into_iter()
                .map(|e| e.to_string().lines().next().unwrap().to_string())
                .collect(),
        }
    }

    #[test]
    fn valid_models_pass() {
        assert_eq!(
            errors("struct U { id: Option<i64>, name: String }"),
            Vec::<String>::new()
        );
        assert_eq!(
            errors("struct C { #[field(primary_key)] code: String }"),
            Vec::<String>::new()
        );
        assert_eq!(
            errors("struct R { #[parent] place: Place, stars: i32 }"),
            Vec::<String>::new()
        );
        assert_eq!(
            errors(
                r#"struct P { id: Option<i64>,
                    #[one_to_one(on_delete = "cascade", related_name = "owned")] owner: OneToOne<U>,
                    #[one_to_one(on_delete = "set_null", related_name = "edited")] editor: Option<OneToOne<U>>,
                    #[one_to_one(on_delete = "cascade", related_name = "+")] a: OneToOne<U>,
                    #[one_to_one(on_delete = "cascade", related_name = "b+")] b: OneToOne<U> }"#
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn primary_keys() {
        assert_eq!(
            errors("struct T { name: String }"),
            ["model `T` has no primary key"]
        );
        assert_eq!(
            errors("struct T { #[field(primary_key)] a: i64, #[field(primary_key)] b: i64 }"),
            ["model `T` cannot have two primary keys: `a` is already one"]
        );
        assert_eq!(
            errors("struct T { id: i64 }"),
            ["the automatic primary key `id` must be `Option<i64>` or `Option<i32>`, not `i64`: it is `None` until the first save"]
        );
        assert_eq!(
            errors("struct T { id: Option<i64>, #[field(primary_key)] code: String }"),
            ["a field named `id` must be the primary key, but `code` is the primary key of `T`"]
        );
        assert_eq!(
            errors("struct R { #[parent] place: Place, #[field(primary_key)] code: String }"),
            ["the primary key of multi-table child `R` is its parent link `place`"]
        );
    }

    #[test]
    fn on_delete_rules_need_their_preconditions() {
        assert_eq!(
            errors(
                r#"struct P { id: Option<i64>, #[one_to_one(on_delete = "set_null")] u: OneToOne<U> }"#
            ),
            ["field `u` specifies on_delete = \"set_null\", but cannot be null"]
        );
        assert_eq!(
            errors(
                r#"struct P { id: Option<i64>, #[one_to_one(on_delete = "set_default")] u: OneToOne<U> }"#
            ),
            ["field `u` specifies on_delete = \"set_default\", but has no default value"]
        );
        assert_eq!(
            errors(
                r#"struct P { id: Option<i64>, #[one_to_one(on_delete = "set_default", default = 1)] u: OneToOne<U> }"#
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn reverse_names() {
        assert_eq!(
            errors(
                r#"struct P { id: Option<i64>, #[one_to_one(on_delete = "cascade", related_name = "self")] u: OneToOne<U> }"#
            ),
            ["the name \"self\" is an invalid related_name for field `P.u`"]
        );
        assert_eq!(
            errors(
                r#"struct P { id: Option<i64>, #[one_to_one(on_delete = "cascade", related_name = "p_")] u: OneToOne<U> }"#
            ),
            ["reverse query name \"p_\" must not end with an underscore"]
        );
        assert_eq!(
            errors(
                r#"struct P { id: Option<i64>, #[one_to_one(on_delete = "cascade", related_query_name = "a__b")] u: OneToOne<U> }"#
            ),
            ["reverse query name \"a__b\" must not contain \"__\", the lookup separator"]
        );
        assert_eq!(
            errors(r#"struct Type { id: Option<i64>, #[one_to_one(on_delete = "cascade")] u: OneToOne<U> }"#),
            ["the reverse accessor of `Type.u` would be `type` (the model name in lower case), which is a Rust keyword"]
        );
    }

    #[test]
    fn reverse_trait_names_must_be_identifiers() {
        assert_eq!(
            errors(
                r#"struct P { id: Option<i64>, #[one_to_one(on_delete = "cascade", related_name = "_1")] u: OneToOne<U> }"#
            ),
            ["the reverse accessor `_1` of `P.u` would be declared by a trait named `1OfU`, which is not a Rust identifier"]
        );
        assert_eq!(
            errors(r#"struct _2P { id: Option<i64>, #[one_to_one(on_delete = "cascade")] u: OneToOne<U> }"#),
            ["the reverse accessor `_2p` of `_2P.u` would be declared by a trait named `2pOfU`, which is not a Rust identifier"]
        );
        assert_eq!(
            errors(
                r#"struct P { id: Option<i64>, #[one_to_one(on_delete = "cascade", related_name = "_a_1")] u: OneToOne<U> }"#
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn clashes_are_reported_once_per_pair() {
        assert_eq!(
            errors(
                r#"struct P { id: Option<i64>,
                    #[one_to_one(on_delete = "cascade")] a: OneToOne<U>,
                    #[one_to_one(on_delete = "cascade")] b: OneToOne<U>,
                    #[one_to_one(on_delete = "cascade")] c: OneToOne<V> }"#
            ),
            ["reverse accessor `U.p` for `P.b` clashes with reverse accessor for `P.a`"]
        );
        assert_eq!(
            errors(
                r#"struct P { id: Option<i64>,
                    #[one_to_one(on_delete = "cascade", related_name = "x", related_query_name = "q")] a: OneToOne<U>,
                    #[one_to_one(on_delete = "cascade", related_name = "y", related_query_name = "q")] b: OneToOne<U> }"#
            ),
            ["reverse query name `q` for `P.b` clashes with reverse query name for `P.a`"]
        );
    }

    #[test]
    fn parse_and_check_errors_read_in_field_order() {
        assert_eq!(
            errors(
                "struct P { id: i64, #[field(colour = 1)] a: i32, #[field(max_length = 1)] b: i32 }"
            ),
            [
                "the automatic primary key `id` must be `Option<i64>` or `Option<i32>`, not `i64`: it is `None` until the first save",
                "unknown `#[field]` option `colour`",
                "`max_length` applies to text fields, but `b` is `i32`",
            ]
        );
    }

    #[test]
    fn max_length_needs_text() {
        assert_eq!(
            errors("struct T { id: Option<i64>, #[field(max_length = 3)] age: i32 }"),
            ["`max_length` applies to text fields, but `age` is `i32`"]
        );
        assert_eq!(
            errors("struct T { id: Option<i64>, #[field(max_length = 3)] code: Option<String> }"),
            Vec::<String>::new()
        );
    }
}
