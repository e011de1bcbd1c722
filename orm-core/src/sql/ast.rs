//! The statement tree: SELECT (with joins, compound and recursive forms),
//! INSERT, UPDATE, DELETE, CREATE TABLE and CREATE INDEX, and the expressions
//! inside them. Plain data; [`Writer`] renders it through a dialect.

use std::borrow::Cow;

use rusqlite::types::Value;

use super::dialect::{json_path, PatternKind};
use super::writer::Writer;
use crate::query::resolve::LONG_IN;
use crate::query::Transform;

/// An identifier (table, column, alias), quoted when written.
pub(crate) type Ident = Cow<'static, str>;

pub(crate) use crate::query::resolve::Cmp;

/// An expression.
#[derive(Debug, Clone)]
pub(crate) enum Expr {
    /// `"table"."column"`, or `"column"` without a table.
    Col(Option<Ident>, Ident),
    /// A bound value.
    Param(Value),
    /// A placeholder bound by the caller when the statement runs.
    Slot,
    /// An integer literal.
    Int(i64),
    /// `NULL`.
    Null,
    /// Always false (`0 = 1`).
    False,
    /// `*`.
    Star,
    /// `COUNT(*)`.
    CountStar,
    /// `a <op> b`.
    Cmp(Box<Expr>, Cmp, Box<Expr>),
    /// `a IS NULL` (`true`) or `a IS NOT NULL`.
    IsNull(Box<Expr>, bool),
    /// Every part holds; written as a balanced tree when long.
    And(Vec<Expr>),
    /// Some part holds; written as a balanced tree when long.
    Or(Vec<Expr>),
    /// `NOT (a)`, for an `a` that is never NULL.
    Not(Box<Expr>),
    /// `(a) IS NOT TRUE`: the NULL-safe negation.
    IsNotTrue(Box<Expr>),
    /// `a IN (values)`: bound one by one, or as one list when long.
    In(Box<Expr>, Vec<Value>),
    /// `a IN (subquery)`.
    InQuery(Box<Expr>, Box<Query>),
    /// `a BETWEEN low AND high`.
    Between(Box<Expr>, Value, Value),
    /// A byte-exact text pattern test (non-empty needle).
    Pattern {
        expr: Box<Expr>,
        kind: PatternKind,
        insensitive: bool,
        needle: String,
    },
    /// `lower(a) = lower-cased value` (ASCII folding, every byte compared).
    IExact(Box<Expr>, String),
    /// A transform of `a` (`year`, a JSON key path), written by the dialect.
    Transform(Box<Expr>, Transform),
    /// The JSON value `a` has the key path.
    JsonHasKey(Box<Expr>, Vec<String>),
    /// `json_type(a, path)`: the JSON type at the key path, NULL when absent.
    JsonType(Box<Expr>, Vec<String>),
    /// A JSON document given as a value, read as JSON (`json_extract(?, '$')`).
    JsonParam(String),
    /// `CASE WHEN a THEN b ... END` (NULL when no branch holds).
    Case(Vec<(Expr, Expr)>),
}

impl Expr {
    pub(crate) fn col(table: impl Into<Ident>, column: impl Into<Ident>) -> Expr {
        Expr::Col(Some(table.into()), column.into())
    }

    pub(crate) fn bare(column: impl Into<Ident>) -> Expr {
        Expr::Col(None, column.into())
    }

    pub(crate) fn eq(self, other: Expr) -> Expr {
        Expr::Cmp(Box::new(self), Cmp::Eq, Box::new(other))
    }

    pub(crate) fn in_query(self, q: Query) -> Expr {
        Expr::InQuery(Box::new(self), Box::new(q))
    }

    /// `a OR b ...` of `parts`; `None` for none.
    pub(crate) fn any(mut parts: Vec<Expr>) -> Option<Expr> {
        match parts.len() {
            0 => None,
            1 => parts.pop(),
            _ => Some(Expr::Or(parts)),
        }
    }

    /// `a AND b ...` of `parts`; `None` for none.
    pub(crate) fn all(mut parts: Vec<Expr>) -> Option<Expr> {
        match parts.len() {
            0 => None,
            1 => parts.pop(),
            _ => Some(Expr::And(parts)),
        }
    }
}

/// Where rows come from: a table or a subquery.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// A table, optionally schema-qualified (`temp`).
    Table { schema: Option<Ident>, name: Ident },
    /// `(subquery)`.
    Query(Box<Query>),
}

impl Source {
    pub(crate) fn table(name: impl Into<Ident>) -> Source {
        Source::Table {
            schema: None,
            name: name.into(),
        }
    }
}

/// One `JOIN`.
#[derive(Debug, Clone)]
pub(crate) struct Join {
    pub(crate) left: bool,
    pub(crate) source: Source,
    pub(crate) alias: Option<Ident>,
    pub(crate) on: Expr,
}

/// A FROM clause.
#[derive(Debug, Clone)]
pub(crate) struct From {
    pub(crate) source: Source,
    pub(crate) alias: Option<Ident>,
    pub(crate) joins: Vec<Join>,
}

impl From {
    pub(crate) fn table(name: impl Into<Ident>) -> From {
        From {
            source: Source::table(name),
            alias: None,
            joins: Vec::new(),
        }
    }
}

/// A SELECT.
#[derive(Debug, Clone, Default)]
pub(crate) struct Select {
    /// Result columns, each with an optional alias.
    pub(crate) columns: Vec<(Expr, Option<Ident>)>,
    pub(crate) from: Option<From>,
    pub(crate) filter: Option<Expr>,
    pub(crate) order: Vec<(Expr, bool)>,
    pub(crate) limit: Option<i64>,
    pub(crate) offset: Option<i64>,
}

impl Select {
    /// `SELECT <columns> FROM <table> WHERE <filter>`.
    pub(crate) fn from_table(
        columns: Vec<Expr>,
        table: impl Into<Ident>,
        filter: Option<Expr>,
    ) -> Select {
        Select {
            columns: columns.into_iter().map(|c| (c, None)).collect(),
            from: Some(From::table(table)),
            filter,
            ..Select::default()
        }
    }
}

/// A query: a SELECT, a compound, a VALUES list, or a WITH around one.
#[derive(Debug, Clone)]
pub(crate) enum Query {
    Select(Box<Select>),
    /// `a UNION [ALL] b ...`.
    Union {
        all: bool,
        parts: Vec<Query>,
    },
    /// `VALUES (a, b), (c, d)`.
    Values(Vec<Vec<Expr>>),
}

impl std::convert::From<Select> for Query {
    fn from(s: Select) -> Query {
        Query::Select(Box::new(s))
    }
}

/// `WITH [RECURSIVE] name(columns) AS (query)`.
#[derive(Debug, Clone)]
pub(crate) struct With {
    pub(crate) recursive: bool,
    pub(crate) name: Ident,
    pub(crate) columns: Vec<Ident>,
    pub(crate) query: Query,
}

/// Rows for an INSERT.
#[derive(Debug, Clone)]
pub(crate) enum Rows {
    Values(Vec<Vec<Expr>>),
    Query(Query),
    Default,
}

/// An INSERT.
#[derive(Debug, Clone)]
pub(crate) struct Insert {
    pub(crate) with: Option<With>,
    pub(crate) table: Source,
    pub(crate) columns: Vec<Ident>,
    pub(crate) rows: Rows,
    /// Skip rows whose key exists.
    pub(crate) or_ignore: bool,
    /// `RETURNING <column>`: the keys the database assigned.
    pub(crate) returning: Option<Ident>,
}

/// An UPDATE.
#[derive(Debug, Clone)]
pub(crate) struct Update {
    pub(crate) table: Ident,
    pub(crate) sets: Vec<(Ident, Expr)>,
    pub(crate) filter: Option<Expr>,
}

/// A DELETE.
#[derive(Debug, Clone)]
pub(crate) struct Delete {
    pub(crate) table: Ident,
    pub(crate) filter: Option<Expr>,
}

/// One column of a CREATE TABLE.
#[derive(Debug, Clone)]
pub(crate) struct ColumnDef {
    pub(crate) name: Ident,
    pub(crate) ty: Ident,
    pub(crate) null: bool,
    pub(crate) primary_key: bool,
    pub(crate) auto: bool,
    pub(crate) unique: bool,
    /// `REFERENCES table (column) DEFERRABLE INITIALLY DEFERRED`.
    pub(crate) references: Option<(Ident, Ident)>,
    /// A JSON column: the dialect may add a validity check.
    pub(crate) json: bool,
}

/// A CREATE TABLE.
#[derive(Debug, Clone)]
pub(crate) struct CreateTable {
    pub(crate) temp: bool,
    pub(crate) if_not_exists: bool,
    pub(crate) name: Ident,
    pub(crate) columns: Vec<ColumnDef>,
    /// A table-level primary key over several columns.
    pub(crate) primary_key: Vec<Ident>,
}

/// A CREATE INDEX.
#[derive(Debug, Clone)]
pub(crate) struct CreateIndex {
    pub(crate) name: Ident,
    pub(crate) table: Ident,
    pub(crate) columns: Vec<Ident>,
    pub(crate) unique: bool,
}

/// A statement.
#[derive(Debug, Clone)]
pub(crate) enum Statement {
    Query(Option<With>, Query),
    Insert(Insert),
    Update(Update),
    Delete(Delete),
    CreateTable(CreateTable),
    // Written by the DDL of indexed relation columns (ForeignKey, next).
    #[allow(dead_code)]
    CreateIndex(CreateIndex),
}

/// A statement that cannot be written, and why (a value the dialect cannot
/// pass).
#[derive(Debug)]
pub(crate) struct Unwritable(pub(crate) String);

impl Writer<'_> {
    /// Writes any statement.
    pub(crate) fn statement(&mut self, s: &Statement) -> Result<(), Unwritable> {
        match s {
            Statement::Query(with, q) => {
                if let Some(w) = with {
                    self.with(w)?;
                }
                self.query(q)
            }
            Statement::Insert(i) => self.insert(i),
            Statement::Update(u) => self.update(u),
            Statement::Delete(d) => self.delete(d),
            Statement::CreateTable(c) => {
                self.create_table(c);
                Ok(())
            }
            Statement::CreateIndex(c) => {
                self.create_index(c);
                Ok(())
            }
        }
    }

    fn with(&mut self, w: &With) -> Result<(), Unwritable> {
        self.push(if w.recursive {
            "WITH RECURSIVE "
        } else {
            "WITH "
        });
        self.ident(&w.name);
        self.push("(");
        self.idents(&w.columns);
        self.push(") AS (");
        self.query(&w.query)?;
        self.push(") ");
        Ok(())
    }

    fn idents(&mut self, names: &[Ident]) {
        for (i, n) in names.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.ident(n);
        }
    }

    pub(crate) fn query(&mut self, q: &Query) -> Result<(), Unwritable> {
        match q {
            Query::Select(s) => self.select(s),
            Query::Union { all, parts } => {
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        self.push(if *all { " UNION ALL " } else { " UNION " });
                    }
                    self.query(p)?;
                }
                Ok(())
            }
            Query::Values(rows) => {
                self.push("VALUES ");
                self.rows(rows)
            }
        }
    }

    fn rows(&mut self, rows: &[Vec<Expr>]) -> Result<(), Unwritable> {
        for (i, row) in rows.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push("(");
            self.list(row)?;
            self.push(")");
        }
        Ok(())
    }

    fn list(&mut self, exprs: &[Expr]) -> Result<(), Unwritable> {
        for (i, e) in exprs.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.expr(e)?;
        }
        Ok(())
    }

    pub(crate) fn select(&mut self, s: &Select) -> Result<(), Unwritable> {
        self.push("SELECT ");
        for (i, (e, alias)) in s.columns.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.expr(e)?;
            if let Some(a) = alias {
                self.push(" AS ");
                self.ident(a);
            }
        }
        if let Some(from) = &s.from {
            self.push(" FROM ");
            self.source(&from.source)?;
            if let Some(a) = &from.alias {
                self.push(" ");
                self.ident(a);
            }
            for j in &from.joins {
                self.push(if j.left {
                    " LEFT OUTER JOIN "
                } else {
                    " INNER JOIN "
                });
                self.source(&j.source)?;
                if let Some(a) = &j.alias {
                    self.push(" ");
                    self.ident(a);
                }
                self.push(" ON (");
                self.expr(&j.on)?;
                self.push(")");
            }
        }
        if let Some(f) = &s.filter {
            self.push(" WHERE ");
            self.expr(f)?;
        }
        if !s.order.is_empty() {
            self.push(" ORDER BY ");
            for (i, (e, desc)) in s.order.iter().enumerate() {
                if i > 0 {
                    self.push(", ");
                }
                self.expr(e)?;
                self.push(if *desc { " DESC" } else { " ASC" });
            }
        }
        let dialect = self.dialect;
        dialect.limit_offset(self, s.limit, s.offset);
        Ok(())
    }

    fn source(&mut self, s: &Source) -> Result<(), Unwritable> {
        match s {
            Source::Table { schema, name } => {
                if let Some(schema) = schema {
                    self.ident(schema);
                    self.push(".");
                }
                self.ident(name);
                Ok(())
            }
            Source::Query(q) => {
                self.push("(");
                self.query(q)?;
                self.push(")");
                Ok(())
            }
        }
    }

    fn insert(&mut self, i: &Insert) -> Result<(), Unwritable> {
        if let Some(w) = &i.with {
            self.with(w)?;
        }
        self.push(if i.or_ignore {
            self.dialect.insert_or_ignore_head()
        } else {
            "INSERT INTO "
        });
        self.source(&i.table)?;
        if matches!(i.rows, Rows::Default) {
            self.push(" DEFAULT VALUES");
            if let Some(r) = &i.returning {
                self.push(" RETURNING ");
                self.ident(r);
            }
            return Ok(());
        }
        self.push(" (");
        self.idents(&i.columns);
        self.push(") ");
        match &i.rows {
            Rows::Values(rows) => {
                self.push("VALUES ");
                self.rows(rows)?;
            }
            Rows::Query(q) => self.query(q)?,
            Rows::Default => {}
        }
        if i.or_ignore {
            self.push(self.dialect.insert_or_ignore_tail());
        }
        if let Some(r) = &i.returning {
            self.push(" RETURNING ");
            self.ident(r);
        }
        Ok(())
    }

    fn update(&mut self, u: &Update) -> Result<(), Unwritable> {
        self.push("UPDATE ");
        self.ident(&u.table);
        self.push(" SET ");
        for (i, (c, e)) in u.sets.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.ident(c);
            self.push(" = ");
            self.expr(e)?;
        }
        if let Some(f) = &u.filter {
            self.push(" WHERE ");
            self.expr(f)?;
        }
        Ok(())
    }

    fn delete(&mut self, d: &Delete) -> Result<(), Unwritable> {
        self.push("DELETE FROM ");
        self.ident(&d.table);
        if let Some(f) = &d.filter {
            self.push(" WHERE ");
            self.expr(f)?;
        }
        Ok(())
    }

    fn create_table(&mut self, c: &CreateTable) {
        self.push(if c.temp {
            "CREATE TEMP TABLE "
        } else {
            "CREATE TABLE "
        });
        if c.if_not_exists {
            self.push("IF NOT EXISTS ");
        }
        self.ident(&c.name);
        self.push(" (");
        for (i, col) in c.columns.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.ident(&col.name);
            self.push(" ");
            self.push(&col.ty);
            if col.primary_key && col.auto {
                self.push(self.dialect.auto_key());
            } else {
                self.push(if col.null { " NULL" } else { " NOT NULL" });
                if col.primary_key {
                    self.push(" PRIMARY KEY");
                } else if col.unique {
                    self.push(" UNIQUE");
                }
            }
            if col.json && self.dialect.json_check() {
                // Django's `CHECK ((JSON_VALID("c") OR "c" IS NULL))`.
                self.push(" CHECK ((JSON_VALID(");
                self.ident(&col.name);
                self.push(") OR ");
                self.ident(&col.name);
                self.push(" IS NULL))");
            }
            if let Some((t, k)) = &col.references {
                self.push(" REFERENCES ");
                self.ident(t);
                self.push(" (");
                self.ident(k);
                self.push(") DEFERRABLE INITIALLY DEFERRED");
            }
        }
        if !c.primary_key.is_empty() {
            self.push(", PRIMARY KEY (");
            self.idents(&c.primary_key);
            self.push(")");
        }
        self.push(")");
    }

    fn create_index(&mut self, c: &CreateIndex) {
        self.push(if c.unique {
            "CREATE UNIQUE INDEX "
        } else {
            "CREATE INDEX "
        });
        self.ident(&c.name);
        self.push(" ON ");
        self.ident(&c.table);
        self.push(" (");
        self.idents(&c.columns);
        self.push(")");
    }

    /// Writes an expression.
    pub(crate) fn expr(&mut self, e: &Expr) -> Result<(), Unwritable> {
        match e {
            Expr::Col(table, column) => {
                if let Some(t) = table {
                    self.ident(t);
                    self.push(".");
                }
                self.ident(column);
            }
            Expr::Param(v) => self.bind(v.clone()),
            Expr::Slot => self.slot(),
            Expr::Int(n) => self.int(*n),
            Expr::Null => self.push("NULL"),
            Expr::False => self.push("0 = 1"),
            Expr::Star => self.push("*"),
            Expr::CountStar => self.push("COUNT(*)"),
            Expr::Cmp(a, op, b) => {
                self.expr(a)?;
                self.push(match op {
                    Cmp::Eq => " = ",
                    Cmp::Lt => " < ",
                    Cmp::Lte => " <= ",
                    Cmp::Gt => " > ",
                    Cmp::Gte => " >= ",
                });
                self.expr(b)?;
            }
            Expr::IsNull(a, yes) => {
                self.expr(a)?;
                self.push(if *yes { " IS NULL" } else { " IS NOT NULL" });
            }
            Expr::Transform(a, Transform::Key(path)) => {
                let (head, tail) = self.dialect.json_extract();
                self.push(head);
                self.expr(a)?;
                self.push(", ");
                self.bind(Value::Text(json_path(path)));
                self.push(tail);
            }
            Expr::Transform(a, t) => {
                let (head, tail) = self.dialect.transform(t);
                self.push(head);
                self.expr(a)?;
                self.push(tail);
            }
            Expr::JsonType(a, path) => {
                let (head, tail) = self.dialect.json_type();
                self.push(head);
                self.expr(a)?;
                self.push(", ");
                self.bind(Value::Text(json_path(path)));
                self.push(tail);
            }
            Expr::JsonParam(text) => {
                let (head, tail) = self.dialect.json_extract();
                self.push(head);
                self.bind(Value::Text(text.clone()));
                self.push(", ");
                self.bind(Value::Text("$".into()));
                self.push(tail);
            }
            Expr::JsonHasKey(a, path) => {
                let (head, tail) = self.dialect.json_has_key();
                self.push(head);
                self.expr(a)?;
                self.push(", ");
                self.bind(Value::Text(json_path(path)));
                self.push(tail);
            }
            Expr::And(parts) => self.balanced(parts, " AND ")?,
            Expr::Or(parts) => self.balanced(parts, " OR ")?,
            Expr::Not(a) => {
                self.push("NOT (");
                self.expr(a)?;
                self.push(")");
            }
            Expr::IsNotTrue(a) => {
                self.push("(");
                self.expr(a)?;
                self.push(") IS NOT TRUE");
            }
            Expr::In(a, values) => {
                if values.len() > LONG_IN {
                    let col = self.detached(a)?;
                    let dialect = self.dialect;
                    dialect.long_in(self, &col, values).map_err(Unwritable)?;
                } else {
                    self.expr(a)?;
                    self.push(" IN (");
                    for (i, v) in values.iter().enumerate() {
                        if i > 0 {
                            self.push(", ");
                        }
                        self.bind(v.clone());
                    }
                    self.push(")");
                }
            }
            Expr::InQuery(a, q) => {
                self.expr(a)?;
                self.push(" IN (");
                self.query(q)?;
                self.push(")");
            }
            Expr::Between(a, lo, hi) => {
                self.expr(a)?;
                self.push(" BETWEEN ");
                self.bind(lo.clone());
                self.push(" AND ");
                self.bind(hi.clone());
            }
            Expr::Pattern {
                expr,
                kind,
                insensitive,
                needle,
            } => {
                let col = self.detached(expr)?;
                let dialect = self.dialect;
                dialect.pattern(self, &col, *kind, *insensitive, needle);
            }
            Expr::IExact(a, v) => {
                self.push("lower(");
                self.expr(a)?;
                self.push(") = ");
                self.bind(Value::Text(v.to_ascii_lowercase()));
            }
            Expr::Case(whens) => {
                self.push("CASE");
                for (when, then) in whens {
                    self.push(" WHEN ");
                    self.expr(when)?;
                    self.push(" THEN ");
                    self.expr(then)?;
                }
                self.push(" END");
            }
        }
        Ok(())
    }

    /// Renders a value-free expression (a column) to text, for dialect
    /// functions that write it more than once.
    fn detached(&mut self, e: &Expr) -> Result<String, Unwritable> {
        let mut w = Writer::new(self.dialect);
        w.expr(e)?;
        if !w.params.is_empty() {
            return Err(Unwritable("a pattern applied to a bound value".into()));
        }
        Ok(w.sql)
    }

    /// `(a SEP b ...)`, nested as a balanced tree when long: SQLite parses
    /// `a OR b OR c ...` into a chain as deep as it is long and refuses depth
    /// beyond 1,000.
    fn balanced(&mut self, parts: &[Expr], sep: &str) -> Result<(), Unwritable> {
        if parts.len() == 1 {
            return self.expr(&parts[0]);
        }
        self.push("(");
        if parts.len() <= 8 {
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    self.push(sep);
                }
                self.expr(p)?;
            }
        } else {
            let (a, b) = parts.split_at(parts.len() / 2);
            self.balanced(a, sep)?;
            self.push(sep);
            self.balanced(b, sep)?;
        }
        self.push(")");
        Ok(())
    }
}
