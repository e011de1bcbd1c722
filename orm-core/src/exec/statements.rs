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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    GetByPk,
    InsertAuto,
    InsertWithPk,
    Update,
    Exists,
    Reverse,
}

/// The rendered statements of one model (or, for `Reverse`, one relation
/// field); `Some(None)` is a statement that does not exist for the model (an
/// UPDATE of a table with no column besides its key).
#[derive(Default)]
struct Slots([Option<Option<Box<str>>>; 6]);

/// The rendered texts of one handle, by model (or relation field) address:
/// one integer hash per lookup (hot paths: get by key, insert, update).
#[derive(Default)]
pub(crate) struct Texts {
    map: HashMap<usize, Slots, KeyState>,
}

impl Texts {
    /// The stored text of `kind` for `key`: `None` when not rendered yet.
    #[inline]
    fn slot(&self, kind: Kind, key: usize) -> Option<&Option<Box<str>>> {
        self.map.get(&key).and_then(|s| s.0[kind as usize].as_ref())
    }
}

fn addr<T>(t: &'static T) -> usize {
    t as *const T as usize
}

impl Db {
    /// Renders and stores the statement `kind` of the model or field at
    /// `key` unless it is stored already.
    #[cold]
    fn render_text(
        &self,
        kind: Kind,
        key: usize,
        build: impl FnOnce() -> Result<Option<Statement>>,
    ) -> Result<()> {
        let text = match build()? {
            Some(stmt) => Some(
                sql::render(self.dialect, &stmt)
                    .map_err(|sql::Unwritable(e)| Error::Usage(e))?
                    .0
                    .into_boxed_str(),
            ),
            None => None,
        };
        self.texts.borrow_mut().map.entry(key).or_default().0[kind as usize] = Some(text);
        Ok(())
    }

    /// Prepares the statement `kind` of the model or field at `key`,
    /// rendering it with `build` on first use; `None` when the model has no
    /// such statement.
    #[inline]
    fn prepare_text(
        &self,
        kind: Kind,
        key: usize,
        build: impl FnOnce() -> Result<Option<Statement>>,
    ) -> Result<Option<CachedStatement<'_>>> {
        {
            let texts = self.texts.borrow();
            if let Some(text) = texts.slot(kind, key) {
                return match text {
                    Some(t) => self.prepare(t).map(Some),
                    None => Ok(None),
                };
            }
        }
        self.render_text(kind, key, build)?;
        self.prepare_existing(kind, key)
    }

    /// [`Db::prepare_text`] for a statement every model has, returning the
    /// statement with no `Option` around it (the hot paths: get by key,
    /// insert, reverse lookup).
    #[inline(always)]
    fn prepare_required(
        &self,
        kind: Kind,
        key: usize,
        build: impl FnOnce() -> Result<Option<Statement>>,
    ) -> Result<CachedStatement<'_>> {
        {
            let texts = self.texts.borrow();
            if let Some(Some(t)) = texts.slot(kind, key) {
                return self.prepare(t);
            }
        }
        self.render_text(kind, key, build)?;
        self.prepare_existing(kind, key)?
            .ok_or_else(|| Error::Usage("no statement".into()))
    }

    /// The statement stored by [`Db::render_text`].
    fn prepare_existing(&self, kind: Kind, key: usize) -> Result<Option<CachedStatement<'_>>> {
        let texts = self.texts.borrow();
        match texts.slot(kind, key) {
            Some(Some(t)) => self.prepare(t).map(Some),
            _ => Ok(None),
        }
    }

    /// `SELECT <all columns, ancestors joined> WHERE pk = ?`.
    #[inline]
    pub(crate) fn prepare_get_by_pk(&self, m: &'static ModelMeta) -> Result<CachedStatement<'_>> {
        self.prepare_required(Kind::GetByPk, addr(m), || {
            let (sel, _) = crate::sql::select::select_tree(m, &Spec::default())?;
            Ok(Some(sql::model::select_where(
                sel,
                m.table,
                m.pk_field().column,
            )))
        })
    }

    /// `SELECT <columns> FROM <source> WHERE <fk> = ?` for a reverse accessor.
    #[inline]
    pub(crate) fn prepare_reverse(
        &self,
        source: &'static ModelMeta,
        field: &'static FieldMeta,
    ) -> Result<CachedStatement<'_>> {
        self.prepare_required(Kind::Reverse, addr(field), || {
            let (sel, _) = crate::sql::select::select_tree(source, &Spec::default())?;
            Ok(Some(sql::model::select_where(
                sel,
                source.table,
                field.column,
            )))
        })
    }

    /// `INSERT INTO t (cols) VALUES (?...)`, with or without the primary key.
    #[inline]
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
        self.prepare_required(kind, addr(m), || Ok(Some(sql::model::insert(m, with_pk))))
    }

    /// `UPDATE t SET c = ?... WHERE pk = ?`; `None` when the table has no
    /// column besides the key.
    #[inline]
    pub(crate) fn prepare_update(
        &self,
        m: &'static ModelMeta,
    ) -> Result<Option<CachedStatement<'_>>> {
        self.prepare_text(Kind::Update, addr(m), || Ok(sql::model::update(m)))
    }

    /// `SELECT 1 FROM t WHERE pk = ?`.
    #[inline]
    pub(crate) fn prepare_exists(&self, m: &'static ModelMeta) -> Result<CachedStatement<'_>> {
        self.prepare_required(Kind::Exists, addr(m), || Ok(Some(sql::model::exists(m))))
    }
}
