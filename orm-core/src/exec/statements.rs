//! Statement texts that depend only on a model (or relation) and the
//! dialect, rendered once per handle and kept on the [`Db`]: hot paths (get
//! by key, insert, update, reverse lookup) never render twice.

use std::collections::HashMap;

use rusqlite::CachedStatement;

use crate::error::{Error, Result};
use crate::exec::db::{Db, KeyState};
use crate::meta::{FieldMeta, ModelMeta};
use crate::query::Spec;
use crate::sql::{self, Statement};

/// Which model statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    GetByPk,
    InsertAuto,
    InsertWithPk,
    Update,
    Exists,
    Reverse,
}

/// The rendered texts of one handle, by kind and model (or relation field)
/// address; `None` is a statement that does not exist for the model (an
/// UPDATE of a table with no column besides its key).
#[derive(Default)]
pub(crate) struct Texts {
    map: HashMap<(Kind, usize), Option<Box<str>>, KeyState>,
}

fn addr<T>(t: &'static T) -> usize {
    t as *const T as usize
}

impl Db {
    /// Prepares the statement `kind` of the model or field at `key`,
    /// rendering it with `build` on first use.
    fn prepare_text(
        &self,
        kind: Kind,
        key: usize,
        build: impl FnOnce() -> Result<Option<Statement>>,
    ) -> Result<Option<CachedStatement<'_>>> {
        {
            let texts = self.texts.borrow();
            if let Some(text) = texts.map.get(&(kind, key)) {
                return match text {
                    Some(t) => self.prepare(t).map(Some),
                    None => Ok(None),
                };
            }
        }
        let text = match build()? {
            Some(stmt) => Some(
                sql::render(self.dialect, &stmt)
                    .map_err(|sql::Unwritable(e)| Error::Usage(e))?
                    .0
                    .into_boxed_str(),
            ),
            None => None,
        };
        let stmt = match &text {
            Some(t) => Some(self.prepare(t)?),
            None => None,
        };
        self.texts.borrow_mut().map.insert((kind, key), text);
        Ok(stmt)
    }

    /// `SELECT <all columns, ancestors joined> WHERE pk = ?`.
    pub(crate) fn prepare_get_by_pk(&self, m: &'static ModelMeta) -> Result<CachedStatement<'_>> {
        self.prepare_text(Kind::GetByPk, addr(m), || {
            let (sel, _) = crate::sql::select::select_tree(m, &Spec::default())?;
            Ok(Some(sql::model::select_where(
                sel,
                m.table,
                m.pk_field().column,
            )))
        })?
        .ok_or_else(|| Error::Usage("no statement".into()))
    }

    /// `SELECT <columns> FROM <source> WHERE <fk> = ?` for a reverse accessor.
    pub(crate) fn prepare_reverse(
        &self,
        source: &'static ModelMeta,
        field: &'static FieldMeta,
    ) -> Result<CachedStatement<'_>> {
        self.prepare_text(Kind::Reverse, addr(field), || {
            let (sel, _) = crate::sql::select::select_tree(source, &Spec::default())?;
            Ok(Some(sql::model::select_where(
                sel,
                source.table,
                field.column,
            )))
        })?
        .ok_or_else(|| Error::Usage("no statement".into()))
    }

    /// `INSERT INTO t (cols) VALUES (?...)`, with or without the primary key.
    pub(crate) fn prepare_insert(
        &self,
        m: &'static ModelMeta,
        with_pk: bool,
    ) -> Result<CachedStatement<'_>> {
        let kind = if with_pk {
            Kind::InsertWithPk
        } else {
            Kind::InsertAuto
        };
        self.prepare_text(kind, addr(m), || Ok(Some(sql::model::insert(m, with_pk))))?
            .ok_or_else(|| Error::Usage("no statement".into()))
    }

    /// `UPDATE t SET c = ?... WHERE pk = ?`; `None` when the table has no
    /// column besides the key.
    pub(crate) fn prepare_update(
        &self,
        m: &'static ModelMeta,
    ) -> Result<Option<CachedStatement<'_>>> {
        self.prepare_text(Kind::Update, addr(m), || Ok(sql::model::update(m)))
    }

    /// `SELECT 1 FROM t WHERE pk = ?`.
    pub(crate) fn prepare_exists(&self, m: &'static ModelMeta) -> Result<CachedStatement<'_>> {
        self.prepare_text(Kind::Exists, addr(m), || Ok(Some(sql::model::exists(m))))?
            .ok_or_else(|| Error::Usage("no statement".into()))
    }
}
