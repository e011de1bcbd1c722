//! Property test of the deletion collector against a naive, row-by-row
//! evaluation of Django's `Collector` rules (`reference/django-semantics.md`,
//! section 3).
//!
//! A fixed set of models covers every `on_delete` rule (CASCADE, PROTECT,
//! RESTRICT, SET_NULL, SET_DEFAULT, SET(...), DO_NOTHING and RESTRICT without
//! a constraint), nullable and required keys, chains, diamonds (a CASCADE and
//! a RESTRICT path to the same row, directly, through a `to_field` and through
//! a parent link), self-references, and a multi-table parent with two
//! children, one with a child of its own. Each case fills an in-memory database with random rows (which row
//! each key points at, or NULL where the field is an `Option`), deletes rows
//! of a random model (`filter(pk__in=...)`, everything, one instance, one
//! child with `keep_parents`, or filters reading what the delete writes), and
//! compares the result with the evaluator's:
//!
//! * `Protected` with the protecting rows, if a PROTECT key points at any row
//!   the delete reaches (Django raises even when the protecting row is itself
//!   cascaded);
//! * else `Restricted` with the restricting rows and fields, for the RESTRICT
//!   keys whose rows are not deleted themselves;
//! * else a constraint error when the writes break a UNIQUE (two rows set to
//!   the same default) or a foreign key (a default pointing at a deleted row,
//!   a sibling child left without its parent row);
//! * else the exact rows left in every table, with their keys after
//!   SET_NULL / SET_DEFAULT / SET, the per-model counts, and the `post_delete`
//!   hooks of two models.
//!
//! On an error, nothing may have changed. The database is read back with raw
//! SQL, and filled with raw SQL too (keys in any order: the constraints are
//! deferred).
//!
//! `PROPTEST_CASES=20000` searches longer; `DPROP_STATS=1` (with
//! `--nocapture`) prints each case's root, way of deleting and outcome.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use orm_core::meta::ModelMeta;
use orm_core::prelude::*;
use orm_core::{Constraint, OnDelete};
use proptest::prelude::*;

// ------------------------------------------------------------------ models

/// The root most cases delete from. `buddy` is a self-referential SET_NULL,
/// `code` the target of `Tag`'s `to_field` relation.
#[derive(Model, Debug, Clone)]
#[model(app = "dprop")]
pub struct Top {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "set_null", related_name = "buddy_of")]
    pub buddy: Option<OneToOne<Top>>,
    #[field(unique)]
    pub code: Option<i64>,
}

/// Top <- Mid (required CASCADE), and a self-referential CASCADE chain.
#[derive(Model, Debug, Clone)]
#[model(app = "dprop")]
pub struct Mid {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade")]
    pub top: OneToOne<Top>,
    #[one_to_one(on_delete = "cascade", related_name = "next")]
    pub prev: Option<OneToOne<Mid>>,
}

/// Top <- Mid <- Leaf (CASCADE), and Top <- Leaf (RESTRICT): a diamond.
#[derive(Model, Debug, Clone)]
#[model(app = "dprop")]
pub struct Leaf {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade")]
    pub mid: Option<OneToOne<Mid>>,
    #[one_to_one(on_delete = "restrict")]
    pub top: Option<OneToOne<Top>>,
}

/// Django's Song: a nullable CASCADE to the top, a RESTRICT to the Mid the
/// top cascades to.
#[derive(Model, Debug, Clone)]
#[model(app = "dprop")]
pub struct Song {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade")]
    pub top: Option<OneToOne<Top>>,
    #[one_to_one(on_delete = "restrict")]
    pub mid: OneToOne<Mid>,
}

/// PROTECT reached through cascades, and on a multi-table parent.
#[derive(Model, Debug, Clone)]
#[model(app = "dprop")]
pub struct Guard {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "protect")]
    pub mid: Option<OneToOne<Mid>>,
    #[one_to_one(on_delete = "cascade")]
    pub top: Option<OneToOne<Top>>,
    #[one_to_one(on_delete = "protect")]
    pub base: Option<OneToOne<Base>>,
}

/// SET_DEFAULT to Mid 1.
#[derive(Model, Debug, Clone)]
#[model(app = "dprop")]
pub struct Def {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "set_default", default = 1)]
    pub mid: Option<OneToOne<Mid>>,
}

/// SET(0), a sentinel with no constraint, on a required key.
#[derive(Model, Debug, Clone)]
#[model(app = "dprop")]
pub struct Mark {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "set(0)", db_constraint = false)]
    pub top: OneToOne<Top>,
    #[one_to_one(on_delete = "cascade")]
    pub leaf: Option<OneToOne<Leaf>>,
}

/// DO_NOTHING and RESTRICT with no constraint.
#[derive(Model, Debug, Clone)]
#[model(app = "dprop")]
pub struct Loose {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "do_nothing", db_constraint = false)]
    pub top: Option<OneToOne<Top>>,
    #[one_to_one(on_delete = "restrict", db_constraint = false)]
    pub song: Option<OneToOne<Song>>,
}

/// A multi-table parent.
#[derive(Model, Debug, Clone)]
#[model(app = "dprop")]
pub struct Base {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade")]
    pub top: Option<OneToOne<Top>>,
}

/// Its child: deleting one deletes the other.
#[derive(Model, Debug, Clone)]
#[model(app = "dprop")]
pub struct Sub {
    #[parent]
    pub base: Base,
    #[one_to_one(on_delete = "cascade")]
    pub mid: Option<OneToOne<Mid>>,
    #[one_to_one(on_delete = "set_null")]
    pub leaf: Option<OneToOne<Leaf>>,
    /// Back to a `Pin`, which cascades from a `Sub`: a cycle of CASCADEs
    /// through a multi-table child.
    #[one_to_one(on_delete = "cascade", related_name = "back_of")]
    pub back: Option<OneToOne<Pin>>,
}

/// A sibling of `Sub`: a `Base` row can be both. Deleting one child deletes
/// the parent row but not the sibling's row (Django leaves it to the
/// database, which refuses the commit).
#[derive(Model, Debug, Clone)]
#[model(app = "dprop")]
pub struct Sub2 {
    #[parent]
    pub base: Base,
    #[one_to_one(on_delete = "cascade")]
    pub top: Option<OneToOne<Top>>,
}

/// A child of `Sub`: two levels of parents.
#[derive(Model, Debug, Clone)]
#[model(app = "dprop")]
pub struct Grand {
    #[parent]
    pub sub: Sub,
    #[one_to_one(on_delete = "cascade")]
    pub twig: Option<OneToOne<Leaf>>,
}

/// RESTRICT on the parent, CASCADE from the child: a diamond through the
/// parent link.
#[derive(Model, Debug, Clone)]
#[model(app = "dprop")]
pub struct Pin {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "restrict", related_name = "pin_base")]
    pub base: Option<OneToOne<Base>>,
    #[one_to_one(on_delete = "cascade")]
    pub sub: Option<OneToOne<Sub>>,
}

/// CASCADE through a nullable `to_field`, and a RESTRICT.
#[derive(Model, Debug, Clone)]
#[model(app = "dprop")]
pub struct Tag {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", to_field = "code")]
    pub top: Option<OneToOne<Top>>,
    #[one_to_one(on_delete = "restrict")]
    pub mid: Option<OneToOne<Mid>>,
}

// ------------------------------------------------------- the models as data

const TOP: usize = 0;
const MID: usize = 1;
const LEAF: usize = 2;
const SONG: usize = 3;
const GUARD: usize = 4;
const DEF: usize = 5;
const MARK: usize = 6;
const LOOSE: usize = 7;
const BASE: usize = 8;
const SUB: usize = 9;
const PIN: usize = 10;
const TAG: usize = 11;
const SUB2: usize = 12;
const GRAND: usize = 13;
const MODELS: usize = 14;

fn meta(m: usize) -> &'static ModelMeta {
    [
        Top::META,
        Mid::META,
        Leaf::META,
        Song::META,
        Guard::META,
        Def::META,
        Mark::META,
        Loose::META,
        Base::META,
        Sub::META,
        Pin::META,
        Tag::META,
        Sub2::META,
        Grand::META,
    ][m]
}

/// The columns a row stores besides its key, by field name: every relation
/// except a parent link (which is the key itself), and `Top.code`.
const COLS: [&[&str]; MODELS] = [
    &["buddy", "code"],
    &["top", "prev"],
    &["mid", "top"],
    &["top", "mid"],
    &["mid", "top", "base"],
    &["mid"],
    &["top", "leaf"],
    &["top", "song"],
    &["top"],
    &["mid", "leaf", "back"],
    &["base", "sub"],
    &["top", "mid"],
    &["top"],
    &["twig"],
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Rule {
    Cascade,
    Protect,
    Restrict,
    SetNull,
    SetDefault(i64),
    Set(i64),
    DoNothing,
}

/// Where a relation's key is stored in a source row.
#[derive(Debug, Clone, Copy)]
enum Key {
    /// `COLS[src][i]`.
    Col(usize),
    /// The row's own key (a parent link).
    Pk,
}

struct RelSpec {
    src: usize,
    key: Key,
    tgt: usize,
    /// The target column the key holds (`to_field`): `COLS[tgt][i]`; `None`
    /// is the target's key.
    to: Option<usize>,
    rule: Rule,
    null: bool,
    constraint: bool,
}

const fn rel(src: usize, col: usize, tgt: usize, rule: Rule, null: bool) -> RelSpec {
    RelSpec {
        src,
        key: Key::Col(col),
        tgt,
        to: None,
        rule,
        null,
        constraint: true,
    }
}

/// Every relation, written out by hand (checked against the derived metadata
/// by `the_spec_matches_the_models`).
const RELS: &[RelSpec] = &[
    rel(TOP, 0, TOP, Rule::SetNull, true),
    rel(MID, 0, TOP, Rule::Cascade, false),
    rel(MID, 1, MID, Rule::Cascade, true),
    rel(LEAF, 0, MID, Rule::Cascade, true),
    rel(LEAF, 1, TOP, Rule::Restrict, true),
    rel(SONG, 0, TOP, Rule::Cascade, true),
    rel(SONG, 1, MID, Rule::Restrict, false),
    rel(GUARD, 0, MID, Rule::Protect, true),
    rel(GUARD, 1, TOP, Rule::Cascade, true),
    rel(GUARD, 2, BASE, Rule::Protect, true),
    rel(DEF, 0, MID, Rule::SetDefault(1), true),
    RelSpec {
        constraint: false,
        ..rel(MARK, 0, TOP, Rule::Set(0), false)
    },
    rel(MARK, 1, LEAF, Rule::Cascade, true),
    RelSpec {
        constraint: false,
        ..rel(LOOSE, 0, TOP, Rule::DoNothing, true)
    },
    RelSpec {
        constraint: false,
        ..rel(LOOSE, 1, SONG, Rule::Restrict, true)
    },
    rel(BASE, 0, TOP, Rule::Cascade, true),
    RelSpec {
        key: Key::Pk,
        ..rel(SUB, 0, BASE, Rule::Cascade, false)
    },
    rel(SUB, 0, MID, Rule::Cascade, true),
    rel(SUB, 1, LEAF, Rule::SetNull, true),
    rel(SUB, 2, PIN, Rule::Cascade, true),
    rel(PIN, 0, BASE, Rule::Restrict, true),
    rel(PIN, 1, SUB, Rule::Cascade, true),
    RelSpec {
        to: Some(1),
        ..rel(TAG, 0, TOP, Rule::Cascade, true)
    },
    rel(TAG, 1, MID, Rule::Restrict, true),
    RelSpec {
        key: Key::Pk,
        ..rel(SUB2, 0, BASE, Rule::Cascade, false)
    },
    rel(SUB2, 0, TOP, Rule::Cascade, true),
    RelSpec {
        key: Key::Pk,
        ..rel(GRAND, 0, SUB, Rule::Cascade, false)
    },
    rel(GRAND, 0, LEAF, Rule::Cascade, true),
];

/// The MTI parent of a model.
fn parent(m: usize) -> Option<usize> {
    match m {
        SUB | SUB2 => Some(BASE),
        GRAND => Some(SUB),
        _ => None,
    }
}

fn label(m: usize) -> String {
    meta(m).label()
}

fn column(m: usize, name: &str) -> &'static str {
    meta(m)
        .fields
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("{}.{name}", meta(m).name))
        .column
}

fn rel_field_name(r: &RelSpec) -> &'static str {
    match r.key {
        Key::Col(i) => COLS[r.src][i],
        Key::Pk => meta(r.src).pk_field().name,
    }
}

#[test]
fn the_spec_matches_the_models() {
    let mut declared = 0;
    for (m, cols) in COLS.iter().enumerate() {
        for f in meta(m).fields {
            let Some(rm) = f.relation else { continue };
            declared += 1;
            let r = RELS
                .iter()
                .find(|r| r.src == m && rel_field_name(r) == f.name)
                .unwrap_or_else(|| panic!("{}.{} is not in RELS", meta(m).name, f.name));
            assert!((rm.target)().is(meta(r.tgt)), "{}", f.name);
            assert_eq!(rm.db_constraint, r.constraint, "{}", f.name);
            assert_eq!(f.null, r.null, "{}", f.name);
            assert_eq!(rm.parent_link, matches!(r.key, Key::Pk), "{}", f.name);
            assert_eq!(rm.to_field, r.to.map(|i| COLS[r.tgt][i]), "{}", f.name);
            let same = match (rm.on_delete, r.rule) {
                (OnDelete::Cascade, Rule::Cascade)
                | (OnDelete::Protect, Rule::Protect)
                | (OnDelete::Restrict, Rule::Restrict)
                | (OnDelete::SetNull, Rule::SetNull)
                | (OnDelete::DoNothing, Rule::DoNothing) => true,
                (OnDelete::SetDefault, Rule::SetDefault(v)) => {
                    f.default.map(|d| d()) == Some(Value::Integer(v))
                }
                (OnDelete::Set(set), Rule::Set(v)) => set() == Value::Integer(v),
                _ => false,
            };
            assert!(same, "{}.{}", meta(m).name, f.name);
        }
        for name in *cols {
            column(m, name);
        }
    }
    assert_eq!(declared, RELS.len());
}

// -------------------------------------------------------------------- data

/// Rows of one table: key -> the `COLS` values.
type Table = BTreeMap<i64, Vec<Option<i64>>>;
type Data = Vec<Table>;

/// Random bytes, read in order; zeros once used up (so shrinking tends to
/// NULL-free, first-choice data).
struct Bytes<'a>(&'a [u8], usize);

impl Bytes<'_> {
    fn next(&mut self) -> u8 {
        let b = self.0.get(self.1).copied().unwrap_or(0);
        self.1 += 1;
        b
    }
}

/// The value a relation's key holds when it points at row `id` of `r.tgt`.
fn target_value(data: &Data, r: &RelSpec, id: i64) -> Option<i64> {
    match r.to {
        None => Some(id),
        Some(c) => data[r.tgt].get(&id).and_then(|row| row[c]),
    }
}

/// The key value of `r` in row `id` of `r.src`.
fn key_value(r: &RelSpec, id: i64, row: &[Option<i64>]) -> Option<i64> {
    match r.key {
        Key::Col(i) => row[i],
        Key::Pk => Some(id),
    }
}

/// Fills the tables in model order (every required key points at an earlier
/// model, or at the parent for a child; keys pointing at later models are
/// filled last). A required key with no target left drops the row; keys of a
/// one-to-one are distinct.
fn generate(counts: &[u8], bytes: &mut Bytes<'_>) -> Data {
    let mut data: Data = vec![Table::new(); MODELS];
    for (m, &count) in counts.iter().enumerate() {
        let n = i64::from(count);
        // Ids: 1..=n, or for the child a subset of its parent's ids.
        let mut ids: Vec<i64> = match parent(m) {
            None => (1..=n).collect(),
            Some(p) => {
                let mut avail: Vec<i64> = data[p].keys().copied().collect();
                // Siblings share a parent row now and then.
                if m == SUB2 && !bytes.next().is_multiple_of(4) {
                    avail.retain(|i| !data[SUB].contains_key(i));
                }
                let mut out = Vec::new();
                for _ in 0..n {
                    if avail.is_empty() {
                        break;
                    }
                    out.push(avail.remove(usize::from(bytes.next()) % avail.len()));
                }
                out.sort_unstable();
                out
            }
        };
        let mut rows: Vec<Vec<Option<i64>>> = vec![vec![None; COLS[m].len()]; ids.len()];
        if m == TOP {
            // `code`: 10 * id, or NULL.
            for (row, id) in rows.iter_mut().zip(&ids) {
                row[1] = (!bytes.next().is_multiple_of(3)).then_some(10 * id);
            }
        }
        let mut keep = vec![true; ids.len()];
        for r in RELS.iter().filter(|r| r.src == m && r.tgt <= m) {
            let Key::Col(c) = r.key else { continue };
            let null_odds = null_odds(r, bytes);
            let targets: Vec<i64> = if r.tgt == m {
                ids.clone()
            } else {
                data[r.tgt].keys().copied().collect()
            };
            let mut avail: Vec<i64> = targets
                .iter()
                .filter_map(|&t| match r.to {
                    None => Some(t),
                    Some(tc) => {
                        if r.tgt == m {
                            rows[ids.iter().position(|i| *i == t).unwrap()][tc]
                        } else {
                            data[r.tgt][&t][tc]
                        }
                    }
                })
                .collect();
            for (k, row) in rows.iter_mut().enumerate() {
                let pick = bytes.next();
                if r.null && (bytes.next() % 3) < null_odds {
                    continue;
                }
                if avail.is_empty() {
                    if !r.null {
                        keep[k] = false;
                    }
                    continue;
                }
                row[c] = Some(avail.remove(usize::from(pick) % avail.len()));
            }
        }
        // Dropped rows: required keys found no target. Nothing points at
        // this model's rows yet except its own nullable self-references,
        // which are cleared.
        let dropped: BTreeSet<i64> = ids
            .iter()
            .zip(&keep)
            .filter(|(_, k)| !**k)
            .map(|(i, _)| *i)
            .collect();
        let mut table = Table::new();
        for (id, row) in ids.drain(..).zip(rows) {
            if !dropped.contains(&id) {
                table.insert(id, row);
            }
        }
        for r in RELS.iter().filter(|r| r.src == m && r.tgt == m) {
            if let Key::Col(c) = r.key {
                for row in table.values_mut() {
                    if row[c].is_some_and(|v| dropped.contains(&v)) {
                        row[c] = None;
                    }
                }
            }
        }
        data[m] = table;
    }
    // Keys pointing at a later model (all nullable), once every table is
    // filled.
    for r in RELS.iter().filter(|r| r.tgt > r.src) {
        let Key::Col(c) = r.key else { unreachable!() };
        assert!(r.null && r.to.is_none());
        let null_odds = null_odds(r, bytes);
        let mut avail: Vec<i64> = data[r.tgt].keys().copied().collect();
        for row in data[r.src].values_mut() {
            let pick = bytes.next();
            if (bytes.next() % 3) < null_odds || avail.is_empty() {
                continue;
            }
            row[c] = Some(avail.remove(usize::from(pick) % avail.len()));
        }
    }
    align(&mut data, bytes);
    data
}

/// The odds, out of 3, that a nullable key is NULL (0 never, 3 always): keys
/// that block a delete are NULL more often, CASCADE keys less.
fn null_odds(r: &RelSpec, bytes: &mut Bytes<'_>) -> u8 {
    let (x, y) = (bytes.next() % 4, bytes.next() % 4);
    match r.rule {
        Rule::Protect | Rule::Restrict => x.max(y),
        Rule::Cascade => x.min(y),
        _ => x,
    }
}

/// Points some keys of the diamonds at the same top row as the other path,
/// which random picks rarely do: a Song's top at its Mid's top, a Leaf's
/// RESTRICT at its Mid's top, a Tag's RESTRICT at the Mid of its top, a Pin's
/// RESTRICT at its Sub's parent row; and a Sub's `back` at the Pin that
/// cascades from it (a cycle in the rows). Keys stay distinct.
fn align(data: &mut Data, bytes: &mut Bytes<'_>) {
    let mid_top = |data: &Data, mid: Option<i64>| mid.and_then(|m| data[MID].get(&m)?[0]);
    let top_of_code = |data: &Data, code: Option<i64>| {
        let code = code?;
        data[TOP]
            .iter()
            .find(|(_, row)| row[1] == Some(code))
            .map(|(id, _)| *id)
    };
    let mid_of_top = |data: &Data, top: Option<i64>| {
        let top = top?;
        data[MID]
            .iter()
            .find(|(_, row)| row[0] == Some(top))
            .map(|(id, _)| *id)
    };
    let pin_of_sub = |data: &Data, sub: i64| {
        data[PIN]
            .iter()
            .find(|(_, row)| row[1] == Some(sub))
            .map(|(id, _)| *id)
    };
    type Want<'f> = &'f dyn Fn(&Data, i64, &[Option<i64>]) -> Option<i64>;
    let plans: [(usize, usize, Want<'_>); 5] = [
        (SONG, 0, &|d, _, row| mid_top(d, row[1])),
        (LEAF, 1, &|d, _, row| mid_top(d, row[0])),
        (TAG, 1, &|d, _, row| mid_of_top(d, top_of_code(d, row[0]))),
        (PIN, 0, &|_, _, row| row[1]),
        (SUB, 2, &|d, id, _| pin_of_sub(d, id)),
    ];
    for (m, c, want) in plans {
        let ids: Vec<i64> = data[m].keys().copied().collect();
        for id in ids {
            if bytes.next().is_multiple_of(2) {
                continue;
            }
            let Some(v) = want(data, id, &data[m][&id]) else {
                continue;
            };
            if data[m].values().all(|row| row[c] != Some(v)) {
                data[m].get_mut(&id).unwrap()[c] = Some(v);
            }
        }
    }
}

fn insert_sql(m: usize) -> String {
    let mut cols = vec![meta(m).pk_field().column];
    cols.extend(COLS[m].iter().map(|n| column(m, n)));
    let quoted: Vec<String> = cols.iter().map(|c| format!("\"{c}\"")).collect();
    let marks = vec!["?"; cols.len()].join(", ");
    format!(
        "INSERT INTO \"{}\" ({}) VALUES ({marks})",
        meta(m).table,
        quoted.join(", ")
    )
}

fn select_sql(m: usize) -> String {
    let mut cols = vec![meta(m).pk_field().column];
    cols.extend(COLS[m].iter().map(|n| column(m, n)));
    let quoted: Vec<String> = cols.iter().map(|c| format!("\"{c}\"")).collect();
    format!(
        "SELECT {} FROM \"{}\" ORDER BY 1",
        quoted.join(", "),
        meta(m).table
    )
}

fn load(db: &Db, data: &Data) {
    let conn = db.connection();
    conn.execute_batch("BEGIN").unwrap();
    for (m, table) in data.iter().enumerate() {
        let mut stmt = conn.prepare(&insert_sql(m)).unwrap();
        for (id, row) in table {
            let mut params: Vec<Option<i64>> = vec![Some(*id)];
            params.extend(row.iter().copied());
            stmt.execute(rusqlite::params_from_iter(params)).unwrap();
        }
    }
    conn.execute_batch("COMMIT").unwrap();
}

fn read_back(db: &Db) -> Data {
    let conn = db.connection();
    (0..MODELS)
        .map(|m| {
            let mut stmt = conn.prepare(&select_sql(m)).unwrap();
            let width = COLS[m].len();
            let rows = stmt
                .query_map([], |row| {
                    let id: i64 = row.get(0)?;
                    let vals = (1..=width)
                        .map(|i| row.get::<_, Option<i64>>(i))
                        .collect::<rusqlite::Result<Vec<_>>>()?;
                    Ok((id, vals))
                })
                .unwrap();
            rows.collect::<rusqlite::Result<Table>>().unwrap()
        })
        .collect()
}

// --------------------------------------------------------------- evaluator

/// A row: (model, key).
type RowId = (usize, i64);

#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Protected(BTreeSet<(String, i64)>),
    Restricted {
        keys: BTreeSet<String>,
        objects: BTreeSet<(String, i64)>,
    },
    Integrity(Constraint),
    Deleted {
        counts: BTreeMap<String, u64>,
        state: Data,
    },
}

fn named(rows: &BTreeSet<RowId>) -> BTreeSet<(String, i64)> {
    rows.iter().map(|(m, id)| (label(*m), *id)).collect()
}

/// Django's collector, one row at a time: every row the delete reaches gets
/// the `on_delete` rule of each key pointing at it. Rows are reached from the
/// roots, through CASCADE keys, and as the parent rows of deleted multi-table
/// children (unless the delete keeps the roots' parents).
///
/// A parent row deleted only as part of a child (Django's
/// `collect_related=False`) does not take the other children of that row
/// along: Django's child handles the keys pointing at its ancestors, parent
/// links excluded, so a sibling's row is left to the database.
///
/// Django collects a row once, and how it first meets the row decides. Two
/// differences follow, where Django's outcome is an accident of that:
///
/// * Django applies the rules of the keys pointing at a child's ancestors
///   whenever it collects the child, even when an ancestor row is not
///   deleted, as when the child is reached through the parent link of a
///   root deleted with `keep_parents` (collecting the already collected
///   root again does nothing, so the grandparent row stays). Here, and in
///   the collector, only the keys pointing at deleted rows count.
/// * A parent row first taken along by a child and later reached through a
///   CASCADE is, for Django, already collected: the other children of that
///   row stay. Here, and in the collector, the CASCADE takes them along.
fn evaluate(data: &Data, roots: &BTreeSet<RowId>, keep_parents: bool) -> Outcome {
    let mut deleted: BTreeSet<RowId> = BTreeSet::new();
    // Rows collected with their relations: roots and CASCADE targets.
    let mut related: BTreeSet<RowId> = BTreeSet::new();
    let mut protected: BTreeSet<RowId> = BTreeSet::new();
    // RESTRICT: (relation index, row).
    let mut restricted: BTreeSet<(usize, RowId)> = BTreeSet::new();
    // SET_*: (row, column, value).
    let mut updates: Vec<(RowId, usize, Option<i64>)> = Vec::new();
    // (row, collected with its relations, takes its parent row along)
    let mut todo: Vec<(RowId, bool, bool)> =
        roots.iter().map(|r| (*r, true, !keep_parents)).collect();
    while let Some(((m, id), with_related, with_parent)) = todo.pop() {
        let new = deleted.insert((m, id));
        if new && with_parent {
            if let Some(p) = parent(m) {
                todo.push(((p, id), false, true));
            }
        }
        let new_related = with_related && related.insert((m, id));
        // Keys pointing at the row; parent links only from a row collected
        // with its relations.
        let rels = RELS.iter().enumerate().filter(|(_, r)| {
            r.tgt == m
                && match r.key {
                    Key::Col(_) => new,
                    Key::Pk => new_related,
                }
        });
        for (ri, r) in rels {
            let Some(v) = target_value(data, r, id) else {
                continue;
            };
            for (&sid, row) in &data[r.src] {
                if key_value(r, sid, row) != Some(v) {
                    continue;
                }
                let s = (r.src, sid);
                match (r.rule, r.key) {
                    (Rule::Cascade, _) => todo.push((s, true, true)),
                    (Rule::Protect, _) => {
                        protected.insert(s);
                    }
                    (Rule::Restrict, _) => {
                        restricted.insert((ri, s));
                    }
                    (Rule::SetNull, Key::Col(c)) => updates.push((s, c, None)),
                    (Rule::SetDefault(d) | Rule::Set(d), Key::Col(c)) => {
                        updates.push((s, c, Some(d)))
                    }
                    (Rule::DoNothing, _) => {}
                    (_, Key::Pk) => unreachable!(),
                }
            }
        }
    }
    if !protected.is_empty() {
        return Outcome::Protected(named(&protected));
    }
    let blocking: Vec<(usize, RowId)> = restricted
        .into_iter()
        .filter(|(_, s)| !deleted.contains(s))
        .collect();
    if !blocking.is_empty() {
        return Outcome::Restricted {
            keys: blocking
                .iter()
                .map(|(ri, _)| {
                    let r = &RELS[*ri];
                    format!("{}.{}", meta(r.src).name, rel_field_name(r))
                })
                .collect(),
            objects: named(&blocking.iter().map(|(_, s)| *s).collect()),
        };
    }
    // A table's updates run after its deleted rows are gone (Django runs
    // them first and can trip the UNIQUE constraint on a row it is about to
    // delete; ours cannot): the rows left must stay unique.
    let mut state = data.clone();
    for ((m, id), c, v) in &updates {
        state[*m].get_mut(id).unwrap()[*c] = *v;
    }
    for (m, id) in &deleted {
        state[*m].remove(id);
    }
    for (m, table) in state.iter().enumerate() {
        for c in 0..COLS[m].len() {
            let mut seen = BTreeSet::new();
            for row in table.values() {
                if let Some(v) = row[c] {
                    if !seen.insert(v) {
                        return Outcome::Integrity(Constraint::Unique);
                    }
                }
            }
        }
    }
    // Deferred foreign keys, checked at COMMIT.
    for r in RELS.iter().filter(|r| r.constraint) {
        for (&sid, row) in &state[r.src] {
            let Some(v) = key_value(r, sid, row) else {
                continue;
            };
            let found = state[r.tgt]
                .keys()
                .any(|&t| target_value(&state, r, t) == Some(v));
            if !found {
                return Outcome::Integrity(Constraint::ForeignKey);
            }
        }
    }
    let mut counts = BTreeMap::new();
    for (m, _) in &deleted {
        *counts.entry(label(*m)).or_insert(0) += 1;
    }
    Outcome::Deleted { counts, state }
}

// -------------------------------------------------------------------- runs

/// How the delete is started.
#[derive(Debug, Clone, Copy)]
enum How {
    /// `filter(pk__in=[...])` on the root model.
    Keys,
    /// `objects().delete()`: every row of the root model.
    All,
    /// `Model::delete` on one instance.
    Instance,
    /// `Top.filter(buddy__isnull=False)`: reads a column SET_NULL writes.
    BuddyNotNull,
    /// `Top.filter(song__isnull=False)`: reads a table the delete cascades to.
    HasSong,
    /// `Mid.filter(def__isnull=True)`: reads a column SET_DEFAULT writes.
    NoDef,
    /// `Model::delete_keep_parents` on one multi-table child.
    KeepParents,
}

fn delete_keys<M: Model>(db: &Db, keys: &[i64]) -> Result<Deleted> {
    let lookup = format!("{}__in", M::META.pk_field().name);
    M::objects()
        .filter(Q::kw_list(&lookup, keys.iter().copied()))
        .delete(db)
}

fn delete_all<M: Model>(db: &Db) -> Result<Deleted> {
    M::objects().delete(db)
}

fn delete_one<M: Model>(db: &Db, key: i64) -> Result<Deleted> {
    M::get(db, key)?.delete(db)
}

fn delete_one_keep_parents<M: Model>(db: &Db, key: i64) -> Result<Deleted> {
    M::get(db, key)?.delete_keep_parents(db)
}

fn run_delete(db: &Db, root: usize, how: How, keys: &[i64]) -> Result<Deleted> {
    macro_rules! on {
        ($($i:ident => $t:ty),*) => {
            match root {
                $($i => match how {
                    How::Keys => delete_keys::<$t>(db, keys),
                    How::All => delete_all::<$t>(db),
                    How::Instance => delete_one::<$t>(db, keys[0]),
                    How::BuddyNotNull => Top::objects().filter(Q::kw("buddy__isnull", false)).delete(db),
                    How::HasSong => Top::objects().filter(Q::kw("song__isnull", false)).delete(db),
                    How::NoDef => Mid::objects().filter(Q::kw("def__isnull", true)).delete(db),
                    How::KeepParents => delete_one_keep_parents::<$t>(db, keys[0]),
                },)*
                _ => unreachable!(),
            }
        };
    }
    on!(TOP => Top, MID => Mid, LEAF => Leaf, SONG => Song, BASE => Base, SUB => Sub, SUB2 => Sub2, GRAND => Grand)
}

fn actual_outcome(db: &Db, result: Result<Deleted>) -> std::result::Result<Outcome, String> {
    let objects = |objs: &[orm_core::Blocker]| -> BTreeSet<(String, i64)> {
        objs.iter()
            .map(|b| (b.model.clone(), b.pk.parse().unwrap()))
            .collect()
    };
    Ok(match result {
        Ok(d) => {
            let counts: BTreeMap<String, u64> = d.per_model.iter().cloned().collect();
            let total: u64 = counts.values().sum();
            if total != d.total || counts.len() != d.per_model.len() {
                return Err(format!("inconsistent counts: {d:?}"));
            }
            Outcome::Deleted {
                counts,
                state: read_back(db),
            }
        }
        Err(Error::Protected { objects: o, .. }) => Outcome::Protected(objects(&o)),
        Err(Error::Restricted {
            keys, objects: o, ..
        }) => Outcome::Restricted {
            keys: keys.into_iter().collect(),
            objects: objects(&o),
        },
        Err(Error::Integrity { kind, .. }) => Outcome::Integrity(kind),
        Err(e) => return Err(format!("unexpected error: {e:?} ({e})")),
    })
}

const ROOTS: [usize; 8] = [TOP, TOP, MID, BASE, SUB, SUB2, GRAND, SONG];

fn check_case(counts: &[u8], bytes: &[u8], pick: u8) -> std::result::Result<(), TestCaseError> {
    let root = ROOTS[usize::from(pick) % ROOTS.len()];
    // The root model has rows (and so do the models its required keys need).
    let mut counts = counts.to_vec();
    let needs: &[usize] = match root {
        TOP => &[TOP],
        MID => &[TOP, MID],
        SONG => &[TOP, MID, SONG],
        BASE => &[TOP, BASE],
        SUB => &[TOP, BASE, SUB],
        SUB2 => &[TOP, BASE, SUB2],
        GRAND => &[TOP, BASE, SUB, GRAND],
        _ => unreachable!(),
    };
    for &m in needs {
        counts[m] = counts[m].max(1);
    }
    counts[SUB] = counts[SUB].max(counts[GRAND]);
    counts[BASE] = counts[BASE].max(counts[SUB]).max(counts[SUB2]);
    let mut b = Bytes(bytes, 0);
    let data = generate(&counts, &mut b);
    let how = match (pick / 8) % 8 {
        0..=2 => How::Keys,
        3 => How::All,
        4 => How::Instance,
        5 | 6 => match root {
            TOP if pick.is_multiple_of(2) => How::BuddyNotNull,
            TOP => How::HasSong,
            MID => How::NoDef,
            SUB | SUB2 | GRAND => How::KeepParents,
            _ => How::Keys,
        },
        _ => How::Keys,
    };
    let all: Vec<i64> = data[root].keys().copied().collect();
    let mut keys: Vec<i64> = all
        .iter()
        .copied()
        .filter(|_| b.next().is_multiple_of(2))
        .collect();
    if keys.is_empty() && !b.next().is_multiple_of(8) {
        keys.extend(all.first());
    }
    // A key that does not exist matches nothing.
    if b.next().is_multiple_of(4) {
        keys.push(99);
    }
    let roots: BTreeSet<i64> = match how {
        How::Keys => keys.iter().copied().filter(|k| all.contains(k)).collect(),
        How::All => all.iter().copied().collect(),
        How::Instance | How::KeepParents => {
            let Some(&k) = all.get(usize::from(b.next()) % all.len().max(1)) else {
                return Ok(());
            };
            keys = vec![k];
            BTreeSet::from([k])
        }
        How::BuddyNotNull => data[TOP]
            .iter()
            .filter(|(_, row)| row[0].is_some())
            .map(|(id, _)| *id)
            .collect(),
        How::HasSong => data[SONG].values().filter_map(|row| row[0]).collect(),
        How::NoDef => data[MID]
            .keys()
            .copied()
            .filter(|id| data[DEF].values().all(|row| row[0] != Some(*id)))
            .collect(),
    };

    let db = Db::open_in_memory().unwrap();
    db.migrate().unwrap();
    load(&db, &data);
    prop_assert_eq!(&read_back(&db), &data, "loaded as generated");

    let hooked: Arc<Mutex<Vec<RowId>>> = Arc::default();
    {
        let h = hooked.clone();
        db.on_post_delete::<Leaf>(move |_, l| {
            h.lock().unwrap().push((LEAF, l.id.unwrap()));
            Ok(())
        });
        let h = hooked.clone();
        db.on_post_delete::<Sub>(move |_, s| {
            h.lock().unwrap().push((SUB, s.base.id.unwrap()));
            Ok(())
        });
    }

    let expected = evaluate(
        &data,
        &roots.iter().map(|k| (root, *k)).collect(),
        matches!(how, How::KeepParents),
    );
    let result = run_delete(&db, root, how, &keys);
    let actual = actual_outcome(&db, result).map_err(TestCaseError::fail)?;
    let context = format!(
        "delete {} {how:?} {keys:?} (roots {roots:?})\ndata: {data:?}",
        meta(root).name
    );
    if std::env::var("DPROP_STATS").is_ok() {
        let kind = match &expected {
            Outcome::Deleted { counts, .. } => format!("Deleted({})", counts.values().sum::<u64>()),
            Outcome::Integrity(k) => format!("Integrity({k:?})"),
            Outcome::Protected(_) => "Protected".into(),
            Outcome::Restricted { .. } => "Restricted".into(),
        };
        eprintln!("STAT {} {how:?} {kind}", meta(root).name);
    }
    prop_assert_eq!(&actual, &expected, "{}", context);
    match &expected {
        Outcome::Deleted { state, .. } => {
            let mut fired = hooked.lock().unwrap().clone();
            fired.sort_unstable();
            let want: Vec<RowId> = (0..MODELS)
                .filter(|m| [LEAF, SUB].contains(m))
                .flat_map(|m| {
                    data[m]
                        .keys()
                        .filter(move |k| !state[m].contains_key(k))
                        .map(move |k| (m, *k))
                })
                .collect();
            prop_assert_eq!(fired, want, "post_delete hooks\n{}", context);
        }
        _ => prop_assert_eq!(&read_back(&db), &data, "nothing written\n{}", context),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        // PROPTEST_CASES=10000 for a longer search.
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(256),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_collector_agrees_with_django_row_by_row(
        counts in proptest::collection::vec(prop_oneof![1 => Just(0u8), 2 => 1u8..=4], MODELS),
        bytes in proptest::collection::vec(any::<u8>(), 400),
        pick in any::<u8>(),
    ) {
        check_case(&counts, &bytes, pick)?;
    }
}
