//! Run: the plan's steps as `crate::sql` trees, rendered with the handle's
//! dialect (once, unless a statement would bind too many values), then
//! executed inside [`Db::atomic`]: the stored keys,
//! the checks, the `pre_delete` hooks on the loaded rows of hooked models,
//! the writes (with `post_delete` after each model's DELETE), and the removal
//! of the stored keys.
//!
//! Stored keys go to one temporary table per connection,
//! `temp."orm_delete_keys"` (`n` names the component, `k` is a key), created
//! on first use; a delete removes its own rows before it commits. Component
//! `i` of a delete is stored as `n = base + i`, where `base` grows with each
//! delete running inside another on the same handle (a hook may delete), so
//! nested deletes never share rows.

use rusqlite::types::Value;

use crate::error::{Error, Result};
use crate::exec::bind_all;
use crate::exec::db::Db;
use crate::exec::record::DynModel;
use crate::meta::registry::ReverseRelation;
use crate::meta::ModelMeta;
use crate::query::Spec;
use crate::sql::{self, Dialect, Expr, Query, Select, Source, Statement};

use super::check;
use super::collect::{to_field, Atom, KeySet};
use super::plan::{Plan, Step, Write, MAX_PARAMS};
use super::Deleted;

/// The temporary table stored keys go to.
const KEY_TABLE: &str = "orm_delete_keys";

/// Rows of stored keys inserted per `INSERT ... VALUES` statement.
const VALUES_PER_INSERT: usize = 400;

/// Renders the plan's statements and runs them in one transaction.
pub(super) fn run(db: &Db, mut plan: Plan<'_>) -> Result<Deleted> {
    let nesting = Nesting::enter(db);
    let rendered = render_within_limits(db.dialect, &mut plan, nesting.base())?;
    db.atomic(|db| execute(db, &plan, &rendered, nesting.base()))
}

/// A rendered statement with its bound values.
pub(super) struct Text {
    pub(super) sql: String,
    pub(super) params: Vec<Value>,
}

/// A step with its statements (none for a check or a write that applies to
/// no key).
struct Rendered {
    step: Step,
    texts: Vec<Text>,
}

impl Rendered {
    /// The statement of a check or a write.
    fn text(&self) -> Option<&Text> {
        self.texts.first()
    }
}

/// Renders every step, within SQLite's parameter limit: the root keys or
/// query are repeated in many statements, so they are stored when a
/// statement would bind too many values; then anything else left.
fn render_within_limits(
    dialect: &dyn Dialect,
    plan: &mut Plan<'_>,
    base: i64,
) -> Result<Vec<Rendered>> {
    let mut round = 0;
    loop {
        let rendered = render(&Trees::new(plan, dialect, base), dialect)?;
        let max = rendered
            .iter()
            .filter(|r| {
                matches!(
                    r.step,
                    Step::Protect(_) | Step::Restrict(_) | Step::Write(_)
                )
            })
            .flat_map(|r| &r.texts)
            .map(|t| t.params.len())
            .max()
            .unwrap_or(0);
        if max <= MAX_PARAMS || round == 2 {
            return Ok(rendered);
        }
        plan.store_for_params(round);
        round += 1;
    }
}

/// Every step's statements, rendered with `dialect`.
fn render(trees: &Trees<'_, '_>, dialect: &dyn Dialect) -> Result<Vec<Rendered>> {
    let top = trees.plan.c.top;
    let mut out = Vec::new();
    for step in trees.plan.steps() {
        let texts = trees
            .statements(&step)
            .iter()
            .map(|s| {
                let (sql, params) = crate::sql::select::write(dialect, top, s)?;
                Ok(Text { sql, params })
            })
            .collect::<Result<_>>()?;
        out.push(Rendered { step, texts });
    }
    // Nothing to store after all: no key table either.
    let stores = out
        .iter()
        .any(|r| matches!(r.step, Step::Store(_) | Step::StoreFixpoint(_)) && !r.texts.is_empty());
    if !stores {
        out.retain(|r| !matches!(r.step, Step::CreateKeyTable | Step::ClearKeyTable));
    }
    Ok(out)
}

/// Runs the rendered steps (inside a transaction).
fn execute(db: &Db, plan: &Plan<'_>, rendered: &[Rendered], base: i64) -> Result<Deleted> {
    let stores = rendered.iter().filter(|r| {
        matches!(
            r.step,
            Step::CreateKeyTable | Step::Store(_) | Step::StoreFixpoint(_)
        )
    });
    for t in stores.flat_map(|r| &r.texts) {
        db.execute(&t.sql, &t.params)?;
    }

    check::protected(
        db,
        plan.c,
        rendered.iter().filter_map(|r| match &r.step {
            Step::Protect(p) => r.text().map(|t| (p, t)),
            _ => None,
        }),
    )?;
    check::restricted(
        db,
        plan.c,
        rendered.iter().filter_map(|r| match &r.step {
            Step::Restrict(x) => r.text().map(|t| (x, t)),
            _ => None,
        }),
    )?;

    let writes: Vec<(&Write, &Text)> = rendered
        .iter()
        .filter_map(|r| match &r.step {
            Step::Write(w) => r.text().map(|t| (w, t)),
            _ => None,
        })
        .collect();

    // Hooks: load the rows of hooked models, then every pre_delete.
    let trees = Trees::new(plan, db.dialect, base);
    let mut loaded: Vec<Vec<Box<dyn DynModel>>> = Vec::with_capacity(writes.len());
    for (w, _) in &writes {
        let objs = match w {
            Write::Delete { table } if db.hooks.has_delete_hooks(table) => trees.load(db, table)?,
            _ => Vec::new(),
        };
        loaded.push(objs);
    }
    for obj in loaded.iter().flatten() {
        db.hooks.pre_delete(db, &**obj)?;
    }

    let mut deleted = Deleted::default();
    for ((w, t), objs) in writes.iter().zip(&loaded) {
        let n = db.execute(&t.sql, &t.params)? as u64;
        db.wrote(w.table());
        if let Write::Delete { table } = w {
            if n > 0 {
                deleted.total += n;
                deleted.per_model.push((table.label(), n));
            }
            for obj in objs.iter().rev() {
                db.hooks.post_delete(db, &**obj)?;
            }
        }
    }

    // The counts in Django's order, whatever order the reads forced.
    let order = &plan.django_order;
    deleted
        .per_model
        .sort_by_key(|(label, _)| order.iter().position(|t| &t.label() == label));

    let clear = rendered
        .iter()
        .filter(|r| matches!(r.step, Step::ClearKeyTable));
    for t in clear.flat_map(|r| &r.texts) {
        db.execute(&t.sql, &t.params)?;
    }
    Ok(deleted)
}

/// A delete running on a handle, for as long as it lives (see the module
/// documentation).
struct Nesting<'db> {
    db: &'db Db,
    depth: u32,
}

impl<'db> Nesting<'db> {
    fn enter(db: &'db Db) -> Nesting<'db> {
        Nesting {
            db,
            depth: db.enter_delete(),
        }
    }

    /// The number of this delete's component 0 in the key table.
    fn base(&self) -> i64 {
        i64::from(self.depth) << 32
    }
}

impl Drop for Nesting<'_> {
    fn drop(&mut self) {
        self.db.leave_delete(self.depth);
    }
}

// ---------------------------------------------------------------------------
// Trees
// ---------------------------------------------------------------------------

/// `"table"."column"`.
fn col(table: &'static ModelMeta, column: &'static str) -> Expr {
    Expr::col(table.table, column)
}

/// `"table"."pk"`.
pub(super) fn pk_col(table: &'static ModelMeta) -> Expr {
    col(table, table.pk_field().column)
}

/// `SELECT "table"."pk" FROM "table" WHERE filter`.
pub(super) fn select_keys(table: &'static ModelMeta, filter: Expr) -> Query {
    Select::from_table(vec![pk_col(table)], table.table, Some(filter)).into()
}

/// `a UNION ALL b ...` (one part stays as it is).
pub(super) fn union_all(mut parts: Vec<Query>) -> Query {
    if parts.len() == 1 {
        if let Some(p) = parts.pop() {
            return p;
        }
    }
    Query::Union { all: true, parts }
}

/// `SELECT <columns> FROM (query)`.
fn select_from(columns: Vec<Expr>, query: Query) -> Select {
    Select {
        columns: columns.into_iter().map(|c| (c, None)).collect(),
        from: Some(sql::From {
            source: Source::Query(Box::new(query)),
            alias: None,
            joins: Vec::new(),
        }),
        ..Select::default()
    }
}

/// `col = key`, or `col IN (keys)`.
fn in_values(col: &Expr, keys: &[Value]) -> Expr {
    match keys {
        [k] => col.clone().eq(Expr::Param(k.clone())),
        _ => Expr::In(Box::new(col.clone()), keys.to_vec()),
    }
}

/// Writes a plan's steps as statement trees.
#[derive(Clone, Copy)]
pub(super) struct Trees<'p, 'c> {
    plan: &'p Plan<'c>,
    /// Component `i` is stored as `n = base + i`.
    base: i64,
    /// The schema of temporary tables (`temp` on SQLite).
    temp_schema: Option<&'static str>,
    /// While writing the start of a recursive set, its own components read
    /// as empty.
    hidden: Option<usize>,
}

impl<'p, 'c> Trees<'p, 'c> {
    fn new(plan: &'p Plan<'c>, dialect: &dyn Dialect, base: i64) -> Trees<'p, 'c> {
        Trees {
            plan,
            base,
            temp_schema: dialect.temp_schema(),
            hidden: None,
        }
    }

    /// The statements of one step.
    fn statements(&self, step: &Step) -> Vec<Statement> {
        match step {
            Step::CreateKeyTable => vec![self.create_key_table()],
            Step::Store(i) => self.inserts(*i),
            Step::StoreFixpoint(k) => vec![self.fixpoint_insert(*k)],
            Step::Protect(p) => check::protect_query(self, p).into_iter().collect(),
            Step::Restrict(r) => check::restrict_query(self, r).into_iter().collect(),
            Step::Write(w) => self.write(w).into_iter().collect(),
            Step::ClearKeyTable => vec![self.clear_key_table()],
        }
    }

    fn members(&self, sets: &[KeySet]) -> Vec<usize> {
        self.plan.members_except(sets, self.hidden)
    }

    /// Component `i`'s number in the key table.
    fn n(&self, i: usize) -> Expr {
        Expr::Param(Value::Integer(self.base + i as i64))
    }

    fn key_table(&self) -> Source {
        Source::Table {
            schema: self.temp_schema.map(Into::into),
            name: KEY_TABLE.into(),
        }
    }

    /// `CREATE TEMP TABLE IF NOT EXISTS "orm_delete_keys" ("n" integer NOT
    /// NULL, "k" NOT NULL, PRIMARY KEY ("n", "k"))`: `k` has no type, so keys
    /// of any type compare as stored.
    fn create_key_table(&self) -> Statement {
        let column = |name: &'static str, ty: &'static str| sql::ColumnDef {
            name: name.into(),
            ty: ty.into(),
            null: false,
            primary_key: false,
            auto: false,
            unique: false,
            references: None,
            json: false,
        };
        Statement::CreateTable(sql::CreateTable {
            temp: true,
            if_not_exists: true,
            name: KEY_TABLE.into(),
            columns: vec![column("n", "integer"), column("k", "")],
            primary_key: vec!["n".into(), "k".into()],
        })
    }

    /// Removes this delete's rows from the key table. (A DELETE names its
    /// table without a schema: the temporary table is found first.)
    fn clear_key_table(&self) -> Statement {
        let last = self.base + self.plan.c.comps.len() as i64;
        Statement::Delete(sql::Delete {
            table: KEY_TABLE.into(),
            filter: Some(Expr::Between(
                Box::new(Expr::bare("n")),
                Value::Integer(self.base),
                Value::Integer(last),
            )),
        })
    }

    /// `SELECT "k" FROM temp."orm_delete_keys" WHERE "n" = ?`: the stored keys
    /// of component `i`.
    fn stored(&self, i: usize) -> Query {
        Select {
            columns: vec![(Expr::bare("k"), None)],
            from: Some(sql::From {
                source: self.key_table(),
                alias: None,
                joins: Vec::new(),
            }),
            filter: Some(Expr::bare("n").eq(self.n(i))),
            ..Select::default()
        }
        .into()
    }

    /// A condition on `col` for the keys of `sets`. `scope` names the table
    /// whose key `col` is, in the current FROM: a CASCADE atom of that table
    /// is then written on its own column, with no subquery.
    pub(super) fn cond(
        &self,
        col: &Expr,
        sets: &[KeySet],
        scope: Option<&'static ModelMeta>,
    ) -> Option<Expr> {
        let plan = self.plan;
        let mut parts = Vec::new();
        for i in self.members(sets) {
            if plan.stored(i) {
                parts.push(col.clone().in_query(self.stored(i)));
                continue;
            }
            let table = plan.c.comps[i].table;
            let inline = scope.is_some_and(|s| s.is(table));
            let mut own = Vec::new();
            for a in plan.live_atoms(i) {
                let part = match a {
                    Atom::Values(keys) => Some(in_values(col, keys)),
                    Atom::Query(q) if q.everything && inline => Some(Expr::Int(1)),
                    Atom::Query(q) => Some(col.clone().in_query(q.query.clone())),
                    Atom::Via { rel, from } => self.mapped(rel, &[*from]).map(|m| {
                        if inline {
                            m
                        } else {
                            col.clone().in_query(select_keys(table, m))
                        }
                    }),
                    Atom::Up(from) => self.cond(col, &[*from], scope),
                };
                own.extend(part);
            }
            match (Expr::any(own), self.minus_root(i, col)) {
                (Some(c), Some(minus)) => parts.push(Expr::And(vec![c, minus])),
                (c, _) => parts.extend(c),
            }
        }
        Expr::any(parts)
    }

    /// `NOT (col IN (<root keys>))` when component `i` leaves the root keys
    /// out (see `Comp::minus_root`). Keys are never NULL.
    fn minus_root(&self, i: usize, col: &Expr) -> Option<Expr> {
        let c = self.plan.c;
        if !c.comps[i].minus_root {
            return None;
        }
        let keys = Expr::In(Box::new(col.clone()), c.kept.clone());
        Some(Expr::Not(Box::new(keys)))
    }

    /// The queries yielding component `i`'s keys: the stored keys, or its
    /// atoms', the root keys left out where the component says so.
    fn comp_selects(&self, i: usize, out: &mut Vec<Query>) {
        if self.plan.stored(i) {
            out.push(self.stored(i));
            return;
        }
        let mut selects = Vec::new();
        for a in self.plan.live_atoms(i) {
            self.atom_selects(self.plan.c.comps[i].table, a, &mut selects);
        }
        out.extend(self.selects_minus_root(i, selects));
    }

    /// Filters queries of component `i`'s keys by `minus_root`: the first
    /// SELECT of a compound names its column, hence the empty `"k"` one.
    fn selects_minus_root(&self, i: usize, mut selects: Vec<Query>) -> Vec<Query> {
        let k = Expr::bare("k");
        match self.minus_root(i, &k) {
            Some(minus) if !selects.is_empty() => {
                let named = Select {
                    columns: vec![(Expr::Null, Some("k".into()))],
                    filter: Some(Expr::Int(0)),
                    ..Select::default()
                };
                selects.insert(0, named.into());
                let mut s = select_from(vec![k], union_all(selects));
                s.filter = Some(minus);
                vec![s.into()]
            }
            _ => selects,
        }
    }

    /// The condition "`rel`'s column points at a key of `from`", on the
    /// relation's table (through the `to_field` column when there is one).
    pub(super) fn mapped(&self, rel: &ReverseRelation, from: &[KeySet]) -> Option<Expr> {
        let fcol = col(rel.source, rel.field.column);
        match to_field(rel) {
            Some(tf) => {
                let t = rel.target;
                let inner = self.cond(&pk_col(t), from, Some(t))?;
                let q = Select::from_table(vec![col(t, tf.column)], t.table, Some(inner));
                Some(fcol.in_query(q.into()))
            }
            None => self.cond(&fcol, from, None),
        }
    }

    /// The queries (to be UNION ALL-ed) yielding the keys of one atom.
    fn atom_selects(&self, table: &'static ModelMeta, a: &Atom, out: &mut Vec<Query>) {
        match a {
            Atom::Values(keys) => out.push(Query::Values(
                keys.iter().map(|k| vec![Expr::Param(k.clone())]).collect(),
            )),
            Atom::Query(q) => out.push(q.query.clone()),
            Atom::Via { rel, from } => {
                if let Some(m) = self.mapped(rel, &[*from]) {
                    out.push(select_keys(table, m));
                }
            }
            Atom::Up(from) => {
                for i in self.members(&[*from]) {
                    self.comp_selects(i, out);
                }
            }
        }
    }

    /// `[WITH ...] INSERT OR IGNORE INTO temp."orm_delete_keys" ("n", "k") <rows>`.
    fn store(&self, with: Option<sql::With>, rows: sql::Rows) -> Statement {
        Statement::Insert(sql::Insert {
            with,
            table: self.key_table(),
            columns: vec!["n".into(), "k".into()],
            rows,
            or_ignore: true,
            returning: None,
        })
    }

    /// The INSERTs that store component `i`'s keys.
    fn inserts(&self, i: usize) -> Vec<Statement> {
        let c = self.plan.c;
        let mut out = Vec::new();
        let mut selects = Vec::new();
        for a in self.plan.live_atoms(i) {
            match a {
                Atom::Values(keys) => {
                    // (Only a root component holds values.)
                    let keys: Vec<&Value> = keys
                        .iter()
                        .filter(|k| !(c.comps[i].minus_root && c.kept.contains(k)))
                        .collect();
                    for chunk in keys.chunks(VALUES_PER_INSERT) {
                        let rows = chunk
                            .iter()
                            .map(|k| vec![self.n(i), Expr::Param((*k).clone())])
                            .collect();
                        out.push(self.store(None, sql::Rows::Values(rows)));
                    }
                }
                a => self.atom_selects(c.comps[i].table, a, &mut selects),
            }
        }
        let selects = self.selects_minus_root(i, selects);
        if !selects.is_empty() {
            let q = select_from(vec![self.n(i), Expr::Star], union_all(selects));
            out.push(self.store(None, sql::Rows::Query(q.into())));
        }
        out
    }

    /// The one statement that stores a recursive set of components:
    /// `WITH RECURSIVE "r"("n", "k") AS (<keys from outside the set> UNION
    /// <one join of "r" per relation inside it>) INSERT ... FROM "r"`. UNION
    /// drops repeated rows, so a cycle in the data ends the recursion too.
    fn fixpoint_insert(&self, k: usize) -> Statement {
        let plan = self.plan;
        let members = &plan.sets[k].members;
        let r = |column: &'static str| Expr::col("r", column);
        let mut terms: Vec<Query> = Vec::new();
        let start = Trees {
            hidden: Some(k),
            ..*self
        };
        for &i in members {
            let mut selects = Vec::new();
            for a in plan.live_atoms(i) {
                start.atom_selects(plan.c.comps[i].table, a, &mut selects);
            }
            let selects = start.selects_minus_root(i, selects);
            if !selects.is_empty() {
                terms.push(select_from(vec![self.n(i), Expr::Star], union_all(selects)).into());
            }
        }
        for &i in members {
            for a in plan.live_atoms(i) {
                let (rel, from) = match a {
                    Atom::Via { rel, from } => (Some(rel), from),
                    Atom::Up(from) => (None, from),
                    _ => continue,
                };
                for m in self.members(&[*from]) {
                    if plan.comps[m].set != k {
                        continue;
                    }
                    let (key, joins) = match rel {
                        None => (r("k"), Vec::new()),
                        Some(rel) => recursive_joins(rel),
                    };
                    let mut filter = vec![r("n").eq(self.n(m))];
                    filter.extend(self.minus_root(i, &key));
                    let term = Select {
                        columns: vec![(self.n(i), None), (key, None)],
                        from: Some(sql::From {
                            source: Source::table("r"),
                            alias: None,
                            joins,
                        }),
                        filter: Expr::all(filter),
                        ..Select::default()
                    };
                    terms.push(term.into());
                }
            }
        }
        let with = sql::With {
            recursive: true,
            name: "r".into(),
            columns: vec!["n".into(), "k".into()],
            query: Query::Union {
                all: false,
                parts: terms,
            },
        };
        let rows = Select {
            columns: vec![(r("n"), None), (r("k"), None)],
            from: Some(sql::From::table("r")),
            ..Select::default()
        };
        self.store(Some(with), sql::Rows::Query(rows.into()))
    }

    /// The write's statement; `None` when it applies to no key.
    fn write(&self, w: &Write) -> Option<Statement> {
        match w {
            Write::Update { rel, from, value } => {
                let m = self.mapped(rel, from)?;
                Some(Statement::Update(sql::Update {
                    table: rel.source.table.into(),
                    sets: vec![(rel.field.column.into(), Expr::Param(value.clone()))],
                    filter: Some(m),
                }))
            }
            Write::Delete { table } => {
                let c = self.cond(&pk_col(table), &[KeySet::all(table)], Some(table))?;
                Some(Statement::Delete(sql::Delete {
                    table: table.table.into(),
                    filter: Some(c),
                }))
            }
        }
    }

    /// The rows of `table` about to be deleted, ascending by key.
    fn load(&self, db: &Db, table: &'static ModelMeta) -> Result<Vec<Box<dyn DynModel>>> {
        let pk = pk_col(table);
        let Some(c) = self.cond(&pk, &[KeySet::all(table)], Some(table)) else {
            return Ok(Vec::new());
        };
        let (mut select, _) = crate::sql::select::select_tree(table, &Spec::default())?;
        select.filter = Some(c);
        select.order = vec![(pk, false)];
        let (sql, params) =
            crate::sql::select::write(db.dialect, table, &Statement::Query(None, select.into()))?;
        let mut stmt = db.prepare(&sql)?;
        bind_all(&mut stmt, &params)?;
        let load = crate::exec::record::loader(table)?;
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(Error::from_sqlite)? {
            out.push(load(&mut crate::exec::record::RowReader::new(row))?);
        }
        Ok(out)
    }
}

/// The key column of the rows a relation inside a recursive set yields from
/// the keys in `"r"."k"`, and the joins reaching it: `JOIN source AS "src"
/// ON "src".fk = "r"."k"`, through the target (`"dst"`) for a `to_field`.
fn recursive_joins(rel: &ReverseRelation) -> (Expr, Vec<sql::Join>) {
    let r = Expr::col("r", "k");
    let src = |c: &'static str| Expr::col("src", c);
    let join = |table: &'static ModelMeta, alias: &'static str, on| sql::Join {
        left: false,
        source: Source::table(table.table),
        alias: Some(alias.into()),
        on,
    };
    let fk = src(rel.field.column);
    let joins = match to_field(rel) {
        Some(tf) => {
            let dst = |c: &'static str| Expr::col("dst", c);
            vec![
                join(rel.target, "dst", dst(rel.target.pk_field().column).eq(r)),
                join(rel.source, "src", fk.eq(dst(tf.column))),
            ]
        }
        None => vec![join(rel.source, "src", fk.eq(r))],
    };
    (src(rel.source.pk_field().column), joins)
}
