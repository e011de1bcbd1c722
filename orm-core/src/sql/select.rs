//! From a resolved [`Plan`] to a statement tree, written through the
//! handle's dialect: values never enter the text and identifiers are quoted
//! in one place. The resolution itself is `query::resolve`.

use rusqlite::types::Value;

use crate::error::{Error, Result};
use crate::meta::ModelMeta;
pub use crate::query::resolve::LoadPlan;
use crate::query::resolve::{self, ColRef, Cond, Plan, Table};
use crate::query::{Spec, Transform};
use crate::sql::{self, Dialect, Expr};

/// Quotes an SQL identifier as SQLite (and PostgreSQL) do: `"name"`, with
/// inner quotes doubled.
pub fn quote(ident: &str) -> String {
    let mut s = String::with_capacity(ident.len() + 2);
    sql::Sqlite.quote(&mut s, ident);
    s
}

/// A rendered SELECT.
#[derive(Debug)]
pub struct Select {
    /// SQL text.
    pub sql: String,
    /// Bound values, in order.
    pub params: Vec<Value>,
    /// The decode plan.
    pub plan: LoadPlan,
}

fn col(c: &ColRef) -> Expr {
    c.func
        .iter()
        .fold(Expr::col(c.table.clone(), c.column), |e, t| {
            Expr::Transform(Box::new(e), t.clone())
        })
}

fn table(t: &Table) -> (sql::Source, Option<sql::Ident>) {
    (sql::Source::table(t.name), t.alias.clone().map(Into::into))
}

/// The statement tree of a plan.
pub(crate) fn tree(plan: &Plan) -> sql::Select {
    let from = plan.root.as_ref().map(|root| {
        let (source, alias) = table(root);
        sql::From {
            source,
            alias,
            joins: plan
                .joins
                .iter()
                .map(|j| {
                    let (source, alias) = table(&j.table);
                    sql::Join {
                        left: j.left,
                        source,
                        alias,
                        on: col(&j.on.0).eq(col(&j.on.1)),
                    }
                })
                .collect(),
        }
    });
    sql::Select {
        columns: plan.columns.iter().map(|c| (col(c), None)).collect(),
        from,
        filter: plan.filter.as_ref().map(cond),
        order: plan.order.iter().map(|(c, desc)| (col(c), *desc)).collect(),
        limit: plan.limit,
        offset: plan.offset,
    }
}

/// The expression of a condition.
fn cond(c: &Cond) -> Expr {
    match c {
        Cond::False => Expr::False,
        Cond::And(parts) => Expr::And(parts.iter().map(cond).collect()),
        Cond::Or(parts) => Expr::Or(parts.iter().map(cond).collect()),
        Cond::Not(inner) => Expr::Not(Box::new(cond(inner))),
        Cond::NotNullSafe(inner) => Expr::IsNotTrue(Box::new(cond(inner))),
        Cond::IsNull(c, yes) => Expr::IsNull(Box::new(col(c)), *yes),
        Cond::Cmp(c, op, v) => Expr::Cmp(Box::new(col(c)), *op, Box::new(Expr::Param(v.clone()))),
        Cond::In(c, vs) => Expr::In(Box::new(col(c)), vs.clone()),
        Cond::InPlan(c, plan) => Expr::InQuery(Box::new(col(c)), Box::new(tree(plan).into())),
        Cond::Between(c, lo, hi) => Expr::Between(Box::new(col(c)), lo.clone(), hi.clone()),
        Cond::Pattern {
            col: c,
            kind,
            insensitive,
            needle,
        } => Expr::Pattern {
            expr: Box::new(col(c)),
            kind: *kind,
            insensitive: *insensitive,
            needle: needle.clone(),
        },
        Cond::IExact(c, v) => Expr::IExact(Box::new(col(c)), v.clone()),
        Cond::CmpJson(c, op, text) => Expr::Cmp(
            Box::new(col(c)),
            *op,
            Box::new(Expr::JsonParam(text.clone())),
        ),
        Cond::JsonNull(c) => {
            let mut inner = c.clone();
            match inner.func.pop() {
                Some(Transform::Key(path)) => Expr::Cmp(
                    Box::new(Expr::JsonType(Box::new(col(&inner)), path)),
                    sql::Cmp::Eq,
                    Box::new(Expr::Param(Value::Text("null".into()))),
                ),
                // Cannot happen: the resolver builds it on a key path only.
                _ => Expr::False,
            }
        }
        Cond::HasKey(c) => {
            let mut inner = c.clone();
            match inner.func.pop() {
                Some(Transform::Key(path)) => Expr::JsonHasKey(Box::new(col(&inner)), path),
                // Cannot happen: the resolver always ends a `has_key` with
                // its key; an impossible condition matches nothing.
                _ => Expr::False,
            }
        }
    }
}

/// A SELECT of every column of `model` (ancestors joined) and of the
/// `select_related` objects of `spec`, with its decode plan.
pub(crate) fn select_tree(
    model: &'static ModelMeta,
    spec: &Spec,
) -> Result<(sql::Select, LoadPlan)> {
    let (plan, load) = resolve::resolve_select(model, spec)?;
    Ok((tree(&plan), load))
}

/// Renders `s` with `dialect`; a value the dialect cannot pass is an
/// [`Error::InvalidValue`] naming `model`, more bound values than the
/// dialect allows an [`Error::Limit`].
pub(crate) fn write(
    dialect: &dyn Dialect,
    model: &'static ModelMeta,
    s: &sql::Statement,
) -> Result<(String, Vec<Value>)> {
    let (text, params) =
        sql::render(dialect, s).map_err(|sql::Unwritable(reason)| Error::InvalidValue {
            model: model.name,
            field: "?",
            value: "a list of values".into(),
            reason,
        })?;
    if params.len() > dialect.param_limit() {
        return Err(Error::Limit {
            message: format!(
                "a statement on {} binds {} values; the database allows {} \
                 (pass long lists to is_in, which binds one value)",
                model.name,
                params.len(),
                dialect.param_limit()
            ),
        });
    }
    Ok((text, params))
}

/// Renders a SELECT of `model` for `spec` as SQLite text.
///
/// # Errors
///
/// [`Error::Field`] when a name does not resolve.
pub fn select(model: &'static ModelMeta, spec: &Spec) -> Result<Select> {
    select_with(&sql::Sqlite, model, spec)
}

/// [`select`] with a dialect.
pub(crate) fn select_with(
    dialect: &dyn Dialect,
    model: &'static ModelMeta,
    spec: &Spec,
) -> Result<Select> {
    let (sel, plan) = select_tree(model, spec)?;
    let (sql, params) = write(dialect, model, &sql::Statement::Query(None, sel.into()))?;
    Ok(Select { sql, params, plan })
}

/// `SELECT COUNT(*)` or `SELECT 1 ... LIMIT 1` (exists) for `spec`.
pub(crate) fn aggregate(
    dialect: &dyn Dialect,
    model: &'static ModelMeta,
    spec: &Spec,
    exists: bool,
) -> Result<(String, Vec<Value>)> {
    let mut spec = spec.clone();
    spec.order.clear();
    let limited = spec.limit.is_some() || spec.offset.is_some();
    if exists {
        spec.limit = Some(1);
    }
    let mut sel = tree(&resolve::resolve_filter(model, &spec)?);
    let q = if exists {
        sel.columns = vec![(Expr::Int(1), Some("a".into()))];
        sel
    } else if limited {
        sel.columns = vec![(Expr::Int(1), None)];
        sql::Select {
            columns: vec![(Expr::CountStar, None)],
            from: Some(sql::From {
                source: sql::Source::Query(Box::new(sel.into())),
                alias: None,
                joins: Vec::new(),
            }),
            ..sql::Select::default()
        }
    } else {
        sel.columns = vec![(Expr::CountStar, None)];
        sel
    };
    write(dialect, model, &sql::Statement::Query(None, q.into()))
}

/// `SELECT <pk> FROM ... WHERE ...`: the keys matched by `spec`, as a tree
/// (bulk update and delete embed it).
pub(crate) fn keys_query(model: &'static ModelMeta, spec: &Spec) -> Result<sql::Query> {
    Ok(keys_query_reads(model, spec)?.0)
}

/// [`keys_query`] with every column it reads, by table (the delete
/// collector orders its statements by them).
pub(crate) fn keys_query_reads(
    model: &'static ModelMeta,
    spec: &Spec,
) -> Result<(sql::Query, Vec<(&'static ModelMeta, &'static str)>)> {
    let plan = resolve::resolve_keys(model, spec)?;
    Ok((tree(&plan).into(), plan.reads))
}

impl<M: crate::meta::Metadata> crate::query::QuerySet<M> {
    /// The SQL text and bound values this query runs (as SQLite text).
    ///
    /// # Examples
    ///
    /// ```
    /// use orm_core::prelude::*;
    ///
    /// #[derive(Model, Debug, Clone)]
    /// #[model(app = "docs")]
    /// pub struct Writer {
    ///     pub id: Option<i64>,
    ///     #[field(max_length = 50)]
    ///     pub name: String,
    /// }
    ///
    /// let qs = Writer::objects()
    ///     .filter(Writer::name().starts_with("Ann"))
    ///     .order_by(Writer::name().desc())
    ///     .limit(10);
    /// let (sql, params) = qs.to_sql()?;
    /// assert_eq!(
    ///     sql,
    ///     r#"SELECT "docs_writer"."id", "docs_writer"."name" FROM "docs_writer" WHERE "docs_writer"."name" GLOB ? ORDER BY "docs_writer"."name" DESC LIMIT 10"#
    /// );
    /// assert_eq!(params, vec![Value::Text("Ann*".into())]);
    /// # Ok::<(), orm_core::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Field`] when a lookup does not resolve.
    pub fn to_sql(&self) -> Result<(String, Vec<Value>)> {
        self.spec.check()?;
        let plan = select(M::__META, &self.spec)?;
        Ok((plan.sql, plan.params))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_doubles_inner_quotes() {
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote("; DROP TABLE x"), "\"; DROP TABLE x\"");
    }
}
