//! Expand: the checked model into the `Model` impl, its static metadata,
//! column and relation accessors, and one reverse-accessor trait per relation.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::Ident;

use crate::ast::{Field, Kind, Model, OnDelete, Relation};
use crate::check::{accessor, reverse_trait_name};

struct Col {
    name: String,
    column: String,
    pk: bool,
}

fn column_of(f: &Field) -> Col {
    let db_column = f.db_column.as_ref().map(|l| l.value());
    match &f.kind {
        Kind::Plain => Col {
            name: f.name.clone(),
            column: db_column.unwrap_or_else(|| f.name.clone()),
            pk: f.primary_key.is_some() || f.auto.is_some(),
        },
        Kind::Relation(_) => Col {
            name: f.name.clone(),
            column: db_column.unwrap_or_else(|| format!("{}_id", f.name)),
            pk: f.primary_key.is_some(),
        },
        Kind::Parent(rel) if rel.implicit_parent => {
            let name = format!("{}_ptr", rel.target_name.to_lowercase());
            Col {
                column: format!("{name}_id"),
                name,
                pk: true,
            }
        }
        Kind::Parent(_) => Col {
            name: f.name.clone(),
            column: db_column.unwrap_or_else(|| format!("{}_id", f.name)),
            pk: true,
        },
    }
}

fn opt_str(s: Option<String>) -> TokenStream {
    match s {
        Some(s) => quote!(::core::option::Option::Some(#s)),
        None => quote!(::core::option::Option::None),
    }
}

/// Everything one model expands to, computed once and emitted by output.
struct Expansion<'a> {
    m: &'a Model,
    cols: Vec<Col>,
    pk_index: usize,
    parent: Option<(usize, &'a Field, &'a Relation)>,
}

/// The model's expansion, inside `const _: () = { ... };`: its static
/// metadata, the `Record` impl (the derive contract), the column and relation
/// accessors and the `Deref` to a multi-table parent; then one public
/// reverse-accessor trait per relation.
pub fn expand(m: &Model) -> TokenStream {
    let cols: Vec<Col> = m.fields.iter().map(column_of).collect();
    let pk_index = cols.iter().position(|c| c.pk).unwrap_or(0);
    let parent = m
        .fields
        .iter()
        .enumerate()
        .find_map(|(i, f)| match &f.kind {
            Kind::Parent(rel) => Some((i, f, &**rel)),
            _ => None,
        });
    let x = Expansion {
        m,
        cols,
        pk_index,
        parent,
    };
    let metadata = x.metadata();
    let record = x.record_impl();
    let accessors = x.accessors();
    let deref = x.parent_deref();
    let reverse_traits: Vec<TokenStream> = m
        .fields
        .iter()
        .enumerate()
        .filter_map(|(i, f)| match &f.kind {
            Kind::Relation(rel) | Kind::Parent(rel) => Some(reverse_trait(m, f, rel, i)),
            Kind::Plain => None,
        })
        .collect();
    quote! {
        const _: () = {
            #metadata
            #record
            #accessors
            #deref
        };

        #(#reverse_traits)*
    }
}

impl Expansion<'_> {
    /// The field and relation statics, `__ORM_META` and its registration.
    fn metadata(&self) -> TokenStream {
        let Expansion {
            m,
            cols,
            pk_index,
            parent,
        } = self;
        let (m, pk_index) = (*m, *pk_index);
        let ident = &m.ident;
        let name = &m.name;
        let model_name = name.to_lowercase();
        let app = &m.app;
        let table = m
            .table
            .clone()
            .unwrap_or_else(|| format!("{}_{}", app.to_lowercase(), model_name));
        let mut helpers = Vec::new();
        let mut field_metas = Vec::new();
        for (i, (f, c)) in m.fields.iter().zip(cols.iter()).enumerate() {
            let fname = &c.name;
            let column = &c.column;
            let pk = i == pk_index;
            let ty = &f.ty;
            let max_length = match f.max_length() {
                Some(n) => quote!(::core::option::Option::Some(#n)),
                None => quote!(::core::option::Option::None),
            };
            let default = match &f.default {
                Some(e) => {
                    let fun = format_ident!("__orm_default_{}", f.ident);
                    helpers.push(quote! {
                        fn #fun() -> ::orm_core::Value { ::orm_core::__private::value(&(#e)) }
                    });
                    quote!(::core::option::Option::Some(#fun as fn() -> ::orm_core::Value))
                }
                None => quote!(::core::option::Option::None),
            };
            let (sql_type, null, relation, rel_db_type, auto, unique) = match &f.kind {
                Kind::Plain => {
                    let sql_type = if let Some(t) = &f.db_type {
                        t.value().into_token_stream()
                    } else if f.auto.is_some() && pk {
                        quote!("integer")
                    } else if let Some(n) = f.max_length() {
                        let vc = format!("varchar({n})");
                        quote_spanned! {ty.span()=>
                            ::orm_core::__private::text_type(#vc,
                                <#ty as ::orm_core::FieldType>::COLUMN.sqlite(),
                                <#ty as ::orm_core::FieldType>::COLUMN.is_text())
                        }
                    } else {
                        quote_spanned!(ty.span()=> <#ty as ::orm_core::FieldType>::COLUMN.sqlite())
                    };
                    let null = if f.auto.is_some() && pk {
                        quote!(false)
                    } else {
                        quote_spanned!(ty.span()=> <#ty as ::orm_core::FieldType>::NULLABLE)
                    };
                    let rel_db = if pk { f.auto.unwrap_or("") } else { "" };
                    let auto = f.auto.is_some() && pk;
                    (
                        sql_type,
                        null,
                        quote!(::core::option::Option::None),
                        rel_db,
                        auto,
                        f.unique || pk,
                    )
                }
                Kind::Relation(rel) | Kind::Parent(rel) => {
                    let rel_static = format_ident!("__ORM_REL_{}", i);
                    helpers.push(relation_static(m, f, rel, &rel_static, i));
                    let null = rel.nullable;
                    (
                        quote!(""),
                        quote!(#null),
                        quote!(&#rel_static),
                        "",
                        false,
                        true,
                    )
                }
            };
            let fits = match &f.kind {
                Kind::Plain => {
                    quote_spanned!(ty.span()=> ::orm_core::__private::fits::<#ty>)
                }
                _ => quote!(::orm_core::__private::fits_relation),
            };
            let decimal = match (f.max_digits, f.decimal_places) {
                (Some((d, _)), Some((p, _))) => quote!(.__decimal(#d, #p)),
                _ => quote!(),
            };
            // Only a type the derive does not know by name can be a decimal.
            let known = crate::ast::is_builtin_scalar(&f.ty, true);
            if let (Kind::Plain, false, None) = (&f.kind, known, f.max_digits) {
                let has = false;
                let msg = format!("`{}` is a DecimalField: give it `#[field(max_digits = .., decimal_places = ..)]`", f.ident);
                helpers.push(quote_spanned! {ty.span()=>
                    const _: () = ::core::assert!(
                        #has || !::core::matches!(<#ty as ::orm_core::FieldType>::COLUMN, ::orm_core::ColumnType::Decimal),
                        #msg
                    );
                });
            }
            if let (Some(_), Kind::Plain) = (f.max_length(), &f.kind) {
                let msg = format!(
                    "`max_length` applies to text fields, but the column type of `{}` is not text",
                    f.ident
                );
                helpers.push(quote_spanned! {ty.span()=>
                    const _: () = ::core::assert!(<#ty as ::orm_core::FieldType>::COLUMN.is_text(), #msg);
                });
            }
            let with_relation = match &f.kind {
                Kind::Plain => {
                    quote_spanned!(ty.span()=> .__ty(<#ty as ::orm_core::FieldType>::COLUMN))
                }
                _ => quote!(.__relation(#relation)),
            };
            field_metas.push(quote! {
                ::orm_core::__private::FieldMeta::__new(#fname, #column, #sql_type, #fits)
                    .__null(#null)
                    .__key(#pk, #auto, #rel_db_type)
                    .__unique(#unique)
                    .__max_length(#max_length)
                    .__default(#default)
                    #decimal
                    #with_relation
            });
        }
        let n_fields = field_metas.len();
        let verbose_name = &m.verbose_name;
        let verbose_name_plural = &m.verbose_name_plural;
        let ordering = &m.ordering;

        let parent_meta = match parent {
            Some((_, _, rel)) => {
                let t = &rel.target;
                helpers.push(quote! {
                    fn __orm_parent_meta() -> &'static ::orm_core::__private::ModelMeta {
                        <#t as ::orm_core::Model>::META
                    }
                });
                quote!(::core::option::Option::Some(__orm_parent_meta))
            }
            None => quote!(::core::option::Option::None),
        };

        quote! {
            #(#helpers)*

            static __ORM_FIELDS: [::orm_core::__private::FieldMeta; #n_fields] = [#(#field_metas),*];

            const _: () = ::core::assert!(
                ::orm_core::__private::CONTRACT == 2,
                "orm-derive and orm-core versions do not match"
            );

            static __ORM_META: ::orm_core::__private::ModelMeta = ::orm_core::__private::ModelMeta::__new(
                #app,
                #name,
                #model_name,
                #table,
                &__ORM_FIELDS,
                #pk_index,
                #parent_meta,
                #verbose_name,
                #verbose_name_plural,
                &[#(#ordering),*],
                (::core::module_path!(), ::core::line!()),
            );

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

        }
    }

    /// The `Record` impl: keys, row decoding, binding, the relation caches
    /// and field validation.
    fn record_impl(&self) -> TokenStream {
        let Expansion {
            m, cols, pk_index, ..
        } = self;
        let (m, pk_index) = (*m, *pk_index);
        let ident = &m.ident;
        let (save_parents, prepare_parent, fill_parent, clean_parent, value_parent, set_parent) =
            self.parent_pieces();
        // --- Record impl pieces -------------------------------------------------
        // In bounds: `check::primary_key` reports a model without a primary key
        // (so without fields), and `expand` runs only on a model without errors.
        let pk_field = &m.fields[pk_index];
        let pk_ident = &pk_field.ident;
        let (pk_get, pk_set) = match &pk_field.kind {
            Kind::Parent(rel) => {
                let t = &rel.target;
                (
                    quote!(<#t as ::orm_core::Model>::pk(&self.#pk_ident)),
                    quote!(<#t as ::orm_core::Model>::set_pk(&mut self.#pk_ident, pk)),
                )
            }
            _ => (
                quote!(::orm_core::__private::pk_value(&self.#pk_ident)),
                quote!(::orm_core::__private::PkSlot::set_pk(&mut self.#pk_ident, pk)),
            ),
        };

        let mut reads = Vec::new();
        let mut parent_read = quote!();
        let mut binds = Vec::new();
        let mut value_arms = Vec::new();
        let mut copy_arms = Vec::new();
        let mut copy_parent = quote!(false);
        let mut prepares = Vec::new();
        let mut fills = Vec::new();
        let mut sets = Vec::new();
        let mut cleans = Vec::new();
        let mut field_idents = Vec::new();
        let mut pre_saves = Vec::new();
        if let Some((_, f, rel)) = self.parent {
            let (t, fi) = (&rel.target, &f.ident);
            pre_saves.push(
                quote!(<#t as ::orm_core::__private::Record>::__pre_save(&mut self.#fi, adding);),
            );
        }
        for (i, (f, c)) in m.fields.iter().zip(cols.iter()).enumerate() {
            let fi = &f.ident;
            let ty = &f.ty;
            let cname = &c.name;
            field_idents.push(fi.clone());
            let mut at_ty = fi.clone();
            at_ty.set_span(ty.span());
            if f.auto_now {
                pre_saves.push(quote_spanned!(ty.span()=> ::orm_core::__private::AutoNow::set_now(&mut self.#at_ty);));
            } else if f.auto_now_add {
                pre_saves.push(quote_spanned!(ty.span()=> if adding { ::orm_core::__private::AutoNow::set_now(&mut self.#at_ty); }));
            }
            let skip_pk = if i == pk_index {
                quote!(if with_pk)
            } else {
                quote!()
            };
            match &f.kind {
                Kind::Parent(rel) => {
                    let t = &rel.target;
                    parent_read = quote! {
                        let #fi = <#t as ::orm_core::__private::Record>::__from_row(row)?;
                    };
                    reads.push(quote!(row.skip();));
                    binds.push(quote! {
                        #skip_pk { b.bind(&<#t as ::orm_core::Model>::pk(&self.#fi), <Self as ::orm_core::__private::Metadata>::__META, #i)?; }
                    });
                    value_arms.push(quote!(#cname => <#t as ::orm_core::Model>::pk(&self.#fi),));
                    copy_parent = quote!(<#t as ::orm_core::__private::Record>::__copy_field(&mut self.#fi, &from.#fi, field));
                }
                _ => {
                    reads.push(quote_spanned! {ty.span()=>
                        let #fi: #ty = row.read(<Self as ::orm_core::__private::Metadata>::__META, #i)?;
                    });
                    if let Kind::Relation(rel) = &f.kind {
                        if let Some(to) = &rel.to_field {
                            reads.push(quote! {
                                let #fi = ::orm_core::__private::ToField::with_to_field(#fi, &#to);
                            });
                        }
                    }
                    // Spanned on the field type, so that a type the ORM cannot
                    // store is reported on the field, not on `#[derive(Model)]`.
                    let mut at_ty = fi.clone();
                    at_ty.set_span(ty.span());
                    let bind = quote_spanned!(ty.span()=> b.bind_field(&self.#at_ty, <Self as ::orm_core::__private::Metadata>::__META, #i));
                    binds.push(quote!(#skip_pk { #bind?; }));
                    let value =
                        quote_spanned!(ty.span()=> ::orm_core::__private::value(&self.#at_ty));
                    value_arms.push(quote!(#cname => ::core::option::Option::Some(#value),));
                    let copy =
                        quote_spanned!(ty.span()=> ::core::clone::Clone::clone(&from.#at_ty));
                    copy_arms.push(quote!(#cname => {
                        self.#fi = #copy;
                        true
                    }));
                }
            }
            match &f.kind {
                Kind::Plain => {
                    // A type the derive does not know by name may check its
                    // value against the field's options (a decimal's digits).
                    if !crate::ast::is_builtin_scalar(&f.ty, true) {
                        cleans.push(quote! {
                            ::orm_core::__private::check_field(errors, #cname, &self.#fi, &__ORM_FIELDS[#i]);
                        });
                    }
                    if f.is_text {
                        let max = match f.max_length() {
                            Some(n) => quote!(::core::option::Option::Some(#n)),
                            None => quote!(::core::option::Option::None),
                        };
                        let blank = f.blank || f.is_option;
                        cleans.push(quote! {
                            ::orm_core::__private::check_text(errors, #cname,
                                ::orm_core::__private::TextField::text(&self.#fi), #max, #blank);
                        });
                    } else if let Some(n) = f.max_length() {
                        // A text column of the user's type (a text choices
                        // enum, a newtype): its stored text.
                        cleans.push(quote! {
                            ::orm_core::__private::check_max_length(errors, #cname, &self.#fi, #n);
                        });
                    }
                }
                Kind::Relation(rel) => {
                    // A thin `&&str`: relation fields are copied with every row.
                    let to_field = match rel.to_field.as_ref().map(|l| l.value()) {
                        Some(s) => quote!(::core::option::Option::Some(&#s)),
                        None => quote!(::core::option::Option::None),
                    };
                    if rel.nullable {
                        prepares.push(quote! {
                            ::orm_core::__private::prepare_opt(&mut self.#fi, op, <Self as ::orm_core::Model>::META, #cname, #to_field)?;
                        });
                        fills.push(quote! {
                            if ::core::ptr::eq(field, &__ORM_FIELDS[#i]) {
                                return ::orm_core::__private::fill_opt(&mut self.#fi, db, row, plan);
                            }
                        });
                        sets.push(quote! {
                            if ::core::ptr::eq(field, &__ORM_FIELDS[#i]) {
                                return ::orm_core::__private::CacheSlot::set_cached(&mut self.#fi, obj);
                            }
                        });
                    } else {
                        prepares.push(quote! {
                            self.#fi.__prepare(op, <Self as ::orm_core::Model>::META, #cname, #to_field)?;
                        });
                        fills.push(quote! {
                            if ::core::ptr::eq(field, &__ORM_FIELDS[#i]) {
                                return self.#fi.__fill(db, row, plan);
                            }
                        });
                        sets.push(quote! {
                            if ::core::ptr::eq(field, &__ORM_FIELDS[#i]) {
                                return ::orm_core::__private::CacheSlot::set_cached(&mut self.#fi, obj);
                            }
                        });
                    }
                }
                Kind::Parent(_) => {}
            }
        }

        let pre_save = if pre_saves.is_empty() {
            quote!()
        } else {
            quote! {
                fn __pre_save(&mut self, adding: bool) {
                    let _ = adding;
                    #(#pre_saves)*
                }
            }
        };
        quote! {
            #[automatically_derived]
            impl ::orm_core::__private::Record for #ident {
                fn __pk(&self) -> ::core::option::Option<::orm_core::Value> {
                    #pk_get
                }

                fn __set_pk(&mut self, pk: ::core::option::Option<::orm_core::Value>) {
                    #pk_set
                }

                fn __value_of(&self, field: &str) -> ::core::option::Option<::orm_core::Value> {
                    match field {
                        "pk" => <Self as ::orm_core::Model>::pk(self),
                        #(#value_arms)*
                        _ => #value_parent,
                    }
                }

                fn __copy_field(&mut self, from: &Self, field: &str) -> bool {
                    match field {
                        #(#copy_arms)*
                        _ => #copy_parent,
                    }
                }

                fn __from_row(
                    row: &mut ::orm_core::__private::RowReader<'_, '_>,
                ) -> ::orm_core::Result<Self> {
                    #parent_read
                    #(#reads)*
                    ::core::result::Result::Ok(#ident { #(#field_idents),* })
                }

                fn __bind_local(
                    &self,
                    b: &mut ::orm_core::__private::Binder<'_, '_>,
                    with_pk: bool,
                ) -> ::orm_core::Result<()> {
                    let _ = with_pk;
                    #(#binds)*
                    ::core::result::Result::Ok(())
                }

                #save_parents

                fn __prepare_related(&mut self, op: &'static str) -> ::orm_core::Result<()> {
                    let _ = op;
                    #prepare_parent
                    #(#prepares)*
                    ::core::result::Result::Ok(())
                }

                fn __fill_forward(
                    &mut self,
                    db: &::orm_core::Db,
                    field: &'static ::orm_core::__private::FieldMeta,
                    row: &mut ::orm_core::__private::RowReader<'_, '_>,
                    plan: &::orm_core::__private::LoadPlan,
                ) -> ::orm_core::Result<()> {
                    let _ = (db, field, &row, plan);
                    #(#fills)*
                    #fill_parent
                }

                fn __set_cached(
                    &mut self,
                    field: &'static ::orm_core::__private::FieldMeta,
                    obj: ::std::boxed::Box<dyn ::core::any::Any + ::core::marker::Send + ::core::marker::Sync>,
                ) -> bool {
                    let _ = field;
                    #(#sets)*
                    #set_parent
                }

                fn __clean_fields(&self, errors: &mut ::std::vec::Vec<(::std::string::String, ::std::string::String)>) {
                    let _ = &errors;
                    #clean_parent
                    #(#cleans)*
                }

                #pre_save
            }

        }
    }

    /// `Model::field()` columns and `Model::relation()` paths, with
    /// `relation_choices()` for each relation.
    fn accessors(&self) -> TokenStream {
        let col_fns = self.col_fns();
        let ident = &self.m.ident;
        quote! {
            #[automatically_derived]
            impl #ident {
                #(#col_fns)*
            }

        }
    }

    /// What a multi-table parent adds to the `Record` impl: saving the
    /// parent chain, preparing, filling, cleaning and reading through the
    /// embedded parent.
    fn parent_pieces(
        &self,
    ) -> (
        TokenStream,
        TokenStream,
        TokenStream,
        TokenStream,
        TokenStream,
        TokenStream,
    ) {
        match self.parent {
            Some((_, f, rel)) => {
                let t = &rel.target;
                let fi = &f.ident;
                (
                    quote! {
                        fn __save_parents(&mut self, db: &::orm_core::Db, raw: bool) -> ::orm_core::Result<bool> {
                            ::orm_core::__private::save_chain(db, &mut self.#fi, raw)
                        }
                    },
                    quote!(<#t as ::orm_core::__private::Record>::__prepare_related(&mut self.#fi, op)?;),
                    quote!(return <#t as ::orm_core::__private::Record>::__fill_forward(&mut self.#fi, db, field, row, plan);),
                    quote!(<#t as ::orm_core::__private::Record>::__clean_fields(&self.#fi, errors);),
                    quote!(<#t as ::orm_core::Model>::value_of(&self.#fi, field)),
                    quote!(<#t as ::orm_core::__private::Record>::__set_cached(&mut self.#fi, field, obj)),
                )
            }
            None => (
                quote!(),
                quote!(),
                quote! {
                    row.skip_plan(plan);
                    ::core::result::Result::Ok(())
                },
                quote!(),
                quote!(::core::option::Option::None),
                quote!({
                    let _ = obj;
                    false
                }),
            ),
        }
    }

    /// `Deref`/`DerefMut` to the embedded parent of a multi-table child.
    fn parent_deref(&self) -> TokenStream {
        let Some((_, f, rel)) = self.parent else {
            return quote!();
        };
        let ident = &self.m.ident;
        let t = &rel.target;
        let fi = &f.ident;
        quote! {
            #[automatically_derived]
            impl ::core::ops::Deref for #ident {
                type Target = #t;
                fn deref(&self) -> &#t { &self.#fi }
            }
            #[automatically_derived]
            impl ::core::ops::DerefMut for #ident {
                fn deref_mut(&mut self) -> &mut #t { &mut self.#fi }
            }
        }
    }

    /// One accessor per field: a typed column, or a relation path and its
    /// choices.
    fn col_fns(&self) -> Vec<TokenStream> {
        let m = self.m;
        let vis = &m.vis;
        let name = &m.name;
        let mut out = Vec::new();
        for (i, (f, c)) in m.fields.iter().zip(&self.cols).enumerate() {
            let fi = &f.ident;
            let doc_col = format!(
                "The `{}` column of `{}`, for filters and ordering.",
                c.column, name
            );
            match &f.kind {
                Kind::Plain => out.push(quote! {
                    #[doc = #doc_col]
                    #[allow(dead_code)]
                    #vis fn #fi() -> ::orm_core::Col<Self> {
                        ::orm_core::Col::__new(0, &__ORM_FIELDS[#i])
                    }
                }),
                Kind::Relation(rel) => {
                    let t = &rel.target;
                    let doc_rel = format!("The one-to-one relation `{name}.{fi}` to `{}`: filter across it with `.then(...)`, follow it with `select_related`.", rel.target_name);
                    let choices = format_ident!("{}_choices", fi);
                    let doc_choices = format!(
                        "The `{}` rows `{name}.{fi}` may point at (its `limit_choices_to`).",
                        rel.target_name
                    );
                    let limit = if rel.limit_choices_to.is_empty() {
                        quote!()
                    } else {
                        let lim = format_ident!("__orm_limit_{}", i);
                        quote!(.filter(#lim()))
                    };
                    out.push(quote! {
                        #[doc = #doc_rel]
                        #[allow(dead_code)]
                        #vis fn #fi() -> ::orm_core::Rel<Self, #t> {
                            ::orm_core::Rel::__forward(0, &__ORM_FIELDS[#i])
                        }
                        #[doc = #doc_choices]
                        #[allow(dead_code)]
                        #vis fn #choices() -> ::orm_core::QuerySet<#t> {
                            <#t as ::orm_core::Model>::objects() #limit
                        }
                    });
                }
                Kind::Parent(_) => {}
            }
        }
        out
    }
}

fn relation_static(m: &Model, f: &Field, rel: &Relation, name: &Ident, i: usize) -> TokenStream {
    let t = &rel.target;
    let target_fn = format_ident!("__orm_target_{}", i);
    let to_field = opt_str(rel.to_field.as_ref().map(|l| l.value()));
    let related_name = opt_str(rel.related_name.as_ref().map(|l| l.value()));
    let related_query_name = opt_str(rel.related_query_name.as_ref().map(|l| l.value()));
    let parent_link = rel.parent_link;
    let auto_created = rel.implicit_parent;
    let db_constraint = rel.db_constraint;
    let mut extra = Vec::new();
    // `on_delete` is `None` only after an error was reported (and `expand`
    // does not run then); the default is never used.
    let on_delete = match rel.on_delete.as_ref().unwrap_or(&OnDelete::Cascade) {
        OnDelete::Cascade => quote!(::orm_core::OnDelete::Cascade),
        OnDelete::Protect => quote!(::orm_core::OnDelete::Protect),
        OnDelete::Restrict => quote!(::orm_core::OnDelete::Restrict),
        OnDelete::SetNull => quote!(::orm_core::OnDelete::SetNull),
        OnDelete::SetDefault => quote!(::orm_core::OnDelete::SetDefault),
        OnDelete::DoNothing => quote!(::orm_core::OnDelete::DoNothing),
        OnDelete::Set(e) => {
            let fun = format_ident!("__orm_set_{}", i);
            extra.push(quote! {
                fn #fun() -> ::orm_core::Value { ::orm_core::__private::value(&(#e)) }
            });
            quote!(::orm_core::OnDelete::Set(#fun))
        }
    };
    if !rel.limit_choices_to.is_empty() {
        let fun = format_ident!("__orm_limit_{}", i);
        let parts = rel.limit_choices_to.iter().map(|(k, v)| {
            let k = k.unraw().to_string();
            quote!(::orm_core::Q::kw(#k, #v))
        });
        extra.push(quote! {
            fn #fun() -> ::orm_core::Q {
                ::orm_core::Q::All #(& #parts)*
            }
        });
        extra.push(quote! {
            ::orm_core::__private::inventory::submit! {
                ::orm_core::__private::ChoicesEntry(&#name, #fun)
            }
        });
    }
    let _ = (m, f);
    quote! {
        fn #target_fn() -> &'static ::orm_core::__private::ModelMeta {
            <#t as ::orm_core::Model>::META
        }
        #(#extra)*
        static #name: ::orm_core::__private::RelationMeta =
            ::orm_core::__private::RelationMeta::__new(#target_fn, #on_delete)
                .__to_field(#to_field)
                .__names(#related_name, #related_query_name)
                .__parent_link(#parent_link, #auto_created)
                .__db_constraint(#db_constraint);
    }
}

/// `pub trait ProfileOfUser { fn profile(&self, db) ...; fn profile_opt ...; fn set_profile ... }`
fn reverse_trait(m: &Model, f: &Field, rel: &Relation, i: usize) -> TokenStream {
    let acc = accessor(m, rel);
    if acc.ends_with('+') || acc.is_empty() {
        return quote!();
    }
    let ident = &m.ident;
    let vis = &m.vis;
    let t = &rel.target;
    let target_name = &rel.target_name;
    // Both are identifiers: `check::related_name_valid` and
    // `check::reverse_trait_name_valid` reported them otherwise, and
    // `expand` runs only on a model without errors.
    let trait_name = Ident::new(&reverse_trait_name(m, rel), Span::call_site());
    let get = Ident::new(&acc, Span::call_site());
    let get_opt = format_ident!("{}_opt", acc);
    let set = format_ident!("set_{}", acc);
    let clear = format_ident!("clear_{}", acc);
    let fi = &f.ident;
    let name = &m.name;
    let set_key = match &f.kind {
        Kind::Parent(_) => quote!(value.#fi = ::core::clone::Clone::clone(owner);),
        _ if rel.nullable => {
            quote!(value.#fi = ::core::option::Option::Some(::orm_core::OneToOne::to(owner));)
        }
        _ => quote!(value.#fi = ::orm_core::OneToOne::to(owner);),
    };
    let clear_key = match &f.kind {
        // Refused before it is called: a parent link cannot be unset.
        Kind::Parent(_) => quote!(let _ = value;),
        _ if rel.nullable => quote!(value.#fi = ::core::option::Option::None;),
        _ => quote!(value.#fi = ::core::default::Default::default();),
    };
    let doc_trait = format!(
        "The reverse side of `{name}.{fi}`: `{target_name}::{acc}` (generated by `#[derive(Model)]` on `{name}`; import it where the accessor is used)."
    );
    let doc_get = format!("The `{name}` whose `{fi}` points at this `{target_name}`: one query, none once cached.\n\n# Errors\n\n`Error::RelatedObjectDoesNotExist` (\"{target_name} has no {acc}.\") when there is none.");
    let doc_opt = format!("The `{name}` whose `{fi}` points at this `{target_name}`, or `None` (Django's `getattr(obj, \"{acc}\", None)`). A missing result is cached too.\n\n# Errors\n\nDatabase errors only.");
    let doc_set = format!("Points `value.{fi}` at this `{target_name}` and saves `value`, in one transaction (Django's `{lower}.{acc} = value; value.save()`). A previous `{name}` pointing here through a nullable key lets go first; through a required key the database's UNIQUE error is returned and nothing changes. When `{fi}` is `{name}`'s primary key, the key moves: the row of the new key is written, the old one stays.\n\n# Errors\n\n`Error::Unsaved` when this `{target_name}` is unsaved, or the save's errors.", lower = target_name.to_lowercase());
    let doc_clear = format!("Unlinks the `{name}` pointing at this `{target_name}`: its `{fi}` becomes NULL and it is saved (Django's `{lower}.{acc} = None` then saving the `{name}`). Returns it, or `None` when there was none.\n\n# Errors\n\nThe database's NOT NULL error when `{fi}` is required (nothing changes then); `Error::InvalidValue` when `{fi}` is `{name}`'s primary key.", lower = target_name.to_lowercase());
    let field_static = quote!(&<#ident as ::orm_core::Model>::META.fields[#i]);
    quote! {
        #[doc = #doc_trait]
        #vis trait #trait_name {
            #[doc = #doc_get]
            fn #get(&self, db: &::orm_core::Db) -> ::orm_core::Result<#ident>;
            #[doc = #doc_opt]
            fn #get_opt(&self, db: &::orm_core::Db) -> ::orm_core::Result<::core::option::Option<#ident>>;
            #[doc = #doc_set]
            fn #set(&self, db: &::orm_core::Db, value: &mut #ident) -> ::orm_core::Result<()>;
            #[doc = #doc_clear]
            fn #clear(&self, db: &::orm_core::Db) -> ::orm_core::Result<::core::option::Option<#ident>>;
        }

        #[automatically_derived]
        impl #trait_name for #t {
            fn #get(&self, db: &::orm_core::Db) -> ::orm_core::Result<#ident> {
                ::orm_core::__private::reverse_require::<#t, #ident>(db, self, #field_static, #acc)
            }
            fn #get_opt(&self, db: &::orm_core::Db) -> ::orm_core::Result<::core::option::Option<#ident>> {
                ::orm_core::__private::reverse_get::<#t, #ident>(db, self, #field_static)
            }
            fn #set(&self, db: &::orm_core::Db, value: &mut #ident) -> ::orm_core::Result<()> {
                fn set_key(value: &mut #ident, owner: &#t) { #set_key }
                ::orm_core::__private::reverse_set::<#t, #ident>(db, self, value, #field_static, set_key)
            }
            fn #clear(&self, db: &::orm_core::Db) -> ::orm_core::Result<::core::option::Option<#ident>> {
                fn clear_key(value: &mut #ident) { #clear_key }
                ::orm_core::__private::reverse_clear::<#t, #ident>(db, self, #field_static, clear_key)
            }
        }
    }
}

/// On a mistake, a stub `impl Model` beside the errors (thiserror's
/// fallback), so that other models' relations to this one and code calling
/// its methods do not each add an error of their own. Its bodies never run:
/// the crate does not compile.
pub fn fallback(input: &syn::DeriveInput) -> TokenStream {
    if !input.generics.params.is_empty() {
        return quote!();
    }
    let ident = &input.ident;
    let name = ident.unraw().to_string();
    let model_name = name.to_lowercase();
    quote! {
        const _: () = {
            static __ORM_META: ::orm_core::__private::ModelMeta = ::orm_core::__private::ModelMeta::__new(
                "",
                #name,
                #model_name,
                "",
                &[],
                0,
                ::core::option::Option::None,
                "",
                "",
                &[],
                ("", 0),
            );

            #[automatically_derived]
            impl ::orm_core::__private::Metadata for #ident {
                const __META: &'static ::orm_core::__private::ModelMeta = &__ORM_META;
            }

            #[automatically_derived]
            impl ::orm_core::__private::Record for #ident {
                fn __pk(&self) -> ::core::option::Option<::orm_core::Value> {
                    ::core::unreachable!()
                }

                fn __set_pk(&mut self, _: ::core::option::Option<::orm_core::Value>) {
                    ::core::unreachable!()
                }

                fn __value_of(&self, _: &str) -> ::core::option::Option<::orm_core::Value> {
                    ::core::unreachable!()
                }

                fn __from_row(
                    _: &mut ::orm_core::__private::RowReader<'_, '_>,
                ) -> ::orm_core::Result<Self> {
                    ::core::unreachable!()
                }

                fn __bind_local(
                    &self,
                    _: &mut ::orm_core::__private::Binder<'_, '_>,
                    _: bool,
                ) -> ::orm_core::Result<()> {
                    ::core::unreachable!()
                }
            }
        };
    }
}
