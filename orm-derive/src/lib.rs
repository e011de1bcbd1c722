//! `#[derive(Model)]` for `orm-core`. Use it through `orm_core::Model`.
//!
//! The derive runs in three stages, each in its own module:
//! [parse](ast) the struct into a typed model with every attribute decided,
//! [check](check) the rules that span fields (Django's system checks that can
//! be made at compile time), then [expand](expand) into the `Model` impl,
//! the static metadata and the accessors. Every mistake is reported at once,
//! spanned on the offending token, with a `help:` showing the right form.

mod ast;
mod check;
mod expand;

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
    derive(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

fn derive(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let mut cx = ast::Ctxt::default();
    let model = ast::parse(&mut cx, input);
    if let Some(m) = &model {
        check::check(&mut cx, m);
    }
    cx.into_result()?;
    Ok(model.map(|m| expand::expand(&m)).unwrap_or_default())
}
