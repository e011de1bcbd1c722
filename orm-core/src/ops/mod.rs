//! Operations on models that run several statements in one transaction and
//! apply Django's rules: saving (parents first, hooks), the delete collector,
//! validation (`full_clean`), and the user-facing [`Model`] trait.

pub(crate) mod bulk;
pub(crate) mod delete;
pub(crate) mod get_or_create;
pub(crate) mod model;
pub(crate) mod save;
pub(crate) mod validate;
