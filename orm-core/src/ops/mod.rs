//! Operations over many rows that run several statements in one transaction.

pub(crate) mod delete;
