//! Proxy models: `#[model(proxy)] pub struct StaffUser(pub User);` (Django's
//! `class Meta: proxy = True`). The proxy reads and writes its concrete
//! model's table through the wrapped value; it has its own metadata (label,
//! hooks, delete counts) and no table. Every `Record` method delegates to the
//! wrapped model, so a proxy is as cheap as the model itself.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ext::IdentExt;
use syn::{Data, DeriveInput, Fields};

use crate::ast::Ctxt;
use crate::symbol::{APP, MODEL, ORDERING, PROXY, VERBOSE_NAME, VERBOSE_NAME_PLURAL};

const HELP: &str =
    "#[model(proxy, app = \"auth\", ordering = \"-id\")] pub struct StaffUser(pub User);";

/// True when the struct carries `#[model(proxy ...)]`.
pub fn is_proxy(input: &DeriveInput) -> bool {
    has_flag(input, PROXY)
}

/// True when one of the struct's `#[model(...)]` attributes holds `flag`.
pub fn has_flag(input: &DeriveInput, flag: crate::symbol::Symbol) -> bool {
    input.attrs.iter().filter(|a| a.path() == MODEL).any(|a| {
        let mut found = false;
        let _ = a.parse_nested_meta(|meta| {
            if meta.path == flag {
                found = true;
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            } else if meta.input.peek(syn::token::Paren) {
                let content;
                syn::parenthesized!(content in meta.input);
                let _: TokenStream = content.parse()?;
            }
            Ok(())
        });
        found
    })
}

/// Parses and expands a proxy model; errors go to `cx`.
pub fn derive(cx: &mut Ctxt, input: &DeriveInput) -> Option<TokenStream> {
    let inner = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Unnamed(u) if u.unnamed.len() == 1 => u.unnamed.first().map(|f| f.ty.clone()),
            other => {
                cx.error_spanned(
                    other,
                    "a proxy model wraps exactly one model: `struct Proxy(pub Concrete);`",
                    HELP,
                );
                None
            }
        },
        _ => {
            cx.error(
                input.ident.span(),
                "a proxy model is a struct wrapping one model",
                HELP,
            );
            None
        }
    };
    if !input.generics.params.is_empty() {
        cx.error_spanned(&input.generics, "a model cannot be generic", HELP);
    }
    let mut app = std::env::var("CARGO_CRATE_NAME").unwrap_or_else(|_| "app".into());
    let mut verbose_name = None;
    let mut verbose_name_plural = None;
    let mut ordering = None;
    for attr in input.attrs.iter().filter(|a| a.path() == MODEL) {
        let r = attr.parse_nested_meta(|meta| {
            let lit = |meta: &syn::meta::ParseNestedMeta<'_>| -> syn::Result<String> {
                Ok(meta.value()?.parse::<syn::LitStr>()?.value())
            };
            if meta.path == PROXY {
            } else if meta.path == APP {
                app = lit(&meta)?;
            } else if meta.path == VERBOSE_NAME {
                verbose_name = Some(lit(&meta)?);
            } else if meta.path == VERBOSE_NAME_PLURAL {
                verbose_name_plural = Some(lit(&meta)?);
            } else if meta.path == ORDERING {
                ordering = Some(crate::ast::ordering_terms(&lit(&meta)?));
            } else {
                return Err(meta.error(
                    "unknown option of a proxy model: a proxy takes `app`, `verbose_name`, `verbose_name_plural` and `ordering` (it has no table or fields of its own)",
                ));
            }
            Ok(())
        });
        if let Err(e) = r {
            cx.syn_error(e, HELP);
        }
    }
    let inner = inner?;
    let ident = &input.ident;
    let name = ident.unraw().to_string();
    let model_name = name.to_lowercase();
    let verbose_name = verbose_name.unwrap_or_else(|| crate::ast::camel_case_to_spaces(&name));
    let verbose_name_plural = verbose_name_plural.unwrap_or_else(|| format!("{verbose_name}s"));
    let c = quote!(<#inner as ::orm_core::__private::Metadata>::__META);
    // Django: a proxy without its own ordering keeps its model's.
    let ordering = match ordering {
        Some(terms) => quote!(&[#(#terms),*]),
        None => quote!(#c.own_ordering),
    };
    Some(quote! {
        const _: () = {
            const _: () = ::core::assert!(
                ::orm_core::__private::CONTRACT == 2,
                "orm-derive and orm-core versions do not match"
            );

            fn __orm_concrete() -> &'static ::orm_core::__private::ModelMeta {
                #c
            }

            static __ORM_META: ::orm_core::__private::ModelMeta = ::orm_core::__private::ModelMeta::__new(
                #app,
                #name,
                #model_name,
                #c.table,
                #c.fields,
                #c.pk,
                #c.parent,
                #verbose_name,
                #verbose_name_plural,
                #ordering,
                (::core::module_path!(), ::core::line!()),
            )
            .__proxy(__orm_concrete);

            fn __orm_meta() -> &'static ::orm_core::__private::ModelMeta {
                &__ORM_META
            }

            ::orm_core::__private::inventory::submit! {
                ::orm_core::__private::ModelEntry(__orm_meta)
            }

            ::orm_core::__private::inventory::submit! {
                ::orm_core::__private::LoaderEntry(__orm_meta, ::orm_core::__private::load_dyn::<#ident>)
            }

            #[automatically_derived]
            impl ::orm_core::__private::Metadata for #ident {
                const __META: &'static ::orm_core::__private::ModelMeta = &__ORM_META;
            }

            #[automatically_derived]
            impl ::orm_core::__private::Record for #ident {
                fn __pk(&self) -> ::core::option::Option<::orm_core::Value> {
                    ::orm_core::__private::Record::__pk(&self.0)
                }
                fn __set_pk(&mut self, pk: ::core::option::Option<::orm_core::Value>) {
                    ::orm_core::__private::Record::__set_pk(&mut self.0, pk)
                }
                fn __value_of(&self, field: &str) -> ::core::option::Option<::orm_core::Value> {
                    ::orm_core::__private::Record::__value_of(&self.0, field)
                }
                fn __from_row(
                    row: &mut ::orm_core::__private::RowReader<'_, '_>,
                ) -> ::orm_core::Result<Self> {
                    ::core::result::Result::Ok(#ident(<#inner as ::orm_core::__private::Record>::__from_row(row)?))
                }
                fn __bind_local(
                    &self,
                    b: &mut ::orm_core::__private::Binder<'_, '_>,
                    with_pk: bool,
                ) -> ::orm_core::Result<()> {
                    ::orm_core::__private::Record::__bind_local(&self.0, b, with_pk)
                }
                fn __save_parents(&mut self, db: &::orm_core::Db, raw: bool) -> ::orm_core::Result<bool> {
                    ::orm_core::__private::Record::__save_parents(&mut self.0, db, raw)
                }
                fn __prepare_related(&mut self, op: &'static str) -> ::orm_core::Result<()> {
                    ::orm_core::__private::Record::__prepare_related(&mut self.0, op)
                }
                fn __fill_forward(
                    &mut self,
                    db: &::orm_core::Db,
                    field: &'static ::orm_core::__private::FieldMeta,
                    row: &mut ::orm_core::__private::RowReader<'_, '_>,
                    plan: &::orm_core::__private::LoadPlan,
                ) -> ::orm_core::Result<()> {
                    ::orm_core::__private::Record::__fill_forward(&mut self.0, db, field, row, plan)
                }
                fn __set_cached(
                    &mut self,
                    field: &'static ::orm_core::__private::FieldMeta,
                    obj: ::std::boxed::Box<dyn ::core::any::Any + ::core::marker::Send + ::core::marker::Sync>,
                ) -> bool {
                    ::orm_core::__private::Record::__set_cached(&mut self.0, field, obj)
                }
                fn __clean_fields(&self, errors: &mut ::std::vec::Vec<(::std::string::String, ::std::string::String)>) {
                    ::orm_core::__private::Record::__clean_fields(&self.0, errors)
                }
                fn __pre_save(&mut self, adding: bool) {
                    ::orm_core::__private::Record::__pre_save(&mut self.0, adding)
                }
                fn __copy_field(&mut self, from: &Self, field: &str) -> bool {
                    ::orm_core::__private::Record::__copy_field(&mut self.0, &from.0, field)
                }
            }

            #[automatically_derived]
            impl ::core::ops::Deref for #ident {
                type Target = #inner;
                fn deref(&self) -> &#inner {
                    &self.0
                }
            }

            #[automatically_derived]
            impl ::core::ops::DerefMut for #ident {
                fn deref_mut(&mut self) -> &mut #inner {
                    &mut self.0
                }
            }

            #[automatically_derived]
            impl ::core::convert::From<#inner> for #ident {
                fn from(inner: #inner) -> Self {
                    #ident(inner)
                }
            }
        };
    })
}
