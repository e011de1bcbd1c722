//! Parse: the derive input into a typed model, with every attribute decided.
//! Mistakes are collected (not returned early) so all are reported at once.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Expr, Fields, GenericArgument, Ident, LitStr, PathArguments, Type};

/// Collected errors (serde's `Ctxt`).
#[derive(Default)]
pub struct Ctxt {
    errors: Vec<syn::Error>,
}

impl Ctxt {
    pub fn error(&mut self, span: Span, msg: impl std::fmt::Display, help: Option<&str>) {
        let text = match help {
            Some(h) => format!("{msg}\n\n= help: {h}"),
            None => msg.to_string(),
        };
        self.errors.push(syn::Error::new(span, text));
    }

    pub fn into_result(self) -> Result<(), syn::Error> {
        let mut it = self.errors.into_iter();
        match it.next() {
            None => Ok(()),
            Some(mut first) => {
                for e in it {
                    first.combine(e);
                }
                Err(first)
            }
        }
    }
}

/// The `on_delete` rule, decided.
#[derive(Clone)]
pub enum OnDelete {
    Cascade,
    Protect,
    Restrict,
    SetNull,
    SetDefault,
    Set(Expr),
    DoNothing,
}

pub const ON_DELETE_HELP: &str = "on_delete = \"cascade\" | \"protect\" | \"restrict\" | \"set_null\" | \"set_default\" | \"set(<value>)\" | \"do_nothing\"";

/// What a field is.
pub enum Kind {
    /// A plain column.
    Plain,
    /// `#[one_to_one(...)]`: `OneToOne<T>` or `Option<OneToOne<T>>`.
    Relation(Box<Relation>),
    /// The embedded parent of a multi-table child: implicit (`#[parent]`) or
    /// explicit (`#[one_to_one(parent_link, ...)]`).
    Parent(Box<Relation>),
}

pub struct Relation {
    pub target: Type,
    pub nullable: bool,
    pub on_delete: Option<OnDelete>,
    pub on_delete_span: Span,
    pub on_delete_seen: bool,
    pub related_name: Option<LitStr>,
    pub related_query_name: Option<LitStr>,
    pub to_field: Option<LitStr>,
    pub parent_link: bool,
    pub implicit_parent: bool,
    pub db_constraint: bool,
    pub limit_choices_to: Vec<(Ident, Expr)>,
    pub attr_span: Span,
}

pub struct Field {
    pub ident: Ident,
    pub ty: Type,
    pub kind: Kind,
    pub primary_key: bool,
    pub unique: bool,
    pub blank: bool,
    pub default: Option<Expr>,
    pub max_length: Option<usize>,
    pub db_column: Option<LitStr>,
    pub db_type: Option<LitStr>,
    /// `Option<...>` at the top level.
    pub is_option: bool,
    /// `String` or `Option<String>`, syntactically.
    pub is_text: bool,
    /// `Option<i64>` / `Option<i32>` named `id` or marked primary key: an auto key.
    pub auto: Option<&'static str>,
}

pub struct Model {
    pub ident: Ident,
    pub vis: syn::Visibility,
    pub app: String,
    pub table: Option<String>,
    pub fields: Vec<Field>,
}

fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        _ => None,
    }
}

/// The single generic argument of `Wrapper<T>` when the last segment is `name`.
pub fn generic_arg<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    let seg = last_segment(ty)?;
    if seg.ident != name {
        return None;
    }
    match &seg.arguments {
        PathArguments::AngleBracketed(a) if a.args.len() == 1 => match &a.args[0] {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

fn is_ident(ty: &Type, name: &str) -> bool {
    last_segment(ty).is_some_and(|s| s.ident == name && s.arguments.is_empty())
}

fn lit_str(input: syn::parse::ParseStream<'_>) -> syn::Result<LitStr> {
    input.parse::<syn::Token![=]>()?;
    input.parse()
}

pub fn parse(cx: &mut Ctxt, input: &DeriveInput) -> Option<Model> {
    let fields = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(n) => &n.named,
            _ => {
                cx.error(
                    input.ident.span(),
                    "#[derive(Model)] needs a struct with named fields",
                    Some("write `struct Name { pub id: Option<i64>, ... }`"),
                );
                return None;
            }
        },
        _ => {
            cx.error(
                input.ident.span(),
                "#[derive(Model)] works on structs only",
                Some("a model is `struct Name { pub id: Option<i64>, ... }`"),
            );
            return None;
        }
    };
    if !input.generics.params.is_empty() {
        cx.error(
            input.generics.span(),
            "a model cannot be generic",
            Some("remove the type parameters; a model maps to one table"),
        );
    }

    let mut app = std::env::var("CARGO_CRATE_NAME").unwrap_or_else(|_| "app".into());
    let mut table = None;
    for attr in &input.attrs {
        if !attr.path().is_ident("model") {
            continue;
        }
        let r = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("app") {
                app = meta.value()?.parse::<LitStr>()?.value();
            } else if meta.path.is_ident("table") {
                table = Some(meta.value()?.parse::<LitStr>()?.value());
            } else {
                cx.error(
                    meta.path.span(),
                    format!("unknown model option `{}`", meta.path.to_token_stream()),
                    Some("#[model(app = \"auth\", table = \"auth_user\")]"),
                );
                skip_value(&meta)?;
            }
            Ok(())
        });
        if let Err(e) = r {
            cx.error(e.span(), e, Some("#[model(app = \"auth\", table = \"auth_user\")]"));
        }
    }

    let mut out = Vec::new();
    for f in fields {
        if let Some(field) = parse_field(cx, f) {
            out.push(field);
        }
    }
    Some(Model {
        ident: input.ident.clone(),
        vis: input.vis.clone(),
        app,
        table,
        fields: out,
    })
}

fn skip_value(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        let _: Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        let _content;
        syn::parenthesized!(_content in meta.input);
        let _: TokenStream = _content.parse()?;
    }
    Ok(())
}

const FIELD_HELP: &str = "#[field(primary_key, unique, blank, max_length = 150, default = <expr>, db_column = \"name\", db_type = \"date\")]";
const O2O_HELP: &str = "#[one_to_one(on_delete = \"cascade\", related_name = \"profile\", related_query_name = \"...\", to_field = \"...\", primary_key, parent_link, db_constraint = false, db_column = \"...\", default = <expr>, limit_choices_to(is_staff = true))]";

fn parse_field(cx: &mut Ctxt, f: &syn::Field) -> Option<Field> {
    let ident = f.ident.clone()?;
    let ty = f.ty.clone();
    let is_option = generic_arg(&ty, "Option").is_some();
    let inner = generic_arg(&ty, "Option").unwrap_or(&ty);
    let is_text = is_ident(inner, "String");
    let mut field = Field {
        ident: ident.clone(),
        ty: ty.clone(),
        kind: Kind::Plain,
        primary_key: false,
        unique: false,
        blank: false,
        default: None,
        max_length: None,
        db_column: None,
        db_type: None,
        is_option,
        is_text,
        auto: None,
    };
    for attr in &f.attrs {
        if attr.path().is_ident("field") {
            let r = attr.parse_nested_meta(|meta| {
                let p = &meta.path;
                if p.is_ident("primary_key") {
                    field.primary_key = true;
                } else if p.is_ident("unique") {
                    field.unique = true;
                } else if p.is_ident("blank") {
                    field.blank = true;
                } else if p.is_ident("default") {
                    field.default = Some(meta.value()?.parse()?);
                } else if p.is_ident("max_length") {
                    let lit: syn::LitInt = meta.value()?.parse()?;
                    match lit.base10_parse::<usize>() {
                        Ok(n) if n > 0 => field.max_length = Some(n),
                        _ => cx.error(lit.span(), "max_length must be a positive integer", Some("#[field(max_length = 150)]")),
                    }
                } else if p.is_ident("db_column") {
                    field.db_column = Some(lit_str(meta.input)?);
                } else if p.is_ident("db_type") {
                    field.db_type = Some(lit_str(meta.input)?);
                } else {
                    cx.error(
                        p.span(),
                        format!("unknown field option `{}`", p.to_token_stream()),
                        Some(FIELD_HELP),
                    );
                    skip_value(&meta)?;
                }
                Ok(())
            });
            if let Err(e) = r {
                cx.error(e.span(), e, Some(FIELD_HELP));
            }
        } else if attr.path().is_ident("parent") {
            if !matches!(attr.meta, syn::Meta::Path(_)) {
                cx.error(attr.span(), "#[parent] takes no options", Some("#[parent] pub page: Page"));
            }
            field.kind = Kind::Parent(Box::new(Relation {
                target: ty.clone(),
                nullable: false,
                on_delete: Some(OnDelete::Cascade),
                on_delete_span: attr.span(),
                on_delete_seen: false,
                related_name: None,
                related_query_name: None,
                to_field: None,
                parent_link: true,
                implicit_parent: true,
                db_constraint: true,
                limit_choices_to: Vec::new(),
                attr_span: attr.span(),
            }));
        } else if attr.path().is_ident("one_to_one") {
            let mut rel = Relation {
                target: ty.clone(),
                nullable: false,
                on_delete: None,
                on_delete_span: attr.span(),
                on_delete_seen: false,
                related_name: None,
                related_query_name: None,
                to_field: None,
                parent_link: false,
                implicit_parent: false,
                db_constraint: true,
                limit_choices_to: Vec::new(),
                attr_span: attr.span(),
            };
            let r = attr.parse_nested_meta(|meta| {
                let p = &meta.path;
                if p.is_ident("on_delete") {
                    let lit = lit_str(meta.input)?;
                    rel.on_delete_span = lit.span();
                    rel.on_delete_seen = true;
                    rel.on_delete = parse_on_delete(cx, &lit);
                } else if p.is_ident("related_name") {
                    rel.related_name = Some(lit_str(meta.input)?);
                } else if p.is_ident("related_query_name") {
                    rel.related_query_name = Some(lit_str(meta.input)?);
                } else if p.is_ident("to_field") {
                    rel.to_field = Some(lit_str(meta.input)?);
                } else if p.is_ident("primary_key") {
                    field.primary_key = true;
                } else if p.is_ident("parent_link") {
                    rel.parent_link = true;
                } else if p.is_ident("db_constraint") {
                    let b: syn::LitBool = meta.value()?.parse()?;
                    rel.db_constraint = b.value;
                } else if p.is_ident("db_column") {
                    field.db_column = Some(lit_str(meta.input)?);
                } else if p.is_ident("default") {
                    field.default = Some(meta.value()?.parse()?);
                } else if p.is_ident("null") {
                    cx.error(
                        p.span(),
                        "`null` is spelled with the type: a nullable one-to-one is `Option<OneToOne<T>>`",
                        Some("pub owner: Option<OneToOne<Owner>>"),
                    );
                    skip_value(&meta)?;
                } else if p.is_ident("limit_choices_to") {
                    meta.parse_nested_meta(|inner| {
                        let key = inner.path.get_ident().cloned().ok_or_else(|| {
                            inner.error("expected a field name, e.g. limit_choices_to(is_staff = true)")
                        })?;
                        let value: Expr = inner.value()?.parse()?;
                        rel.limit_choices_to.push((key, value));
                        Ok(())
                    })?;
                } else {
                    cx.error(
                        p.span(),
                        format!("unknown one_to_one option `{}`", p.to_token_stream()),
                        Some(O2O_HELP),
                    );
                    skip_value(&meta)?;
                }
                Ok(())
            });
            if let Err(e) = r {
                cx.error(e.span(), e, Some(O2O_HELP));
            }
            // The field type: OneToOne<T>, Option<OneToOne<T>>, or T for a parent link.
            if rel.parent_link {
                rel.target = ty.clone();
                field.kind = Kind::Parent(Box::new(rel));
            } else {
                let (nullable, target) = match generic_arg(&ty, "Option") {
                    Some(inner) => (true, generic_arg(inner, "OneToOne")),
                    None => (false, generic_arg(&ty, "OneToOne")),
                };
                match target {
                    Some(t) => {
                        rel.target = t.clone();
                        rel.nullable = nullable;
                        field.kind = Kind::Relation(Box::new(rel));
                    }
                    None => {
                        cx.error(
                            ty.span(),
                            "a #[one_to_one] field must have type `OneToOne<Target>` or `Option<OneToOne<Target>>`",
                            Some("pub user: OneToOne<User>"),
                        );
                    }
                }
            }
        }
    }
    if matches!(field.kind, Kind::Plain) {
        let auto_ty = generic_arg(&ty, "Option").and_then(|t| {
            if is_ident(t, "i64") {
                Some("bigint")
            } else if is_ident(t, "i32") {
                Some("integer")
            } else {
                None
            }
        });
        if (ident == "id" || field.primary_key) && auto_ty.is_some() {
            field.auto = auto_ty;
        }
    }
    Some(field)
}

fn parse_on_delete(cx: &mut Ctxt, lit: &LitStr) -> Option<OnDelete> {
    let v = lit.value();
    let v = v.trim();
    Some(match v {
        "cascade" | "CASCADE" => OnDelete::Cascade,
        "protect" | "PROTECT" => OnDelete::Protect,
        "restrict" | "RESTRICT" => OnDelete::Restrict,
        "set_null" | "SET_NULL" => OnDelete::SetNull,
        "set_default" | "SET_DEFAULT" => OnDelete::SetDefault,
        "do_nothing" | "DO_NOTHING" => OnDelete::DoNothing,
        s if (s.starts_with("set(") || s.starts_with("SET(")) && s.ends_with(')') => {
            match syn::parse_str::<Expr>(&s[4..s.len() - 1]) {
                Ok(e) => OnDelete::Set(e),
                Err(_) => {
                    cx.error(lit.span(), format!("cannot parse the value in `{s}`"), Some("on_delete = \"set(0)\""));
                    return None;
                }
            }
        }
        other => {
            cx.error(
                lit.span(),
                format!("unknown on_delete rule `{other}`"),
                Some(ON_DELETE_HELP),
            );
            return None;
        }
    })
}
