//! Parse: the derive input into a typed model, with every attribute decided.
//! Mistakes are collected (not returned early) so all are reported at once.

use crate::symbol::*;
use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{
    Attribute, Data, DeriveInput, Expr, Fields, GenericArgument, Ident, Lit, LitStr, PathArguments,
    Type,
};

/// Collected errors (serde's `Ctxt`). Every error carries a `help:` line with
/// the right form, so the wording is the same everywhere.
#[derive(Default)]
pub struct Ctxt {
    /// Each error with the position it belongs to (see [`Ctxt::at`]).
    errors: Vec<(usize, syn::Error)>,
    at: usize,
}

impl Ctxt {
    /// Where the next errors belong: 0 for the struct itself, `i + 1` for
    /// field `i`. Errors are reported in that order, so parse and check
    /// errors read top to bottom together.
    pub fn at(&mut self, pos: usize) {
        self.at = pos;
    }

    /// An error on one token.
    pub fn error(&mut self, span: Span, msg: impl std::fmt::Display, help: impl std::fmt::Display) {
        let e = syn::Error::new(span, with_help(msg, help));
        self.errors.push((self.at, e));
    }

    /// An error underlining all of `tokens` (an attribute, a type, generics).
    pub fn error_spanned(
        &mut self,
        tokens: impl ToTokens,
        msg: impl std::fmt::Display,
        help: impl std::fmt::Display,
    ) {
        let e = syn::Error::new_spanned(tokens, with_help(msg, help));
        self.errors.push((self.at, e));
    }

    /// A parse error from syn (e.g. "expected string literal"), with our help.
    pub fn syn_error(&mut self, e: syn::Error, help: &str) {
        for e in e {
            self.error(e.span(), e, help);
        }
    }

    /// All errors, combined into one `syn::Error` (each becomes its own
    /// `compile_error!`).
    pub fn into_result(mut self) -> Result<(), syn::Error> {
        self.errors.sort_by_key(|(pos, _)| *pos);
        let mut it = self.errors.into_iter().map(|(_, e)| e);
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

/// `msg`, then rustc's own `= help:` layout on the next line.
fn with_help(msg: impl std::fmt::Display, help: impl std::fmt::Display) -> String {
    format!("{msg}\n= help: {help}")
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

/// The rules, in Django's order; `set(<value>)` is matched separately.
const ON_DELETE_RULES: &[&str] = &[
    "cascade",
    "protect",
    "restrict",
    "set_null",
    "set_default",
    "set(<value>)",
    "do_nothing",
];

const ON_DELETE_HELP: &str = "on_delete = \"cascade\" | \"protect\" | \"restrict\" | \"set_null\" | \"set_default\" | \"set(<value>)\" | \"do_nothing\"";

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
    /// The target model's name: the last segment of its path, without `r#`
    /// (`User` for `crate::auth::User`). Checked to be a model type path, so
    /// it is an identifier when no error has been reported.
    pub target_name: String,
    pub nullable: bool,
    /// `None` only when a mistake in it has been reported.
    pub on_delete: Option<OnDelete>,
    pub on_delete_span: Span,
    /// A `null = ...` option was given (already reported; checks stay quiet
    /// about nullability so the one mistake gives one error).
    pub null_given: bool,
    pub related_name: Option<LitStr>,
    pub related_query_name: Option<LitStr>,
    pub to_field: Option<LitStr>,
    pub parent_link: bool,
    pub implicit_parent: bool,
    pub db_constraint: bool,
    pub limit_choices_to: Vec<(Ident, Expr)>,
}

impl Relation {
    fn new(target: Type, target_name: String, span: Span) -> Self {
        Relation {
            target,
            target_name,
            nullable: false,
            on_delete: None,
            on_delete_span: span,
            null_given: false,
            related_name: None,
            related_query_name: None,
            to_field: None,
            parent_link: false,
            implicit_parent: false,
            db_constraint: true,
            limit_choices_to: Vec::new(),
        }
    }
}

pub struct Field {
    /// The Rust identifier, raw (`r#type`) when written so: for generated code.
    pub ident: Ident,
    /// The field's name without `r#` (`type`): the default column, the name
    /// in the metadata, in lookups and in validation errors.
    pub name: String,
    pub ty: Type,
    pub kind: Kind,
    /// The `primary_key` key, when given.
    pub primary_key: Option<Span>,
    pub unique: bool,
    pub blank: bool,
    pub default: Option<Expr>,
    /// The value and the `max_length` key.
    pub max_length: Option<(usize, Span)>,
    pub db_column: Option<LitStr>,
    pub db_type: Option<LitStr>,
    /// A decimal's `max_digits` and `decimal_places`.
    pub max_digits: Option<(u32, Span)>,
    pub decimal_places: Option<(u32, Span)>,
    /// Django's `auto_now` (set on every save) and `auto_now_add` (on insert).
    pub auto_now: bool,
    pub auto_now_add: bool,
    /// `Option<...>` at the top level.
    pub is_option: bool,
    /// `String` or `Option<String>`, syntactically.
    pub is_text: bool,
    /// `Option<i64>` / `Option<i32>` named `id` or marked primary key: an auto key.
    pub auto: Option<&'static str>,
}

impl Field {
    pub fn max_length(&self) -> Option<usize> {
        self.max_length.map(|(n, _)| n)
    }
}

pub struct Model {
    /// The Rust identifier, raw when written so: for generated code.
    pub ident: Ident,
    /// The model's name without `r#`: the metadata's name, the default table
    /// and reverse accessor.
    pub name: String,
    pub vis: syn::Visibility,
    pub app: String,
    pub table: Option<String>,
    /// `verbose_name`, or Django's default from the name (`GrandParent` ->
    /// "grand parent").
    pub verbose_name: String,
    /// `verbose_name_plural`, or the verbose name plus "s".
    pub verbose_name_plural: String,
    /// `ordering`: Django's `Meta.ordering` terms (`-created`), with the
    /// literal they came from (checked against the fields in `check.rs`).
    pub ordering: Vec<String>,
    pub ordering_span: Option<Span>,
    pub fields: Vec<Field>,
}

/// Django's `camel_case_to_spaces`: a space before each capital (A-Z) that
/// follows a small letter (a-z) or is followed by something other than a
/// capital, then trimmed and in lower case (`GrandParent` -> "grand parent",
/// `HTTPRequest` -> "http request").
pub fn camel_case_to_spaces(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let after_small = i > 0 && chars[i - 1].is_ascii_lowercase();
            let before_other = chars.get(i + 1).is_some_and(|n| !n.is_ascii_uppercase());
            if after_small || before_other {
                out.push(' ');
            }
        }
        out.push(c);
    }
    out.trim().to_lowercase()
}

/// The terms of an `ordering = "a, -b"` option: trimmed, empty ones dropped.
pub fn ordering_terms(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// `ty` without the invisible group a `macro_rules!` `$t:ty` fragment wraps
/// it in, nor parentheses: `(User)` is the type `User`.
fn ungroup(ty: &Type) -> &Type {
    match ty {
        Type::Group(g) => ungroup(&g.elem),
        Type::Paren(p) => ungroup(&p.elem),
        other => other,
    }
}

fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ungroup(ty) {
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
        PathArguments::AngleBracketed(a) if a.args.len() == 1 => match a.args.first() {
            Some(GenericArgument::Type(t)) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

/// The name of the model `ty` names by its path (`User`, `crate::auth::User`):
/// the last segment, without `r#`. `None` for anything else: an array, a
/// tuple, a reference, `dyn Trait`, `<T as Trait>::Assoc`, `Self`, or a
/// path with generic arguments (a model is never generic).
pub fn model_name(ty: &Type) -> Option<String> {
    let Type::Path(p) = ungroup(ty) else {
        return None;
    };
    let last = p.path.segments.last()?;
    let ok = p.qself.is_none() && last.arguments.is_empty() && last.ident != "Self";
    ok.then(|| last.ident.unraw().to_string())
}

/// The model a mistaken target most likely means, for the `help:` line:
/// `User` in `[User; 1]`, `&User`, `(User,)`, `Option<User>` or
/// `Box<User>`; the model itself for `Self`.
fn meant_model(ty: &Type, model: &Ident) -> Option<String> {
    match ungroup(ty) {
        Type::Array(a) => meant_model(&a.elem, model),
        Type::Slice(s) => meant_model(&s.elem, model),
        Type::Reference(r) => meant_model(&r.elem, model),
        Type::Ptr(p) => meant_model(&p.elem, model),
        Type::Tuple(t) if t.elems.len() == 1 => meant_model(t.elems.first()?, model),
        ty @ Type::Path(_) => {
            if is_ident(ty, "Self") {
                return Some(model.to_string());
            }
            if model_name(ty).is_some() {
                return Some(tidy(ty));
            }
            ["Option", "OneToOne", "Box", "Rc", "Arc"]
                .iter()
                .find_map(|w| generic_arg(ty, w))
                .and_then(|inner| meant_model(inner, model))
        }
        _ => None,
    }
}

/// The name of a relation's target; a spanned error on `target` when it is
/// not a model type path. `what` names the attribute, `right` writes the
/// field's type around a model (`|m| format!("OneToOne<{m}>")`).
fn target_name(
    cx: &mut Ctxt,
    what: &str,
    field: &Field,
    target: &Type,
    model: &Ident,
    right: impl Fn(&str) -> String,
) -> String {
    if let Some(name) = model_name(target) {
        return name;
    }
    let help = match meant_model(target, model) {
        Some(m) => format!(
            "write `pub {}: {}`, naming the model by its path",
            field.ident,
            right(&m)
        ),
        None => format!(
            "write `pub {}: {}`, naming the model by its path (`User`, `crate::auth::User`)",
            field.ident,
            right("User")
        ),
    };
    cx.error_spanned(
        target,
        format!("{what} must be a model type path, not `{}`", tidy(target)),
        help,
    );
    tidy(target)
}

/// The `T` of `Option<T>`.
pub fn option_inner(ty: &Type) -> Option<&Type> {
    generic_arg(ty, "Option")
}

/// The last path segment's name (`NaiveDate` for `chrono::NaiveDate`).
fn last_ident(ty: &Type) -> Option<String> {
    last_segment(ty).map(|s| s.ident.to_string())
}

/// A built-in field type the derive knows by name (through an `Option`):
/// integers, floats, `bool`, `Vec<u8>`, and `String` when `text` is true.
/// Any other type is checked through its `FieldType` impl when the crate
/// compiles (it may be text, a decimal...).
pub fn is_builtin_scalar(ty: &Type, text: bool) -> bool {
    const SCALARS: &[&str] = &[
        "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f32", "f64", "bool", "Vec",
    ];
    let inner = option_inner(ty).unwrap_or(ty);
    last_ident(inner).is_some_and(|i| SCALARS.contains(&i.as_str()) || (text && i == "String"))
}

fn is_ident(ty: &Type, name: &str) -> bool {
    last_segment(ty).is_some_and(|s| s.ident == name && s.arguments.is_empty())
}

/// A plain Rust identifier: not a keyword, not `_`, not a raw `r#` one.
pub fn is_identifier(s: &str) -> bool {
    !s.starts_with("r#") && syn::parse_str::<Ident>(s).is_ok()
}

/// Tokens as the user would write them (`OneToOne<User>`, not `OneToOne < User >`).
pub fn tidy(tokens: impl ToTokens) -> String {
    let s = tokens.to_token_stream().to_string();
    let mut out = String::with_capacity(s.len());
    for (i, part) in s.split(' ').enumerate() {
        let prev = out.chars().last();
        let glue = matches!(part, "<" | ">" | "," | ";" | "::" | ">>")
            || matches!(prev, Some('<' | ':' | '&'));
        if i > 0 && !glue {
            out.push(' ');
        }
        out.push_str(part);
    }
    out
}

/// The closest candidate within a small edit distance, for "did you mean".
pub fn did_you_mean<'a>(got: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(got, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance. The indexing stays in bounds: `prev` always has
/// `b.len() + 1` entries and `cur` has `j + 1` when `cur[j]` is read.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// "unknown `#[field]` option `x`", with a "did you mean" when one is close.
fn unknown_option(cx: &mut Ctxt, attr: &str, path: &syn::Path, known: &[&str], help: &str) {
    let got = path.to_token_stream().to_string();
    let msg = match did_you_mean(&got, known) {
        Some(s) => format!("unknown `#[{attr}]` option `{got}`; did you mean `{s}`?"),
        None => format!("unknown `#[{attr}]` option `{got}`"),
    };
    cx.error_spanned(path, msg, help);
}

/// Reports the second occurrence of an option.
fn once(cx: &mut Ctxt, seen: &mut Vec<String>, attr: &str, path: &syn::Path) {
    let key = path.to_token_stream().to_string();
    if seen.contains(&key) {
        cx.error_spanned(
            path,
            format!("duplicate `#[{attr}]` option `{key}`"),
            "give each option once",
        );
    } else {
        seen.push(key);
    }
}

fn lit_str(meta: &ParseNestedMeta<'_>) -> syn::Result<LitStr> {
    meta.value()?.parse()
}

/// Skips the value of an unknown option so the rest of the attribute is
/// still read.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        let _: Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        let _: TokenStream = content.parse()?;
    }
    Ok(())
}

const MODEL_HELP: &str = "#[model(app = \"auth\", table = \"auth_user\", verbose_name = \"user\", verbose_name_plural = \"users\", ordering = \"-created, name\")]";
const MODEL_OPTIONS: &[&str] = &[
    "app",
    "table",
    "verbose_name",
    "verbose_name_plural",
    "ordering",
];

const FIELD_HELP: &str = "#[field(primary_key, unique, blank, max_length = 150, default = <expr>, db_column = \"name\", db_type = \"date\", max_digits = 10, decimal_places = 2, auto_now, auto_now_add)]";
const FIELD_OPTIONS: &[&str] = &[
    "primary_key",
    "unique",
    "blank",
    "max_length",
    "default",
    "db_column",
    "db_type",
    "max_digits",
    "decimal_places",
    "auto_now",
    "auto_now_add",
];

const O2O_HELP: &str = "#[one_to_one(on_delete = \"cascade\", related_name = \"profile\", related_query_name = \"...\", to_field = \"...\", primary_key, parent_link, db_constraint = false, db_column = \"...\", default = <expr>, limit_choices_to(is_staff = true))]";
const O2O_OPTIONS: &[&str] = &[
    "on_delete",
    "related_name",
    "related_query_name",
    "to_field",
    "primary_key",
    "parent_link",
    "db_constraint",
    "db_column",
    "default",
    "limit_choices_to",
];

pub fn parse(cx: &mut Ctxt, input: &DeriveInput) -> Option<Model> {
    const SHAPE: &str =
        "a model is a struct with named fields: `struct Name { pub id: Option<i64>, ... }`";
    let fields = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(n) => &n.named,
            Fields::Unnamed(u) => {
                cx.error_spanned(
                    u,
                    "#[derive(Model)] needs named fields, not a tuple struct",
                    SHAPE,
                );
                return None;
            }
            Fields::Unit => {
                cx.error(
                    input.ident.span(),
                    "#[derive(Model)] needs named fields, not a unit struct",
                    SHAPE,
                );
                return None;
            }
        },
        Data::Enum(e) => {
            cx.error(
                e.enum_token.span,
                "#[derive(Model)] works on structs only, not enums",
                SHAPE,
            );
            return None;
        }
        Data::Union(u) => {
            cx.error(
                u.union_token.span,
                "#[derive(Model)] works on structs only, not unions",
                SHAPE,
            );
            return None;
        }
    };
    if !input.generics.params.is_empty() {
        cx.error_spanned(
            &input.generics,
            "a model cannot be generic",
            "a model maps to one table: remove the parameters and give each field a concrete type",
        );
    }

    let mut app = std::env::var("CARGO_CRATE_NAME").unwrap_or_else(|_| "app".into());
    let mut table = None;
    let mut verbose_name = None;
    let mut verbose_name_plural = None;
    let mut ordering = Vec::new();
    let mut ordering_span = None;
    for attr in input.attrs.iter().filter(|a| a.path() == MODEL) {
        let mut seen = Vec::new();
        let r = attr.parse_nested_meta(|meta| {
            once(cx, &mut seen, MODEL.0, &meta.path);
            if meta.path == APP {
                app = lit_str(&meta)?.value();
            } else if meta.path == TABLE {
                table = Some(lit_str(&meta)?.value());
            } else if meta.path == VERBOSE_NAME {
                verbose_name = Some(lit_str(&meta)?.value());
            } else if meta.path == VERBOSE_NAME_PLURAL {
                verbose_name_plural = Some(lit_str(&meta)?.value());
            } else if meta.path == ORDERING {
                let lit = lit_str(&meta)?;
                ordering = ordering_terms(&lit.value());
                ordering_span = Some(lit.span());
            } else {
                unknown_option(cx, MODEL.0, &meta.path, MODEL_OPTIONS, MODEL_HELP);
                skip_value(&meta)?;
            }
            Ok(())
        });
        if let Err(e) = r {
            cx.syn_error(e, MODEL_HELP);
        }
    }

    let fields = fields
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            cx.at(i + 1);
            parse_field(cx, f, &input.ident)
        })
        .collect();
    cx.at(0);
    let name = input.ident.unraw().to_string();
    let verbose_name = verbose_name.unwrap_or_else(|| camel_case_to_spaces(&name));
    let verbose_name_plural = verbose_name_plural.unwrap_or_else(|| format!("{verbose_name}s"));
    Some(Model {
        ident: input.ident.clone(),
        name,
        vis: input.vis.clone(),
        app,
        table,
        verbose_name,
        verbose_name_plural,
        ordering,
        ordering_span,
        fields,
    })
}

/// One field; `model` is the struct's name (what `Self` means).
fn parse_field(cx: &mut Ctxt, f: &syn::Field, model: &Ident) -> Option<Field> {
    // Always `Some`: `parse` only reads the fields of a struct with named
    // fields.
    let ident = f.ident.clone()?;
    let ty = f.ty.clone();
    let option_inner = generic_arg(&f.ty, "Option");
    let mut field = Field {
        name: ident.unraw().to_string(),
        ident,
        kind: Kind::Plain,
        primary_key: None,
        unique: false,
        blank: false,
        default: None,
        max_length: None,
        max_digits: None,
        decimal_places: None,
        auto_now: false,
        auto_now_add: false,
        db_column: None,
        db_type: None,
        is_option: option_inner.is_some(),
        is_text: is_ident(option_inner.unwrap_or(&ty), "String"),
        auto: None,
        ty,
    };
    for attr in &f.attrs {
        if attr.path() == FIELD {
            field_attr(cx, &mut field, attr);
        } else if attr.path() == PARENT {
            if !matches!(attr.meta, syn::Meta::Path(_)) {
                cx.error_spanned(
                    &attr.meta,
                    "#[parent] takes no options",
                    format!(
                        "write `#[parent]` alone, or `#[one_to_one(parent_link, on_delete = \"cascade\", ...)] pub {}: {}` for an explicit parent link",
                        field.ident,
                        tidy(&field.ty)
                    ),
                );
            }
            let name = target_name(cx, "a `#[parent]` field", &field, &field.ty, model, |m| {
                m.to_string()
            });
            let mut rel = Relation::new(field.ty.clone(), name, attr.span());
            rel.on_delete = Some(OnDelete::Cascade);
            rel.parent_link = true;
            rel.implicit_parent = true;
            field.kind = Kind::Parent(Box::new(rel));
        } else if attr.path() == ONE_TO_ONE {
            one_to_one_attr(cx, &mut field, attr, model);
        }
    }
    if matches!(field.kind, Kind::Plain) {
        let auto_ty = option_inner.and_then(|t| {
            if is_ident(t, "i64") {
                Some("bigint")
            } else if is_ident(t, "i32") {
                Some("integer")
            } else {
                None
            }
        });
        if field.name == "id" || field.primary_key.is_some() {
            field.auto = auto_ty;
        }
    }
    Some(field)
}

/// `#[field(...)]`.
fn field_attr(cx: &mut Ctxt, field: &mut Field, attr: &Attribute) {
    let mut seen = Vec::new();
    let r = attr.parse_nested_meta(|meta| {
        let p = &meta.path;
        once(cx, &mut seen, FIELD.0, p);
        if p == PRIMARY_KEY {
            field.primary_key = Some(p.span());
        } else if p == UNIQUE {
            field.unique = true;
        } else if p == BLANK {
            field.blank = true;
        } else if p == DEFAULT {
            field.default = Some(meta.value()?.parse()?);
        } else if p == MAX_LENGTH {
            let lit: syn::LitInt = meta.value()?.parse()?;
            match lit.base10_parse::<usize>() {
                Ok(n) if n > 0 => field.max_length = Some((n, p.span())),
                _ => cx.error(
                    lit.span(),
                    "`max_length` must be a positive integer",
                    "#[field(max_length = 150)]",
                ),
            }
        } else if p == MAX_DIGITS || p == DECIMAL_PLACES {
            let lit: syn::LitInt = meta.value()?.parse()?;
            let n = lit.base10_parse::<u32>().ok().filter(|n| *n <= 38);
            match (n, p == MAX_DIGITS) {
                (Some(n), true) if n > 0 => field.max_digits = Some((n, p.span())),
                (Some(n), false) => field.decimal_places = Some((n, p.span())),
                _ => cx.error(
                    lit.span(),
                    "`max_digits` must be an integer from 1 to 38 and `decimal_places` from 0 to 38",
                    "#[field(max_digits = 10, decimal_places = 2)]",
                ),
            }
        } else if p == AUTO_NOW {
            field.auto_now = true;
        } else if p == AUTO_NOW_ADD {
            field.auto_now_add = true;
        } else if p == DB_COLUMN {
            field.db_column = Some(lit_str(&meta)?);
        } else if p == DB_TYPE {
            field.db_type = Some(lit_str(&meta)?);
        } else if p == NULL {
            let nullable = if field.is_option {
                format!("`{}` is already nullable; remove `null`", tidy(&field.ty))
            } else {
                format!(
                    "write `pub {}: Option<{}>` and remove `null`",
                    field.ident,
                    tidy(&field.ty)
                )
            };
            cx.error_spanned(
                p,
                "there is no `null` option: a nullable column is an `Option<T>` field",
                nullable,
            );
            skip_value(&meta)?;
        } else {
            unknown_option(cx, FIELD.0, p, FIELD_OPTIONS, FIELD_HELP);
            skip_value(&meta)?;
        }
        Ok(())
    });
    if let Err(e) = r {
        cx.syn_error(e, FIELD_HELP);
    }
}

/// `#[one_to_one(...)]` (a bare `#[one_to_one]` has no options: it is
/// reported for its missing `on_delete`).
fn one_to_one_attr(cx: &mut Ctxt, field: &mut Field, attr: &Attribute, model: &Ident) {
    // The field type: OneToOne<T>, Option<OneToOne<T>>, or T for a parent link.
    let (nullable, target) = match generic_arg(&field.ty, "Option") {
        Some(inner) => (true, generic_arg(inner, "OneToOne").cloned()),
        None => (false, generic_arg(&field.ty, "OneToOne").cloned()),
    };
    let target_text = tidy(target.as_ref().unwrap_or(&field.ty));
    // The model's name is decided below, once `parent_link` is known.
    let mut rel = Relation::new(
        target.clone().unwrap_or_else(|| field.ty.clone()),
        String::new(),
        attr.span(),
    );
    rel.nullable = nullable;
    let mut on_delete_given = false;
    let mut seen = Vec::new();
    let r = match &attr.meta {
        syn::Meta::Path(_) => Ok(()),
        _ => attr.parse_nested_meta(|meta| {
            let p = &meta.path;
            once(cx, &mut seen, ONE_TO_ONE.0, p);
            if p == ON_DELETE {
                on_delete_given = true;
                let value: Expr = meta.value()?.parse()?;
                rel.on_delete_span = value.span();
                rel.on_delete = parse_on_delete(cx, &value);
            } else if p == RELATED_NAME {
                rel.related_name = Some(lit_str(&meta)?);
            } else if p == RELATED_QUERY_NAME {
                rel.related_query_name = Some(lit_str(&meta)?);
            } else if p == TO_FIELD {
                rel.to_field = Some(lit_str(&meta)?);
            } else if p == PRIMARY_KEY {
                field.primary_key = Some(p.span());
            } else if p == PARENT_LINK {
                rel.parent_link = true;
            } else if p == DB_CONSTRAINT {
                let b: syn::LitBool = meta.value()?.parse()?;
                rel.db_constraint = b.value;
            } else if p == DB_COLUMN {
                field.db_column = Some(lit_str(&meta)?);
            } else if p == DEFAULT {
                field.default = Some(meta.value()?.parse()?);
            } else if p == NULL {
                rel.null_given = true;
                let help = if nullable {
                    format!("`{}` is already nullable; remove `null`", tidy(&field.ty))
                } else {
                    format!(
                        "write `pub {}: Option<OneToOne<{target_text}>>` and remove `null`",
                        field.ident
                    )
                };
                cx.error_spanned(
                    p,
                    "there is no `null` option: a nullable one-to-one is an `Option<OneToOne<T>>` field",
                    help,
                );
                skip_value(&meta)?;
            } else if p == LIMIT_CHOICES_TO {
                meta.parse_nested_meta(|inner| {
                    let key = inner.path.get_ident().cloned().ok_or_else(|| {
                        inner.error("expected a field name, e.g. limit_choices_to(is_staff = true)")
                    })?;
                    let value: Expr = inner.value()?.parse()?;
                    rel.limit_choices_to.push((key, value));
                    Ok(())
                })?;
            } else {
                unknown_option(cx, ONE_TO_ONE.0, p, O2O_OPTIONS, O2O_HELP);
                skip_value(&meta)?;
            }
            Ok(())
        }),
    };
    let parsed = match r {
        Ok(()) => true,
        Err(e) => {
            cx.syn_error(e, O2O_HELP);
            false
        }
    };
    // Django: `OneToOneField.__init__() missing 1 required positional
    // argument: 'on_delete'`. Not reported when the attribute did not parse.
    if !on_delete_given && parsed {
        cx.error_spanned(
            attr,
            format!(
                "`#[one_to_one]` on `{}` needs an `on_delete` rule",
                field.ident
            ),
            format!("add one of {ON_DELETE_HELP}"),
        );
    }
    if rel.parent_link {
        rel.target = field.ty.clone();
        rel.target_name = target_name(
            cx,
            "a `#[one_to_one(parent_link)]` field",
            field,
            &field.ty,
            model,
            |m| m.to_string(),
        );
        field.kind = Kind::Parent(Box::new(rel));
    } else if let Some(target) = &target {
        let wrap = |m: &str| match nullable {
            true => format!("Option<OneToOne<{m}>>"),
            false => format!("OneToOne<{m}>"),
        };
        rel.target_name = target_name(cx, "a `#[one_to_one]` target", field, target, model, wrap);
        field.kind = Kind::Relation(Box::new(rel));
    } else {
        let right = match generic_arg(&field.ty, "Option") {
            Some(inner) => format!("Option<OneToOne<{}>>", tidy(inner)),
            None => format!("OneToOne<{target_text}>"),
        };
        cx.error_spanned(
            &field.ty,
            "a #[one_to_one] field must have type `OneToOne<T>` or `Option<OneToOne<T>>`",
            format!(
                "write `pub {}: {right}`, or `#[parent]` to embed a multi-table parent",
                field.ident
            ),
        );
    }
}

/// The expression text of `set(<value>)` (`SET(...)` too), sliced only
/// where `str::get` finds character boundaries.
fn set_arg(v: &str) -> Option<&str> {
    let head = v.get(..4)?;
    let rest = v.get(4..)?;
    if !head.eq_ignore_ascii_case("set(") {
        return None;
    }
    rest.strip_suffix(')')
}

/// `on_delete = "cascade"` and friends; `CASCADE` is accepted too.
fn parse_on_delete(cx: &mut Ctxt, value: &Expr) -> Option<OnDelete> {
    let lit = match value {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) => s,
        other => {
            // `on_delete = CASCADE` or `models.CASCADE`: suggest the string.
            let last = match other {
                Expr::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
                Expr::Field(f) => Some(f.member.to_token_stream().to_string()),
                _ => None,
            }
            .map(|s| s.to_lowercase())
            .filter(|s| ON_DELETE_RULES.contains(&s.as_str()));
            let help = match last {
                Some(rule) => format!("write on_delete = \"{rule}\""),
                None => ON_DELETE_HELP.to_string(),
            };
            cx.error_spanned(other, "the on_delete rule is a string", help);
            return None;
        }
    };
    let v = lit.value();
    let v = v.trim();
    if let Some(arg) = set_arg(v) {
        return match syn::parse_str::<Expr>(arg) {
            Ok(e) => Some(OnDelete::Set(e)),
            Err(e) => {
                cx.error(
                    lit.span(),
                    format!("cannot read the value in on_delete = \"{v}\": {e}"),
                    "on_delete = \"set(0)\", with a Rust expression between the parentheses",
                );
                None
            }
        };
    }
    Some(match v.to_lowercase().as_str() {
        "cascade" => OnDelete::Cascade,
        "protect" => OnDelete::Protect,
        "restrict" => OnDelete::Restrict,
        "set_null" => OnDelete::SetNull,
        "set_default" => OnDelete::SetDefault,
        "do_nothing" => OnDelete::DoNothing,
        other => {
            let msg = match did_you_mean(other, ON_DELETE_RULES) {
                Some(s) => format!("unknown on_delete rule \"{v}\"; did you mean \"{s}\"?"),
                None => format!("unknown on_delete rule \"{v}\""),
            };
            cx.error(lit.span(), msg, ON_DELETE_HELP);
            return None;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(src: &str) -> (Option<Model>, Vec<String>) {
        let input: DeriveInput = syn::parse_str(src).unwrap();
        let mut cx = Ctxt::default();
        let m = parse(&mut cx, &input);
        let errors = match cx.into_result() {
            Ok(()) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        };
        (m, errors)
    }

    #[test]
    fn relation_options_are_decided() {
        let (m, errors) = parse_str(
            r#"struct Profile {
                id: Option<i64>,
                #[one_to_one(on_delete = "SET_NULL", related_name = "profile", db_constraint = false,
                             limit_choices_to(is_staff = true))]
                user: Option<OneToOne<User>>,
            }"#,
        );
        assert!(errors.is_empty(), "{errors:?}");
        let m = m.unwrap();
        let Kind::Relation(rel) = &m.fields[1].kind else {
            panic!("not a relation")
        };
        assert!(rel.nullable);
        assert!(matches!(rel.on_delete, Some(OnDelete::SetNull)));
        assert_eq!(tidy(&rel.target), "User");
        assert_eq!(rel.related_name.as_ref().unwrap().value(), "profile");
        assert!(!rel.db_constraint);
        assert_eq!(rel.limit_choices_to.len(), 1);
        assert_eq!(m.fields[0].auto, Some("bigint"));
    }

    #[test]
    fn set_rule_takes_an_expression() {
        let (m, errors) = parse_str(
            r#"struct P { id: Option<i64>, #[one_to_one(on_delete = "set(7)")] u: OneToOne<U> }"#,
        );
        assert!(errors.is_empty(), "{errors:?}");
        let Kind::Relation(rel) = &m.unwrap().fields[1].kind else {
            panic!()
        };
        assert!(matches!(&rel.on_delete, Some(OnDelete::Set(e)) if tidy(e) == "7"));
    }

    #[test]
    fn set_rule_is_read_without_slicing_inside_a_character() {
        assert_eq!(set_arg("set(7)"), Some("7"));
        assert_eq!(set_arg("SET()"), Some(""));
        assert_eq!(set_arg("set("), None);
        assert_eq!(set_arg("set"), None);
        assert_eq!(set_arg("sé(1)"), None);
        assert_eq!(set_arg("\u{130}\u{130}(1)"), None);
        // Characters whose lower case is longer than them, or ASCII.
        for (v, n_errors) in [
            ("SET(\u{130})", 0),
            ("s\u{130}t(1)", 1),
            ("\u{212a}et(1)", 1),
            ("set(1\u{130}", 1),
        ] {
            let src = format!(
                r#"struct P {{ id: Option<i64>, #[one_to_one(on_delete = "{v}")] u: OneToOne<U> }}"#
            );
            let (_, errors) = parse_str(&src);
            assert_eq!(errors.len(), n_errors, "{v}: {errors:?}");
        }
    }

    #[test]
    fn parent_attribute_is_an_implicit_cascading_link() {
        let (m, errors) = parse_str("struct R { #[parent] place: Place, stars: i32 }");
        assert!(errors.is_empty(), "{errors:?}");
        let Kind::Parent(rel) = &m.unwrap().fields[0].kind else {
            panic!()
        };
        assert!(rel.implicit_parent && rel.parent_link);
        assert!(matches!(rel.on_delete, Some(OnDelete::Cascade)));
    }

    #[test]
    fn every_mistake_is_collected() {
        let (_, errors) = parse_str(
            r#"struct P {
                #[field(colour = "red", max_length = 0)]
                a: String,
                #[one_to_one(on_delete = "casade", relatd_name = "x")]
                b: OneToOne<U>,
                #[one_to_one]
                c: OneToOne<U>,
            }"#,
        );
        let firsts: Vec<&str> = errors.iter().map(|e| e.lines().next().unwrap()).collect();
        assert_eq!(
            firsts,
            [
                "unknown `#[field]` option `colour`",
                "`max_length` must be a positive integer",
                "unknown on_delete rule \"casade\"; did you mean \"cascade\"?",
                "unknown `#[one_to_one]` option `relatd_name`; did you mean `related_name`?",
                "`#[one_to_one]` on `c` needs an `on_delete` rule",
            ]
        );
        assert!(errors.iter().all(|e| e.contains("\n= help: ")));
    }

    #[test]
    fn on_delete_given_as_a_path_suggests_the_string() {
        let (_, errors) = parse_str(
            "struct P { id: Option<i64>, #[one_to_one(on_delete = models.CASCADE)] u: OneToOne<U> }",
        );
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].contains("write on_delete = \"cascade\""),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn duplicate_options_are_reported() {
        let (_, errors) =
            parse_str("struct P { id: Option<i64>, #[field(unique, unique)] a: i32 }");
        assert_eq!(errors.len(), 1);
        assert!(errors[0].starts_with("duplicate `#[field]` option `unique`"));
    }

    #[test]
    fn shapes_other_than_named_structs_are_refused() {
        for src in [
            "struct T(i64);",
            "struct T;",
            "enum T { A }",
            "union T { a: u8 }",
        ] {
            let (m, errors) = parse_str(src);
            assert!(m.is_none(), "{src}");
            assert_eq!(errors.len(), 1, "{src}");
        }
    }

    #[test]
    fn verbose_name_defaults_like_django() {
        assert_eq!(camel_case_to_spaces("GrandParent"), "grand parent");
        assert_eq!(camel_case_to_spaces("User"), "user");
        assert_eq!(camel_case_to_spaces("HTTPRequest"), "http request");
        assert_eq!(camel_case_to_spaces("Page2Owner"), "page2 owner");
        let (m, errors) = parse_str(
            r#"#[model(ordering = "-created, name,")] struct GrandParent { id: Option<i64> }"#,
        );
        assert!(errors.is_empty(), "{errors:?}");
        let m = m.unwrap();
        assert_eq!(m.verbose_name, "grand parent");
        assert_eq!(m.verbose_name_plural, "grand parents");
        assert_eq!(m.ordering, ["-created", "name"]);
    }

    #[test]
    fn identifiers() {
        assert!(is_identifier("profile"));
        assert!(is_identifier("_profile"));
        for bad in [
            "",
            "_",
            "self",
            "type",
            "r#type",
            "my profile",
            "1st",
            "a-b",
            "a+",
        ] {
            assert!(!is_identifier(bad), "{bad}");
        }
    }

    #[test]
    fn did_you_mean_only_close_names() {
        assert_eq!(did_you_mean("max_len", FIELD_OPTIONS), Some("max_length"));
        assert_eq!(did_you_mean("casade", ON_DELETE_RULES), Some("cascade"));
        assert_eq!(did_you_mean("setnull", ON_DELETE_RULES), Some("set_null"));
        assert_eq!(did_you_mean("colour", FIELD_OPTIONS), None);
    }

    #[test]
    fn tidy_types() {
        let ty: Type = syn::parse_str("Option < OneToOne < crate :: User > >").unwrap();
        assert_eq!(tidy(&ty), "Option<OneToOne<crate::User>>");
        let ty: Type = syn::parse_str("HashMap<String, Vec<u8>>").unwrap();
        assert_eq!(tidy(&ty), "HashMap<String, Vec<u8>>");
        let ty: Type = syn::parse_str("[User ; 1]").unwrap();
        assert_eq!(tidy(&ty), "[User; 1]");
    }
}
