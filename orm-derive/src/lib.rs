//! `#[derive(Model)]` and `#[derive(Choices)]` for `orm-core`. Use them
//! through `orm_core::Model` and `orm_core::Choices`.
//!
//! The derive runs in three stages, each in its own module: parse (`ast`)
//! the struct into a typed model with every attribute decided, `check` the
//! rules that span fields (Django's system checks that can be made at compile
//! time), then `expand` into the `Model` impl, the static metadata and the
//! accessors. Every mistake is reported at once, spanned on the offending
//! token, with a `help:` showing the right form; a stub impl then keeps one
//! mistake from setting off errors elsewhere.

mod abstract_base;
mod ast;
mod check;
mod choices;
mod expand;
mod proxy;
mod symbol;

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

/// Derives `orm_core::Model`. See the `orm-core` crate docs for the attributes:
/// `#[model(app, table)]`, `#[field(primary_key, unique, blank, max_length,
/// default, db_column, db_type)]`, `#[one_to_one(on_delete, related_name,
/// related_query_name, to_field, primary_key, parent_link, db_constraint,
/// db_column, default, limit_choices_to(...))]` and `#[parent]`.
#[proc_macro_derive(Model, attributes(model, field, one_to_one, parent))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    derive(&input).into()
}

/// Derives `orm_core::Choices` (with `ToValue` and `FieldType`) for a
/// fieldless enum: each variant carries `#[choice("FR", label = "Freshman")]`
/// or `#[choice(1)]` (Django's `TextChoices` and `IntegerChoices`); the label
/// defaults to the variant's name in words.
#[proc_macro_derive(Choices, attributes(choice))]
pub fn derive_choices(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    choices::derive(&input).into()
}

/// Copies the fields of an abstract base model into this model (Django's
/// abstract inheritance): `#[orm_core::extends(Timestamped)]` above
/// `#[derive(Model)]`. The base derives `Model` with `#[model(abstract)]`
/// and must be in scope (`use` it like the type).
#[proc_macro_attribute]
pub fn extends(attr: TokenStream, item: TokenStream) -> TokenStream {
    abstract_base::extends(attr.into(), item.into()).into()
}

/// The second half of [`extends`], called by the base's generated macro.
#[doc(hidden)]
#[proc_macro]
pub fn splice(input: TokenStream) -> TokenStream {
    abstract_base::splice(input.into()).into()
}

/// Parse, check, expand; on any mistake, every error plus a stub impl.
fn derive(input: &DeriveInput) -> proc_macro2::TokenStream {
    let mut cx = ast::Ctxt::default();
    let special = if proxy::is_proxy(input) {
        Some(proxy::derive as fn(&mut ast::Ctxt, &DeriveInput) -> _)
    } else if abstract_base::is_abstract(input) {
        Some(abstract_base::derive as fn(&mut ast::Ctxt, &DeriveInput) -> _)
    } else {
        None
    };
    if let Some(special) = special {
        let out = special(&mut cx, input);
        return match (cx.into_result(), out) {
            (Ok(()), Some(out)) => out,
            (Ok(()), None) => proc_macro2::TokenStream::new(),
            (Err(errors), _) => errors.into_compile_error(),
        };
    }
    let model = ast::parse(&mut cx, input);
    if let Some(m) = &model {
        check::check(&mut cx, m);
    }
    match (cx.into_result(), model) {
        (Ok(()), Some(m)) => expand::expand(&m),
        // `parse` returns `None` only after reporting why.
        (Ok(()), None) => proc_macro2::TokenStream::new(),
        (Err(errors), _) => {
            let mut out = errors.into_compile_error();
            out.extend(expand::fallback(input));
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(src: &str) -> String {
        derive(&syn::parse_str(src).unwrap()).to_string()
    }

    #[test]
    fn valid_model_expands_to_the_impl_without_errors() {
        let out = expand("struct User { id: Option<i64>, name: String }");
        assert!(out.contains("impl :: orm_core :: __private :: Record for User"));
        assert!(!out.contains("compile_error"));
    }

    #[test]
    fn mistakes_come_with_a_stub_impl() {
        let out = expand("struct Tag { #[field(colour = 1)] name: String }");
        assert_eq!(out.matches("compile_error").count(), 2, "{out}");
        assert!(out.contains("impl :: orm_core :: __private :: Record for Tag"));
        assert!(out.contains("unreachable"));
    }

    /// The error messages of `src`, first lines only.
    fn errors(src: &str) -> Vec<String> {
        let mut cx = ast::Ctxt::default();
        let input = syn::parse_str(src).unwrap();
        if let Some(m) = ast::parse(&mut cx, &input) {
            check::check(&mut cx, &m);
        }
        match cx.into_result() {
            Ok(()) => Vec::new(),
            Err(e) => e
                .into_iter()
                .map(|e| e.to_string().lines().next().unwrap_or("").to_string())
                .collect(),
        }
    }

    /// Types that are not a model's path, as a relation target: each is one
    /// spanned error (the derive used to panic building an identifier from
    /// some of them).
    const NOT_A_MODEL_PATH: &[&str] = &[
        "[User; 1]",
        "[User]",
        "&'static User",
        "*const User",
        "(User,)",
        "(User, User)",
        "()",
        "dyn Model",
        "impl Model",
        "fn() -> User",
        "!",
        "_",
        "Self",
        "<User as Trait>::Model",
        "Option<User>",
        "OneToOne<User>",
        "Vec<User>",
        "m!()",
    ];

    #[test]
    fn relation_targets_that_are_not_model_paths_are_errors() {
        for ty in NOT_A_MODEL_PATH {
            for (rule, field) in [
                ("cascade", format!("OneToOne<{ty}>")),
                ("set_null", format!("Option<OneToOne<{ty}>>")),
            ] {
                let src = format!(
                    r#"struct P {{ id: Option<i64>, #[one_to_one(on_delete = "{rule}")] u: {field} }}"#
                );
                assert!(expand(&src).contains("compile_error"), "{src}");
                assert_eq!(
                    errors(&src),
                    [format!(
                        "a `#[one_to_one]` target must be a model type path, not `{}`",
                        ast::tidy(syn::parse_str::<syn::Type>(ty).unwrap())
                    )],
                    "{src}"
                );
            }
        }
    }

    #[test]
    fn parents_that_are_not_model_paths_are_errors() {
        for ty in NOT_A_MODEL_PATH {
            for (attr, what) in [
                ("#[parent]", "a `#[parent]` field"),
                (
                    r#"#[one_to_one(parent_link, on_delete = "cascade")]"#,
                    "a `#[one_to_one(parent_link)]` field",
                ),
            ] {
                let src = format!("struct R {{ {attr} p: {ty}, stars: i32 }}");
                assert!(expand(&src).contains("compile_error"), "{src}");
                let errors = errors(&src);
                assert_eq!(errors.len(), 1, "{src}: {errors:?}");
                assert!(
                    errors[0].starts_with(&format!("{what} must be a model type path")),
                    "{src}: {errors:?}"
                );
            }
        }
    }

    #[test]
    fn the_help_names_the_model_meant() {
        let help = |src: &str| {
            let mut cx = ast::Ctxt::default();
            ast::parse(&mut cx, &syn::parse_str(src).unwrap());
            let e = cx.into_result().unwrap_err().to_string();
            e.lines().nth(1).unwrap_or("").to_string()
        };
        assert_eq!(
            help(
                r#"struct P { id: Option<i64>, #[one_to_one(on_delete = "cascade")] u: OneToOne<[crate::User; 1]> }"#
            ),
            "= help: write `pub u: OneToOne<crate::User>`, naming the model by its path"
        );
        assert_eq!(
            help(
                r#"struct P { id: Option<i64>, #[one_to_one(on_delete = "set_null")] u: Option<OneToOne<Self>> }"#
            ),
            "= help: write `pub u: Option<OneToOne<P>>`, naming the model by its path"
        );
        assert_eq!(
            help("struct R { #[parent] p: Option<Box<Place>> }"),
            "= help: write `pub p: Place`, naming the model by its path"
        );
        assert_eq!(
            help(r#"struct P { id: Option<i64>, #[one_to_one(on_delete = "cascade")] u: OneToOne<dyn Model> }"#),
            "= help: write `pub u: OneToOne<User>`, naming the model by its path (`User`, `crate::auth::User`)"
        );
    }

    #[test]
    fn a_reverse_trait_name_that_is_not_an_identifier_is_an_error() {
        let out = expand(
            r#"struct P { id: Option<i64>, #[one_to_one(on_delete = "cascade", related_name = "_1")] u: OneToOne<U> }"#,
        );
        assert_eq!(out.matches("compile_error").count(), 1, "{out}");
    }

    #[test]
    fn raw_identifiers_are_names_without_r_hash() {
        let out = expand(
            r#"struct r#Doc {
                r#id: Option<i64>,
                #[field(default = 1)] r#type: i32,
                #[one_to_one(on_delete = "cascade", limit_choices_to(r#type = 1))]
                r#ref: OneToOne<r#User>,
            }"#,
        );
        assert!(!out.contains("compile_error"), "{out}");
        for part in [
            "ModelMeta :: __new (\"app\" , \"Doc\" , \"doc\"",
            "FieldMeta :: __new (\"type\" , \"type\"",
            "FieldMeta :: __new (\"ref\" , \"ref_id\"",
            ". __key (true , true , \"bigint\")",
            "Q :: kw (\"type\"",
            "fn r#type ()",
            "fn r#ref ()",
            "fn ref_choices ()",
            "fn __orm_default_type ()",
            "trait DocOfUser",
            "fn doc (",
        ] {
            assert!(out.contains(part), "{part} in {out}");
        }
        assert!(!out.contains("\"r#"), "{out}");

        let out = expand("struct R { #[parent] p: r#Place, stars: i32 }");
        assert!(out.contains("\"place_ptr_id\""), "{out}");
        assert!(out.contains("trait ROfPlace"), "{out}");
    }

    /// Odd shapes each end in errors (or a valid impl), never in a panic.
    #[test]
    fn odd_shapes_never_panic() {
        let o2o = |ty: &str| {
            format!(
                r#"struct P {{ id: Option<i64>, #[one_to_one(on_delete = "cascade")] u: {ty} }}"#
            )
        };
        let mut sources: Vec<String> = [
            "Option<Option<OneToOne<User>>>",
            "OneToOne<Option<OneToOne<User>>>",
            "OneToOne",
            "OneToOne<>",
            "OneToOne<'static>",
            "OneToOne<User, User>",
            "OneToOne<3>",
            "OneToOne<(User)>",
            "OneToOne<r#User>",
            "OneToOne<crate::r#mod::User>",
            "Option<OneToOne<&'static [User]>>",
            "&'static OneToOne<User>",
            "(OneToOne<User>,)",
            "[OneToOne<User>; 2]",
        ]
        .iter()
        .map(|ty| o2o(ty))
        .collect();
        sources.extend(
            [
                "struct P {}",
                r#"struct P<T> { id: Option<i64>, #[one_to_one(on_delete = "cascade")] u: OneToOne<T> }"#,
                "struct R<T> { #[parent] p: T }",
                "struct R { #[parent] p: (Place) }",
                "struct R { #[parent] p: Place<i32> }",
                "struct R { #[parent] a: A, #[parent] b: [B; 1] }",
                r#"struct R { #[parent] #[one_to_one(on_delete = "cascade")] p: Place }"#,
                r#"struct P { id: Option<i64>, #[one_to_one(on_delete = "set()")] u: OneToOne<U> }"#,
                r#"struct P { id: Option<i64>, #[one_to_one(on_delete = "set(")] u: OneToOne<U> }"#,
                r#"struct P { id: Option<i64>, #[one_to_one(on_delete = "cascade", related_name = "")] u: OneToOne<U> }"#,
                r#"struct P { id: Option<i64>, #[one_to_one(on_delete = "cascade", related_name = "+")] u: OneToOne<U> }"#,
                r#"struct P { id: Option<i64>, #[one_to_one(on_delete = "cascade", related_name = "__")] u: OneToOne<U> }"#,
                r#"struct P { id: Option<i64>, #[one_to_one(on_delete = "cascade", related_name = "/*")] u: OneToOne<U> }"#,
                r#"struct P { id: Option<i64>, #[one_to_one(on_delete = "cascade", limit_choices_to(a::b = 1))] u: OneToOne<U> }"#,
                r#"struct _1 { id: Option<i64>, #[one_to_one(on_delete = "cascade")] u: OneToOne<U> }"#,
                "struct P { r#id: i64 }",
            ]
            .map(String::from),
        );
        for src in &sources {
            let _ = expand(src);
            let _ = errors(src);
        }
    }

    #[test]
    fn no_stub_for_a_generic_type() {
        let out = expand("struct Tagged<T> { id: Option<i64>, value: T }");
        assert!(out.contains("compile_error"));
        assert!(!out.contains("impl :: orm_core :: Model"));
    }
}
