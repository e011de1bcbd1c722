//! `#[derive(Choices)]`: a fieldless enum whose variants each carry
//! `#[choice(<value>, label = "...")]` (Django's `TextChoices` and
//! `IntegerChoices`). Parse, check and expand, like the model derive: every
//! mistake is collected with its span and a `help:`, then a stub impl keeps
//! one mistake from setting off errors where the enum is used.

use std::collections::HashMap;

use proc_macro2::{Literal, Span, TokenStream};
use quote::quote;
use syn::ext::IdentExt;
use syn::parse::ParseStream;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Ident, Lit, LitStr, Token};

use crate::ast::Ctxt;
use crate::symbol::{CHOICE, LABEL};

const CHOICE_HELP: &str =
    "write `#[choice(\"FR\", label = \"Freshman\")]` (text) or `#[choice(1)]` (integer) above the variant; `label` is optional";

/// The enum, every attribute decided.
struct ChoicesEnum {
    ident: Ident,
    /// The name without `r#`, for messages.
    name: String,
    variants: Vec<Variant>,
}

struct Variant {
    ident: Ident,
    value: ChoiceValue,
    /// The span of the value, for errors.
    span: Span,
    label: String,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum ChoiceValue {
    Text(String),
    Int(i64),
}

impl ChoiceValue {
    fn kind(&self) -> &'static str {
        match self {
            ChoiceValue::Text(_) => "text",
            ChoiceValue::Int(_) => "an integer",
        }
    }

    /// As the user wrote it: `"FR"`, `1`.
    fn shown(&self) -> String {
        match self {
            ChoiceValue::Text(s) => format!("{s:?}"),
            ChoiceValue::Int(i) => i.to_string(),
        }
    }
}

/// Parse, check, expand; on any mistake, every error plus a stub impl.
pub fn derive(input: &DeriveInput) -> TokenStream {
    let mut cx = Ctxt::default();
    let parsed = parse(&mut cx, input);
    if let Some(e) = &parsed {
        check(&mut cx, e);
    }
    match (cx.into_result(), parsed) {
        (Ok(()), Some(e)) => expand(&e),
        // `parse` returns `None` only after reporting why.
        (Ok(()), None) => TokenStream::new(),
        (Err(errors), _) => {
            let mut out = errors.into_compile_error();
            out.extend(fallback(input));
            out
        }
    }
}

fn parse(cx: &mut Ctxt, input: &DeriveInput) -> Option<ChoicesEnum> {
    let help =
        "a choices enum is fieldless: `enum YearInSchool { #[choice(\"FR\")] Freshman, ... }`";
    let data = match &input.data {
        Data::Enum(data) => data,
        Data::Struct(_) => {
            cx.error(
                input.ident.span(),
                "#[derive(Choices)] works on fieldless enums only, not structs",
                help,
            );
            return None;
        }
        Data::Union(_) => {
            cx.error(
                input.ident.span(),
                "#[derive(Choices)] works on fieldless enums only, not unions",
                help,
            );
            return None;
        }
    };
    if !input.generics.params.is_empty() {
        cx.error_spanned(
            &input.generics,
            "a choices enum cannot be generic",
            "remove the generic parameters",
        );
    }
    if let Some(attr) = input.attrs.iter().find(|a| a.path() == CHOICE) {
        cx.error_spanned(
            attr,
            "`#[choice]` belongs on each variant, not on the enum",
            CHOICE_HELP,
        );
    }
    if data.variants.is_empty() {
        cx.error(
            input.ident.span(),
            format!("choices enum `{}` has no variants", input.ident.unraw()),
            "add a variant per choice: `#[choice(\"FR\")] Freshman,`",
        );
    }
    let mut variants = Vec::new();
    for (i, v) in data.variants.iter().enumerate() {
        cx.at(i + 1);
        if !matches!(v.fields, Fields::Unit) {
            cx.error_spanned(
                &v.fields,
                format!(
                    "a choice is a variant without fields, but `{}` has fields",
                    v.ident.unraw()
                ),
                format!("write `{},` and keep the data elsewhere", v.ident.unraw()),
            );
        }
        let mut attrs = v.attrs.iter().filter(|a| a.path() == CHOICE);
        let Some(attr) = attrs.next() else {
            cx.error(
                v.ident.span(),
                format!("variant `{}` has no `#[choice(...)]`", v.ident.unraw()),
                CHOICE_HELP,
            );
            continue;
        };
        for extra in attrs {
            cx.error_spanned(
                extra,
                format!("duplicate `#[choice]` on variant `{}`", v.ident.unraw()),
                "give each variant one `#[choice(...)]`",
            );
        }
        match attr.parse_args_with(|input: ParseStream<'_>| parse_choice(input, attr.span())) {
            Ok((value, span, label)) => variants.push(Variant {
                ident: v.ident.clone(),
                value,
                span,
                label: match label {
                    Some(l) => l.value(),
                    None => default_label(&v.ident.unraw().to_string()),
                },
            }),
            Err(e) => cx.syn_error(e, CHOICE_HELP),
        }
    }
    cx.at(0);
    Some(ChoicesEnum {
        ident: input.ident.clone(),
        name: input.ident.unraw().to_string(),
        variants,
    })
}

/// `"FR"`, `1` or `-1`, then an optional `label = "..."`.
fn parse_choice(
    input: ParseStream<'_>,
    attr_span: Span,
) -> syn::Result<(ChoiceValue, Span, Option<LitStr>)> {
    if input.is_empty() {
        return Err(syn::Error::new(attr_span, "`#[choice]` needs a value"));
    }
    if input.peek(Ident::peek_any) && input.peek2(Token![=]) {
        return Err(input.error("the choice's value comes first, before `label`"));
    }
    let minus: Option<Token![-]> = input.parse()?;
    let lit: Lit = input.parse()?;
    let span = match &minus {
        Some(m) => m.span.join(lit.span()).unwrap_or_else(|| lit.span()),
        None => lit.span(),
    };
    let value = match (&lit, minus.is_some()) {
        (Lit::Str(s), false) => ChoiceValue::Text(s.value()),
        (Lit::Int(i), neg) => {
            let n: i128 = i.base10_parse()?;
            let n = if neg { -n } else { n };
            i64::try_from(n)
                .map(ChoiceValue::Int)
                .map_err(|_| syn::Error::new(span, "a choice's integer value must fit an i64"))?
        }
        _ => {
            return Err(syn::Error::new(
                span,
                "a choice's value is a string or an integer literal",
            ))
        }
    };
    let mut label: Option<LitStr> = None;
    while !input.is_empty() {
        input.parse::<Token![,]>()?;
        if input.is_empty() {
            break;
        }
        let key = input.call(Ident::parse_any)?;
        if key != LABEL {
            return Err(syn::Error::new(
                key.span(),
                format!("unknown `#[choice]` option `{key}`"),
            ));
        }
        if label.is_some() {
            return Err(syn::Error::new(
                key.span(),
                "duplicate `#[choice]` option `label`",
            ));
        }
        input.parse::<Token![=]>()?;
        label = Some(input.parse()?);
    }
    Ok((value, span, label))
}

/// The rules across variants: one kind of value, each value once.
fn check(cx: &mut Ctxt, e: &ChoicesEnum) {
    one_kind(cx, e);
    unique_values(cx, e);
}

/// A column holds text or integers, not both: the first variant decides.
fn one_kind(cx: &mut Ctxt, e: &ChoicesEnum) {
    let Some(first) = e.variants.first() else {
        return;
    };
    for (i, v) in e.variants.iter().enumerate().skip(1) {
        if v.value.kind() != first.value.kind() {
            cx.at(i + 1);
            cx.error(
                v.span,
                format!(
                    "choice values mix text and integers: `{}` is {}, but `{}` is {}",
                    v.ident.unraw(),
                    v.value.kind(),
                    first.ident.unraw(),
                    first.value.kind()
                ),
                "give every variant a string value (`#[choice(\"SO\")]`, Django's TextChoices) or every variant an integer (`#[choice(2)]`, IntegerChoices)",
            );
        }
    }
    cx.at(0);
}

/// Each value names one variant (Django's enum refuses aliases in choices
/// only by accident; here loading would be ambiguous).
fn unique_values(cx: &mut Ctxt, e: &ChoicesEnum) {
    let mut seen: HashMap<&ChoiceValue, &Ident> = HashMap::new();
    for (i, v) in e.variants.iter().enumerate() {
        if let Some(first) = seen.get(&v.value) {
            cx.at(i + 1);
            cx.error(
                v.span,
                format!(
                    "duplicate choice value {}: `{}` has it already",
                    v.value.shown(),
                    first.unraw()
                ),
                format!("give `{}` a value of its own", v.ident.unraw()),
            );
        } else {
            seen.insert(&v.value, &v.ident);
        }
    }
    cx.at(0);
}

/// Django's default label: `GraduateStudent` is "Graduate student" (the
/// words of the name, the first capitalised); a name in capitals
/// (`GRADUATE_STUDENT`) gets Python's `name.replace("_", " ").title()`,
/// "Graduate Student", as `TextChoices` does.
fn default_label(name: &str) -> String {
    if !name.chars().any(char::is_lowercase) {
        let mut out = String::with_capacity(name.len());
        let mut prev_alpha = false;
        for c in name.chars() {
            let c = if c == '_' { ' ' } else { c };
            if c.is_alphabetic() {
                if prev_alpha {
                    out.extend(c.to_lowercase());
                } else {
                    out.extend(c.to_uppercase());
                }
            } else {
                out.push(c);
            }
            prev_alpha = c.is_alphabetic();
        }
        return out;
    }
    let chars: Vec<char> = name.chars().collect();
    let mut words: Vec<String> = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if c.is_uppercase() && !cur.is_empty() {
            let prev = i.checked_sub(1).and_then(|j| chars.get(j)).copied();
            let next = chars.get(i + 1).copied();
            let boundary = prev.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit())
                || (prev.is_some_and(char::is_uppercase) && next.is_some_and(char::is_lowercase));
            if boundary {
                words.push(std::mem::take(&mut cur));
            }
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    let mut out = String::with_capacity(name.len() + words.len());
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        // An acronym (`HTTP`) keeps its capitals.
        let acronym = w.chars().count() > 1 && !w.chars().any(char::is_lowercase);
        if acronym {
            out.push_str(w);
        } else if i == 0 {
            let mut cs = w.chars();
            if let Some(c) = cs.next() {
                out.extend(c.to_uppercase());
            }
            out.extend(cs.flat_map(char::to_lowercase));
        } else {
            out.push_str(&w.to_lowercase());
        }
    }
    out
}

fn expand(e: &ChoicesEnum) -> TokenStream {
    let ident = &e.ident;
    let name = &e.name;
    let vars: Vec<&Ident> = e.variants.iter().map(|v| &v.ident).collect();
    let idx: Vec<Literal> = (0..vars.len()).map(Literal::usize_unsuffixed).collect();
    let labels: Vec<&str> = e.variants.iter().map(|v| v.label.as_str()).collect();
    let values: Vec<TokenStream> = e
        .variants
        .iter()
        .map(|v| match &v.value {
            ChoiceValue::Text(s) => quote!(::orm_core::ChoiceValue::Text(#s)),
            ChoiceValue::Int(i) => {
                let lit = Literal::i64_suffixed(*i);
                quote!(::orm_core::ChoiceValue::Int(#lit))
            }
        })
        .collect();
    let ints: Vec<i64> = e
        .variants
        .iter()
        .filter_map(|v| match v.value {
            ChoiceValue::Int(i) => Some(i),
            ChoiceValue::Text(_) => None,
        })
        .collect();
    let column = if ints.is_empty() {
        quote!(Text)
    } else if ints.iter().all(|i| i16::try_from(*i).is_ok()) {
        quote!(SmallInt)
    } else if ints.iter().all(|i| i32::try_from(*i).is_ok()) {
        quote!(Int)
    } else {
        quote!(BigInt)
    };
    quote! {
        const _: () = {
            #[automatically_derived]
            impl ::orm_core::Choices for #ident {
                const NAME: &'static str = #name;
                const CHOICES: &'static [(::orm_core::ChoiceValue, &'static str)] =
                    &[#((#values, #labels)),*];

                #[inline]
                fn index(&self) -> usize {
                    match self { #(Self::#vars => #idx,)* }
                }

                #[inline]
                fn from_index(index: usize) -> ::core::option::Option<Self> {
                    match index {
                        #(#idx => ::core::option::Option::Some(Self::#vars),)*
                        _ => ::core::option::Option::None,
                    }
                }

                #[inline]
                fn choice(&self) -> ::orm_core::ChoiceValue {
                    match self { #(Self::#vars => #values,)* }
                }

                #[inline]
                fn label(&self) -> &'static str {
                    match self { #(Self::#vars => #labels,)* }
                }
            }

            #[automatically_derived]
            impl ::orm_core::ToValue for #ident {
                #[inline]
                fn to_stored(
                    &self,
                ) -> ::core::result::Result<::orm_core::Stored<'_>, ::std::string::String> {
                    ::orm_core::__private::choice_to_stored(self)
                }
            }

            #[automatically_derived]
            impl ::orm_core::FieldType for #ident {
                const COLUMN: ::orm_core::ColumnType = ::orm_core::ColumnType::#column;

                #[inline]
                fn from_stored(
                    v: ::orm_core::ValueRef<'_>,
                ) -> ::core::result::Result<Self, ::std::string::String> {
                    ::orm_core::__private::choice_from_stored(v)
                }
            }
        };
    }
}

/// Impls that compile whatever the mistakes, so that only the mistakes are
/// reported (not "`YearInSchool` is not a choices enum" wherever it is used).
/// Never run: the crate does not compile.
fn fallback(input: &DeriveInput) -> TokenStream {
    if !matches!(input.data, Data::Enum(_)) || !input.generics.params.is_empty() {
        return TokenStream::new();
    }
    let ident = &input.ident;
    quote! {
        const _: () = {
            impl ::orm_core::Choices for #ident {
                const NAME: &'static str = "";
                const CHOICES: &'static [(::orm_core::ChoiceValue, &'static str)] = &[];
                fn index(&self) -> usize { 0 }
                fn from_index(_: usize) -> ::core::option::Option<Self> { ::core::option::Option::None }
                fn choice(&self) -> ::orm_core::ChoiceValue { ::orm_core::ChoiceValue::Int(0) }
                fn label(&self) -> &'static str { "" }
            }
            impl ::orm_core::ToValue for #ident {
                fn to_stored(&self) -> ::core::result::Result<::orm_core::Stored<'_>, ::std::string::String> {
                    ::core::result::Result::Err(::std::string::String::new())
                }
            }
            impl ::orm_core::FieldType for #ident {
                const COLUMN: ::orm_core::ColumnType = ::orm_core::ColumnType::Text;
                fn from_stored(_: ::orm_core::ValueRef<'_>) -> ::core::result::Result<Self, ::std::string::String> {
                    ::core::result::Result::Err(::std::string::String::new())
                }
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(src: &str) -> Vec<String> {
        let input: DeriveInput = syn::parse_str(src).unwrap();
        let mut cx = Ctxt::default();
        if let Some(e) = parse(&mut cx, &input) {
            check(&mut cx, &e);
        }
        match cx.into_result() {
            Ok(()) => Vec::new(),
            Err(e) => e
                .into_iter()
                .map(|e| e.to_string().lines().next().unwrap_or("").to_string())
                .collect(),
        }
    }

    #[test]
    fn default_labels_follow_django() {
        assert_eq!(default_label("Freshman"), "Freshman");
        assert_eq!(default_label("GraduateStudent"), "Graduate student");
        assert_eq!(default_label("HTTPError"), "HTTP error");
        assert_eq!(default_label("Grade2Pupil"), "Grade2 pupil");
        assert_eq!(default_label("GRADUATE_STUDENT"), "Graduate Student");
        assert_eq!(default_label("FRESHMAN"), "Freshman");
        assert_eq!(default_label("A"), "A");
        assert_eq!(default_label("_x"), "X");
    }

    #[test]
    fn a_valid_enum_has_no_errors() {
        assert!(
            errors(r#"enum Y { #[choice("FR", label = "Freshman")] F, #[choice("SO",)] S }"#)
                .is_empty()
        );
        assert!(errors("enum P { #[choice(-1)] L, #[choice(9223372036854775807)] H }").is_empty());
    }

    #[test]
    fn every_mistake_is_reported() {
        assert_eq!(
            errors(r#"enum Y { #[choice("FR")] F, S, #[choice(2)] J, #[choice("FR")] D }"#),
            [
                "variant `S` has no `#[choice(...)]`",
                "choice values mix text and integers: `J` is an integer, but `F` is text",
                "duplicate choice value \"FR\": `F` has it already",
            ]
        );
        assert_eq!(
            errors(
                r#"enum Y { #[choice(1.5)] F, #[choice(label = "x")] G, #[choice(1, lable = "x")] H, #[choice()] I }"#
            ),
            [
                "a choice's value is a string or an integer literal",
                "the choice's value comes first, before `label`",
                "unknown `#[choice]` option `lable`",
                "`#[choice]` needs a value",
            ]
        );
        assert_eq!(
            errors("enum Y { #[choice(99999999999999999999)] F(i32) }"),
            [
                "a choice is a variant without fields, but `F` has fields",
                "a choice's integer value must fit an i64",
            ]
        );
        assert_eq!(
            errors("struct Y;"),
            ["#[derive(Choices)] works on fieldless enums only, not structs"]
        );
        assert_eq!(errors("enum Y {}"), ["choices enum `Y` has no variants"]);
    }

    #[test]
    fn integer_columns_are_the_smallest_that_fit() {
        let out = |src: &str| derive(&syn::parse_str(src).unwrap()).to_string();
        assert!(out("enum P { #[choice(1)] L }").contains("ColumnType :: SmallInt"));
        assert!(out("enum P { #[choice(1)] L, #[choice(40000)] H }").contains("ColumnType :: Int"));
        assert!(out("enum P { #[choice(1)] L, #[choice(-3000000000)] H }")
            .contains("ColumnType :: BigInt"));
        assert!(out(r#"enum P { #[choice("a")] L }"#).contains("ColumnType :: Text"));
    }
}
