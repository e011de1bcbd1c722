//! Abstract base models (Django's `Meta.abstract = True`): shared fields and
//! relations, no table.
//!
//! A derive cannot read another struct's fields, so the fields travel as
//! tokens. `#[derive(Model)] #[model(abstract)] struct Timestamped { .. }`
//! expands to a `macro_rules!` macro holding the struct's fields, imported
//! under the struct's own name (the macro namespace is separate, so
//! `use base::Timestamped;` brings both). `#[orm_core::extends(Timestamped)]`
//! on a model hands the model to that macro, which passes it with the fields
//! to `splice!`; `splice!` writes the model again with the base's fields
//! copied in, and `#[derive(Model)]` then sees one struct with every field,
//! exactly as Django copies an abstract base's fields into each child. A
//! relation in the base gets its own metadata and reverse accessor per
//! child; `%(class)s` and `%(app_label)s` in its names are replaced by the
//! child's, as in Django.

use proc_macro2::{Group, Literal, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, ToTokens};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Data, DeriveInput, Fields, ItemStruct, LitStr, Path, Token};

use crate::ast::Ctxt;
use crate::symbol::{ABSTRACT, APP, MODEL};

const HELP: &str =
    "#[derive(Model)] #[model(abstract)] pub struct Timestamped { pub created: i64 }";
const EXTENDS_HELP: &str =
    "#[orm_core::extends(Timestamped)] #[derive(Model)] pub struct Article { pub id: Option<i64>, .. }";

/// True when the struct carries `#[model(abstract ...)]`.
pub fn is_abstract(input: &DeriveInput) -> bool {
    crate::proxy::has_flag(input, ABSTRACT)
}

/// `#[derive(Model)]` on an abstract base: the macro carrying its fields.
pub fn derive(cx: &mut Ctxt, input: &DeriveInput) -> Option<TokenStream> {
    let fields = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(n) => Some(n),
            other => {
                cx.error_spanned(other, "an abstract base model needs named fields", HELP);
                None
            }
        },
        _ => {
            cx.error(
                input.ident.span(),
                "an abstract base model is a struct with named fields",
                HELP,
            );
            None
        }
    };
    if !input.generics.params.is_empty() {
        cx.error_spanned(&input.generics, "a model cannot be generic", HELP);
    }
    for attr in input.attrs.iter().filter(|a| a.path() == MODEL) {
        let r = attr.parse_nested_meta(|meta| {
            if meta.path == ABSTRACT {
                Ok(())
            } else {
                Err(meta.error(
                    "unknown option of an abstract base model: it takes none (it has no table; each model that extends it has its own `app` and `table`)",
                ))
            }
        });
        if let Err(e) = r {
            cx.syn_error(e, HELP);
        }
    }
    let fields = fields?;
    let ident = &input.ident;
    let mac = format_ident!("__orm_abstract_{}", ident.unraw());
    let names: Vec<_> = fields
        .named
        .iter()
        .filter_map(|f| f.ident.as_ref())
        .collect();
    Some(quote! {
        // The base is never built itself (its fields live in each model that
        // extends it): this keeps `dead_code` quiet about it.
        #[allow(dead_code, unreachable_code, clippy::diverging_sub_expression)]
        const _: () = {
            fn __orm_abstract() -> #ident {
                #ident { #(#names: ::core::unreachable!()),* }
            }
            fn __orm_abstract_read(v: &#ident) {
                let _ = (#(&v.#names,)*);
            }
        };

        #[doc(hidden)]
        #[allow(unused_macros)]
        macro_rules! #mac {
            ($($model:tt)*) => {
                ::orm_core::__private::splice! { #fields $($model)* }
            };
        }
        #[doc(hidden)]
        #[allow(unused_imports)]
        pub(crate) use #mac as #ident;
    })
}

/// `#[orm_core::extends(Base)]`: hands the model to `Base!`.
pub fn extends(attr: TokenStream, item: TokenStream) -> TokenStream {
    let path: Path = match syn::parse2(attr) {
        Ok(p) => p,
        Err(e) => {
            let msg = format!(
                "extends takes the path of an abstract base model\n\n  = help: {EXTENDS_HELP}"
            );
            let e = syn::Error::new(e.span(), msg);
            let mut out = e.into_compile_error();
            out.extend(item);
            return out;
        }
    };
    quote!(#path! { #item })
}

/// `splice!`'s input: the base's `{ fields }`, then the model.
struct SpliceInput {
    fields: syn::FieldsNamed,
    model: ItemStruct,
}

impl Parse for SpliceInput {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        Ok(SpliceInput {
            fields: input.parse()?,
            model: input.parse()?,
        })
    }
}

/// Replaces `%(class)s` and `%(app_label)s` in the string literals of a
/// field's attributes (an attribute's arguments are tokens, not parsed
/// expressions, so the tokens are walked).
struct Names {
    class: String,
    app: String,
}

impl Names {
    fn field(&self, f: &mut syn::Field) {
        for attr in &mut f.attrs {
            if let syn::Meta::List(list) = &mut attr.meta {
                list.tokens = self.tokens(std::mem::take(&mut list.tokens));
            }
        }
    }

    fn tokens(&self, tokens: TokenStream) -> TokenStream {
        tokens
            .into_iter()
            .map(|tt| match tt {
                TokenTree::Group(g) => {
                    let mut out = Group::new(g.delimiter(), self.tokens(g.stream()));
                    out.set_span(g.span());
                    TokenTree::Group(out)
                }
                TokenTree::Literal(lit) => match syn::parse2::<LitStr>(lit.to_token_stream()) {
                    Ok(s) if s.value().contains("%(") => {
                        let v = s
                            .value()
                            .replace("%(class)s", &self.class)
                            .replace("%(app_label)s", &self.app);
                        let mut out = Literal::string(&v);
                        out.set_span(lit.span());
                        TokenTree::Literal(out)
                    }
                    _ => TokenTree::Literal(lit),
                },
                other => other,
            })
            .collect()
    }
}

/// The base's tokens with call-site hygiene, keeping their locations: they
/// arrive through a `macro_rules!` macro, whose hygiene would hide the names
/// the derive writes next to them (`self`, the row, the binder).
fn respan(tokens: TokenStream) -> TokenStream {
    tokens
        .into_iter()
        .map(|tt| {
            let span = tt.span().resolved_at(Span::call_site());
            match tt {
                TokenTree::Group(g) => {
                    let mut out = Group::new(g.delimiter(), respan(g.stream()));
                    out.set_span(span);
                    TokenTree::Group(out)
                }
                mut other => {
                    other.set_span(span);
                    other
                }
            }
        })
        .collect()
}

/// The model's `app`, as the derive will read it.
fn app_of(model: &ItemStruct) -> String {
    let mut app = std::env::var("CARGO_CRATE_NAME").unwrap_or_else(|_| "app".into());
    for attr in model.attrs.iter().filter(|a| a.path() == MODEL) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path == APP {
                let lit: LitStr = meta.value()?.parse()?;
                app = lit.value();
            } else if meta.input.peek(Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            } else if meta.input.peek(syn::token::Paren) {
                let content;
                syn::parenthesized!(content in meta.input);
                let _: TokenStream = content.parse()?;
            }
            Ok(())
        });
    }
    app
}

/// `splice!{ { base fields } model }`: the model with the base's fields
/// copied in, after a leading `id` field (Django's order: the automatic key,
/// then the inherited fields, then the model's own).
pub fn splice(input: TokenStream) -> TokenStream {
    let SpliceInput { fields, mut model } = match syn::parse2(respan(input)) {
        Ok(i) => i,
        Err(e) => return e.into_compile_error(),
    };
    let names = Names {
        class: model.ident.unraw().to_string().to_lowercase(),
        app: app_of(&model),
    };
    let Fields::Named(own) = &mut model.fields else {
        return syn::Error::new(
            Span::call_site(),
            format!("a model that extends an abstract base needs named fields\n\n  = help: {EXTENDS_HELP}"),
        )
        .into_compile_error();
    };
    let at = match own.named.first() {
        Some(f) if f.ident.as_ref().is_some_and(|i| i == "id") => 1,
        _ => 0,
    };
    let mut all: Punctuated<syn::Field, Token![,]> = Punctuated::new();
    for (i, f) in own.named.iter().enumerate() {
        if i == at {
            for mut base in fields.named.iter().cloned() {
                names.field(&mut base);
                all.push(base);
            }
        }
        all.push(f.clone());
    }
    if at >= own.named.len() {
        for mut base in fields.named.iter().cloned() {
            names.field(&mut base);
            all.push(base);
        }
    }
    own.named = all;
    model.into_token_stream()
}
