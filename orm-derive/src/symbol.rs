//! The attribute and option names the derive understands, in one place
//! (serde_derive's `symbol.rs`): a typo in a comparison is a compile error.

use std::fmt;

use syn::{Ident, Path};

/// An attribute or option name.
#[derive(Copy, Clone)]
pub struct Symbol(pub &'static str);

// Attributes.
pub const MODEL: Symbol = Symbol("model");
pub const FIELD: Symbol = Symbol("field");
pub const ONE_TO_ONE: Symbol = Symbol("one_to_one");
pub const PARENT: Symbol = Symbol("parent");
pub const CHOICE: Symbol = Symbol("choice");

// `#[model(...)]`
pub const APP: Symbol = Symbol("app");
pub const TABLE: Symbol = Symbol("table");
pub const PROXY: Symbol = Symbol("proxy");
pub const ABSTRACT: Symbol = Symbol("abstract");
pub const VERBOSE_NAME: Symbol = Symbol("verbose_name");
pub const VERBOSE_NAME_PLURAL: Symbol = Symbol("verbose_name_plural");
pub const ORDERING: Symbol = Symbol("ordering");

// `#[field(...)]` and `#[one_to_one(...)]`
pub const PRIMARY_KEY: Symbol = Symbol("primary_key");
pub const UNIQUE: Symbol = Symbol("unique");
pub const BLANK: Symbol = Symbol("blank");
pub const DEFAULT: Symbol = Symbol("default");
pub const MAX_LENGTH: Symbol = Symbol("max_length");
pub const DB_COLUMN: Symbol = Symbol("db_column");
pub const DB_TYPE: Symbol = Symbol("db_type");
pub const MAX_DIGITS: Symbol = Symbol("max_digits");
pub const DECIMAL_PLACES: Symbol = Symbol("decimal_places");
pub const AUTO_NOW: Symbol = Symbol("auto_now");
pub const AUTO_NOW_ADD: Symbol = Symbol("auto_now_add");
pub const NULL: Symbol = Symbol("null");
pub const ON_DELETE: Symbol = Symbol("on_delete");
pub const RELATED_NAME: Symbol = Symbol("related_name");
pub const RELATED_QUERY_NAME: Symbol = Symbol("related_query_name");
pub const TO_FIELD: Symbol = Symbol("to_field");
pub const PARENT_LINK: Symbol = Symbol("parent_link");
pub const DB_CONSTRAINT: Symbol = Symbol("db_constraint");
pub const LIMIT_CHOICES_TO: Symbol = Symbol("limit_choices_to");

// `#[choice(...)]`
pub const LABEL: Symbol = Symbol("label");

impl PartialEq<Symbol> for Ident {
    fn eq(&self, word: &Symbol) -> bool {
        self == word.0
    }
}

impl PartialEq<Symbol> for &Ident {
    fn eq(&self, word: &Symbol) -> bool {
        *self == word.0
    }
}

impl PartialEq<Symbol> for Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl PartialEq<Symbol> for &Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}
