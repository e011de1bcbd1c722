//! Property test of `filter` / `exclude` against a plain in-Rust evaluator of
//! Django's semantics.
//!
//! Random rows (NULL columns, missing related rows on both sides of a
//! one-to-one) and random `Q` trees (leaves on own columns and across forward,
//! reverse and chained relations, in `Q::kw` and typed form, combined with
//! `&`/`|`/`!` and with explicit `Q::And`/`Q::Or`/`Q::Not` vectors) are run
//! through `all`, `count`, `exists`, `update` and `delete`, and compared with
//! the evaluator.
//!
//! Django's rule, which the evaluator implements: a lookup on a NULL column or
//! across a missing related row is false (`isnull=True` is true there), and
//! NOT is plain negation, so `filter(q)` and `exclude(q)` partition the table
//! (SQL's UNKNOWN never leaks). `Q::All` (Django's `Q()`) is true and an empty
//! `Q::And` is true. Case-insensitive lookups fold ASCII case only, as the ORM
//! documents.
//!
//! An empty `Q::Or` is not generated: the ORM does not agree with itself on
//! it. The renderer treats `Q::Or(vec![])` as always true (as Django's
//! `filter(Q())`), while `|` merges it away as if it were false
//! (`Q::Or(vec![a]) | Q::Or(vec![])` is `Q::Or(vec![a])`), and the doc says
//! "some child holds". Which one is meant is a decision for the library.

use std::collections::BTreeSet;

use orm_core::prelude::*;
use orm_core::Col;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

#[derive(Model, Debug, Clone)]
#[model(app = "fprop")]
pub struct Tag {
    pub id: Option<i64>,
    pub name: Option<String>,
}

#[derive(Model, Debug, Clone)]
#[model(app = "fprop")]
pub struct Item {
    pub id: Option<i64>,
    pub name: String,
    pub note: Option<String>,
    pub n: Option<i64>,
    /// Set by the `update` check only; no filter reads it.
    pub mark: i64,
    /// Forward, nullable: `tag__name` may cross a missing row.
    #[one_to_one(on_delete = "set_null", related_name = "item")]
    pub tag: Option<OneToOne<Tag>>,
}

#[derive(Model, Debug, Clone)]
#[model(app = "fprop")]
pub struct Prof {
    pub id: Option<i64>,
    /// Reverse from Item: `prof__score` may cross a missing row.
    #[one_to_one(on_delete = "cascade", related_name = "prof")]
    pub item: OneToOne<Item>,
    pub score: Option<i64>,
    pub label: Option<String>,
    /// Chains: `prof__tag__name` (reverse, forward) and `tag__prof__score`
    /// (forward, reverse).
    #[one_to_one(on_delete = "set_null", related_name = "prof")]
    pub tag: Option<OneToOne<Tag>>,
}

// ---------------------------------------------------------------------------
// Values, columns, lookups, trees
// ---------------------------------------------------------------------------

/// Texts from a small alphabet, so lookups hit often; LIKE and GLOB
/// wildcards included (they must match literally).
const TEXTS: &[&str] = &[
    "", "a", "A", "ab", "aB", "Ab", "b", "ba", "%", "_", "a%", "a_b", "*", "B",
];

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum V {
    I(i64),
    T(String),
}

impl V {
    fn value(&self) -> Value {
        match self {
            V::I(i) => Value::Integer(*i),
            V::T(s) => Value::Text(s.clone()),
        }
    }
}

fn opt_value(v: &Option<V>) -> Value {
    v.as_ref().map_or(Value::Null, V::value)
}

/// A column reachable from Item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum C {
    Name,
    Note,
    N,
    Id,
    /// `tag_id`
    TagKey,
    /// The reverse related Prof's primary key (`prof`).
    ProfKey,
    ProfScore,
    ProfLabel,
    TagName,
    ProfTagName,
    TagProfScore,
    TagProfItemName,
}

const COLUMNS: &[C] = &[
    C::Name,
    C::Note,
    C::N,
    C::Id,
    C::TagKey,
    C::ProfKey,
    C::ProfScore,
    C::ProfLabel,
    C::TagName,
    C::ProfTagName,
    C::TagProfScore,
    C::TagProfItemName,
];
const NCOLS: usize = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Int,
    Key,
}

impl C {
    fn kind(self) -> Kind {
        match self {
            C::Name | C::Note | C::ProfLabel | C::TagName | C::ProfTagName | C::TagProfItemName => {
                Kind::Text
            }
            C::N | C::ProfScore | C::TagProfScore => Kind::Int,
            C::Id | C::TagKey | C::ProfKey => Kind::Key,
        }
    }

    /// Django lookup path; `alt` picks among equivalent spellings.
    fn path(self, alt: u8) -> &'static str {
        match self {
            C::Name => "name",
            C::Note => "note",
            C::N => "n",
            C::Id => ["id", "pk"][usize::from(alt >> 4) % 2],
            C::TagKey => ["tag", "tag_id", "tag__id"][usize::from(alt >> 4) % 3],
            C::ProfKey => ["prof", "prof__id", "prof__pk"][usize::from(alt >> 4) % 3],
            C::ProfScore => "prof__score",
            C::ProfLabel => "prof__label",
            C::TagName => "tag__name",
            C::ProfTagName => "prof__tag__name",
            C::TagProfScore => "tag__prof__score",
            C::TagProfItemName => "tag__prof__item__name",
        }
    }

    /// The typed column.
    fn col(self) -> Col<Item> {
        let prof = || Prof::item().reverse();
        match self {
            C::Name => Item::name(),
            C::Note => Item::note(),
            C::N => Item::n(),
            C::Id => Item::id(),
            C::TagKey => Item::tag().key(),
            C::ProfKey => prof().key(),
            C::ProfScore => prof().then(Prof::score()),
            C::ProfLabel => prof().then(Prof::label()),
            C::TagName => Item::tag().then(Tag::name()),
            C::ProfTagName => prof().rel(Prof::tag()).then(Tag::name()),
            C::TagProfScore => Item::tag().rel(Prof::tag().reverse()).then(Prof::score()),
            C::TagProfItemName => Item::tag()
                .rel(Prof::tag().reverse())
                .rel(Prof::item())
                .then(Item::name()),
        }
    }

    fn idx(self) -> usize {
        COLUMNS.iter().position(|c| *c == self).expect("listed")
    }
}

#[derive(Debug, Clone, Copy)]
enum Cmp {
    Lt,
    Lte,
    Gt,
    Gte,
}

#[derive(Debug, Clone, Copy)]
enum Str {
    Contains,
    IContains,
    StartsWith,
    IStartsWith,
    EndsWith,
    IEndsWith,
}

#[derive(Debug, Clone)]
enum Op {
    /// `exact` (None: `IS NULL`).
    Eq(Option<V>),
    /// `ne`, `!eq`.
    Ne(Option<V>),
    IExact(String),
    Cmp(Cmp, V),
    In(Vec<V>),
    Range(V, V),
    Str(Str, String),
    IsNull(bool),
}

#[derive(Debug, Clone)]
struct Leaf {
    col: C,
    op: Op,
    /// Typed `Col` API rather than `Q::kw`.
    typed: bool,
    /// Picks among equivalent spellings: bit 0 `x` / `x__exact`, bit 1
    /// `!q` / `Q::Not`, bit 2 `Rel::is_null` / `Rel::eq` for the keys, the
    /// high bits the path (`id` / `pk`, `tag` / `tag_id` / `tag__id`...).
    alt: u8,
}

/// A `Q` tree as data; `explicit` builds the vector constructors (which the
/// renderer must simplify itself) instead of the simplifying operators.
#[derive(Debug, Clone)]
enum Node {
    All,
    Leaf(Leaf),
    And(Vec<Node>, bool),
    Or(Vec<Node>, bool),
    Not(Box<Node>, bool),
}

impl Leaf {
    fn q(&self) -> Q {
        if self.typed {
            self.typed_q()
        } else {
            self.kw_q()
        }
    }

    fn kw_q(&self) -> Q {
        let p = self.col.path(self.alt);
        let exact = |v: &Option<V>| {
            if self.alt & 1 == 0 {
                Q::kw(p, opt_value(v))
            } else {
                Q::kw(&format!("{p}__exact"), opt_value(v))
            }
        };
        match &self.op {
            Op::Eq(v) => exact(v),
            Op::Ne(v) => {
                if self.alt & 2 == 0 {
                    !exact(v)
                } else {
                    Q::Not(Box::new(exact(v)))
                }
            }
            Op::IExact(s) => Q::kw(&format!("{p}__iexact"), s.as_str()),
            Op::Cmp(c, v) => {
                let s = match c {
                    Cmp::Lt => "lt",
                    Cmp::Lte => "lte",
                    Cmp::Gt => "gt",
                    Cmp::Gte => "gte",
                };
                Q::kw(&format!("{p}__{s}"), v.value())
            }
            Op::In(vs) => Q::kw_list(&format!("{p}__in"), vs.iter().map(V::value)),
            Op::Range(a, b) => Q::kw_list(&format!("{p}__range"), [a.value(), b.value()]),
            Op::Str(k, s) => {
                let suffix = match k {
                    Str::Contains => "contains",
                    Str::IContains => "icontains",
                    Str::StartsWith => "startswith",
                    Str::IStartsWith => "istartswith",
                    Str::EndsWith => "endswith",
                    Str::IEndsWith => "iendswith",
                };
                Q::kw(&format!("{p}__{suffix}"), s.as_str())
            }
            Op::IsNull(b) => Q::kw(&format!("{p}__isnull"), *b),
        }
    }

    fn typed_q(&self) -> Q {
        // The relation forms `Rel::is_null` / `Rel::eq` for the keys.
        if self.alt & 4 != 0 {
            match (self.col, &self.op) {
                (C::TagKey, Op::IsNull(b)) => return Item::tag().is_null(*b),
                (C::ProfKey, Op::IsNull(b)) => return Prof::item().reverse().is_null(*b),
                (C::TagKey, Op::Eq(v)) => return Item::tag().eq(opt_value(v)),
                (C::ProfKey, Op::Eq(v)) => return Prof::item().reverse().eq(opt_value(v)),
                _ => {}
            }
        }
        let c = self.col.col();
        match &self.op {
            Op::Eq(v) => c.eq(opt_value(v)),
            Op::Ne(v) => c.ne(opt_value(v)),
            Op::IExact(s) => c.iexact(s.as_str()),
            Op::Cmp(Cmp::Lt, v) => c.lt(v.value()),
            Op::Cmp(Cmp::Lte, v) => c.lte(v.value()),
            Op::Cmp(Cmp::Gt, v) => c.gt(v.value()),
            Op::Cmp(Cmp::Gte, v) => c.gte(v.value()),
            Op::In(vs) => c.is_in(vs.iter().map(V::value)),
            Op::Range(a, b) => c.range(a.value(), b.value()),
            Op::Str(Str::Contains, s) => c.contains(s),
            Op::Str(Str::IContains, s) => c.icontains(s),
            Op::Str(Str::StartsWith, s) => c.starts_with(s),
            Op::Str(Str::IStartsWith, s) => c.istarts_with(s),
            Op::Str(Str::EndsWith, s) => c.ends_with(s),
            Op::Str(Str::IEndsWith, s) => c.iends_with(s),
            Op::IsNull(b) => c.is_null(*b),
        }
    }

    /// Django's semantics on one row: NULL or a missing related row makes
    /// every lookup false except `isnull=True` / `exact=None`.
    fn eval(&self, row: &Row) -> bool {
        let v = &row.vals[self.col.idx()];
        match &self.op {
            Op::IsNull(b) => v.is_none() == *b,
            Op::Eq(None) => v.is_none(),
            Op::Ne(None) => v.is_some(),
            Op::Ne(Some(x)) => v.as_ref() != Some(x),
            _ => {
                let Some(v) = v else { return false };
                match &self.op {
                    Op::Eq(Some(x)) => v == x,
                    Op::Cmp(c, x) => match c {
                        Cmp::Lt => v < x,
                        Cmp::Lte => v <= x,
                        Cmp::Gt => v > x,
                        Cmp::Gte => v >= x,
                    },
                    Op::In(xs) => xs.contains(v),
                    Op::Range(a, b) => a <= v && v <= b,
                    Op::IExact(s) => text_of(v).eq_ignore_ascii_case(s),
                    Op::Str(k, s) => {
                        let t = text_of(v);
                        let (lt, ls) = (t.to_ascii_lowercase(), s.to_ascii_lowercase());
                        match k {
                            Str::Contains => t.contains(s.as_str()),
                            Str::IContains => lt.contains(&ls),
                            Str::StartsWith => t.starts_with(s.as_str()),
                            Str::IStartsWith => lt.starts_with(&ls),
                            Str::EndsWith => t.ends_with(s.as_str()),
                            Str::IEndsWith => lt.ends_with(&ls),
                        }
                    }
                    Op::IsNull(_) | Op::Eq(None) | Op::Ne(_) => unreachable!(),
                }
            }
        }
    }
}

fn text_of(v: &V) -> &str {
    match v {
        V::T(s) => s,
        V::I(_) => panic!("text lookup generated on an integer column"),
    }
}

impl Node {
    fn q(&self) -> Q {
        match self {
            Node::All => Q::All,
            Node::Leaf(l) => l.q(),
            Node::And(cs, true) => Q::And(cs.iter().map(Node::q).collect()),
            Node::Or(cs, true) => Q::Or(cs.iter().map(Node::q).collect()),
            // The operators: an empty list has no operator form.
            Node::And(cs, false) => match cs.split_first() {
                None => Q::And(Vec::new()),
                Some((h, t)) => t.iter().fold(h.q(), |a, c| a & c.q()),
            },
            Node::Or(cs, false) => match cs.split_first() {
                None => unreachable!("empty Q::Or is not generated"),
                Some((h, t)) => t.iter().fold(h.q(), |a, c| a | c.q()),
            },
            Node::Not(c, true) => Q::Not(Box::new(c.q())),
            Node::Not(c, false) => !c.q(),
        }
    }

    fn eval(&self, row: &Row) -> bool {
        match self {
            Node::All => true,
            Node::Leaf(l) => l.eval(row),
            Node::And(cs, _) => cs.iter().all(|c| c.eval(row)),
            Node::Or(cs, _) => {
                assert!(!cs.is_empty(), "empty Q::Or is not generated");
                cs.iter().any(|c| c.eval(row))
            }
            Node::Not(c, _) => !c.eval(row),
        }
    }
}

// ---------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct ProfSpec {
    score: Option<i64>,
    label: Option<String>,
    tag: Option<usize>,
}

#[derive(Debug, Clone)]
struct ItemSpec {
    name: String,
    note: Option<String>,
    n: Option<i64>,
    tag: Option<usize>,
    prof: Option<ProfSpec>,
}

#[derive(Debug, Clone)]
struct Data {
    tags: Vec<Option<String>>,
    items: Vec<ItemSpec>,
}

/// One Item with every column of [`C`] resolved (None: NULL or missing row).
#[derive(Clone)]
struct Row {
    id: i64,
    vals: [Option<V>; NCOLS],
}

impl std::fmt::Debug for Row {
    /// `#1 {Name: T(""), Id: I(1)}`: the non-NULL columns only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{} {{", self.id)?;
        let mut first = true;
        for (c, v) in COLUMNS.iter().zip(&self.vals) {
            if let Some(v) = v {
                let sep = if first { "" } else { ", " };
                write!(f, "{sep}{c:?}: {v:?}")?;
                first = false;
            }
        }
        f.write_str("}")
    }
}

struct Loaded {
    db: Db,
    rows: Vec<Row>,
    /// Item id -> whether it has a Prof (for the cascade count of `delete`).
    has_prof: Vec<(i64, bool)>,
}

fn load(data: &Data) -> Result<Loaded> {
    let db = Db::open_in_memory()?;
    db.migrate()?;
    let mut tags = Vec::new();
    for name in &data.tags {
        tags.push(
            Tag {
                id: None,
                name: name.clone(),
            }
            .create(&db)?,
        );
    }
    let mut items = Vec::new();
    let mut profs = Vec::new();
    for spec in &data.items {
        let item = Item {
            id: None,
            name: spec.name.clone(),
            note: spec.note.clone(),
            n: spec.n,
            mark: 0,
            tag: spec.tag.map(|t| OneToOne::to(&tags[t])),
        }
        .create(&db)?;
        let prof = match &spec.prof {
            Some(p) => Some(
                Prof {
                    id: None,
                    item: OneToOne::to(&item),
                    score: p.score,
                    label: p.label.clone(),
                    tag: p.tag.map(|t| OneToOne::to(&tags[t])),
                }
                .create(&db)?,
            ),
            None => None,
        };
        items.push(item);
        profs.push(prof);
    }
    let tag_name =
        |t: Option<usize>| -> Option<V> { t.and_then(|t| data.tags[t].clone()).map(V::T) };
    let mut rows = Vec::new();
    for (i, spec) in data.items.iter().enumerate() {
        let prof = spec.prof.as_ref();
        // The Prof whose tag is this item's tag, and its item.
        let tag_prof = spec.tag.and_then(|t| {
            data.items
                .iter()
                .position(|s| s.prof.as_ref().is_some_and(|p| p.tag == Some(t)))
        });
        let tp = tag_prof.and_then(|j| data.items[j].prof.as_ref());
        let key = |v: Option<i64>| v.map(V::I);
        let mut vals: [Option<V>; NCOLS] = Default::default();
        vals[C::Name.idx()] = Some(V::T(spec.name.clone()));
        vals[C::Note.idx()] = spec.note.clone().map(V::T);
        vals[C::N.idx()] = spec.n.map(V::I);
        vals[C::Id.idx()] = key(items[i].id);
        vals[C::TagKey.idx()] = key(spec.tag.and_then(|t| tags[t].id));
        vals[C::ProfKey.idx()] = key(profs[i].as_ref().and_then(|p| p.id));
        vals[C::ProfScore.idx()] = prof.and_then(|p| p.score).map(V::I);
        vals[C::ProfLabel.idx()] = prof.and_then(|p| p.label.clone()).map(V::T);
        vals[C::TagName.idx()] = tag_name(spec.tag);
        vals[C::ProfTagName.idx()] = tag_name(prof.and_then(|p| p.tag));
        vals[C::TagProfScore.idx()] = tp.and_then(|p| p.score).map(V::I);
        vals[C::TagProfItemName.idx()] = tag_prof.map(|j| V::T(data.items[j].name.clone()));
        rows.push(Row {
            id: items[i].id.expect("saved"),
            vals,
        });
    }
    let has_prof = rows
        .iter()
        .zip(&profs)
        .map(|(r, p)| (r.id, p.is_some()))
        .collect();
    Ok(Loaded { db, rows, has_prof })
}

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

fn text() -> impl Strategy<Value = String> {
    prop::sample::select(TEXTS).prop_map(String::from)
}

fn int() -> impl Strategy<Value = i64> {
    -1i64..=3
}

fn data() -> impl Strategy<Value = Data> {
    let tags = prop::collection::vec(prop::option::of(text()), 0..=4);
    let prof = (
        prop::option::of(int()),
        prop::option::of(text()),
        prop::option::of(0usize..4),
    )
        .prop_map(|(score, label, tag)| ProfSpec { score, label, tag });
    let item = (
        text(),
        prop::option::of(text()),
        prop::option::of(int()),
        prop::option::of(0usize..4),
        prop::option::of(prof),
    )
        .prop_map(|(name, note, n, tag, prof)| ItemSpec {
            name,
            note,
            n,
            tag,
            prof,
        });
    (tags, prop::collection::vec(item, 0..=12)).prop_map(|(tags, mut items)| {
        // One-to-one: each tag is pointed at by at most one Item and at most
        // one Prof; indexes past the tags are no tag.
        let (mut by_item, mut by_prof) = (BTreeSet::new(), BTreeSet::new());
        for it in &mut items {
            it.tag = it.tag.filter(|t| *t < tags.len() && by_item.insert(*t));
            if let Some(p) = &mut it.prof {
                p.tag = p.tag.filter(|t| *t < tags.len() && by_prof.insert(*t));
            }
        }
        Data { tags, items }
    })
}

fn value_of(kind: Kind) -> BoxedStrategy<V> {
    match kind {
        Kind::Text => text().prop_map(V::T).boxed(),
        Kind::Int => int().prop_map(V::I).boxed(),
        Kind::Key => (0i64..=6).prop_map(V::I).boxed(),
    }
}

fn op_of(kind: Kind) -> BoxedStrategy<Op> {
    let v = || value_of(kind);
    let common = prop_oneof![
        prop::option::of(v()).prop_map(Op::Eq),
        prop::option::of(v()).prop_map(Op::Ne),
        (
            prop::sample::select(vec![Cmp::Lt, Cmp::Lte, Cmp::Gt, Cmp::Gte]),
            v()
        )
            .prop_map(|(c, x)| Op::Cmp(c, x)),
        prop::collection::vec(v(), 0..4).prop_map(Op::In),
        (v(), v()).prop_map(|(a, b)| Op::Range(a, b)),
        any::<bool>().prop_map(Op::IsNull),
    ];
    if kind != Kind::Text {
        return common.boxed();
    }
    let kinds = vec![
        Str::Contains,
        Str::IContains,
        Str::StartsWith,
        Str::IStartsWith,
        Str::EndsWith,
        Str::IEndsWith,
    ];
    prop_oneof![
        3 => common,
        1 => text().prop_map(Op::IExact),
        2 => (prop::sample::select(kinds), text()).prop_map(|(k, s)| Op::Str(k, s)),
    ]
    .boxed()
}

fn leaf() -> impl Strategy<Value = Leaf> {
    // One op per kind, the column picks: no flat_map, so shrinking stays exact.
    (
        prop::sample::select(COLUMNS),
        op_of(Kind::Text),
        op_of(Kind::Int),
        op_of(Kind::Key),
        any::<bool>(),
        any::<u8>(),
    )
        .prop_map(|(col, text, int, key, typed, alt)| Leaf {
            col,
            op: match col.kind() {
                Kind::Text => text,
                Kind::Int => int,
                Kind::Key => key,
            },
            typed,
            alt,
        })
}

fn tree() -> impl Strategy<Value = Node> {
    tree_at(5)
}

/// Trees up to `depth` levels: branches are likelier than leaves near the
/// root (a `prop_recursive` tree is mostly a single leaf), and shrinking
/// moves towards a leaf (the first alternative). `Q::Or` vectors are never
/// empty: see the module comment.
fn tree_at(depth: u32) -> BoxedStrategy<Node> {
    let leafish = prop_oneof![
        8 => leaf().prop_map(Node::Leaf),
        1 => Just(Node::All),
    ];
    if depth == 0 {
        return leafish.boxed();
    }
    let inner = tree_at(depth - 1);
    prop_oneof![
        3 => leafish,
        3 => (prop::collection::vec(inner.clone(), 0..4), any::<bool>())
            .prop_map(|(cs, e)| Node::And(cs, e)),
        3 => (prop::collection::vec(inner.clone(), 1..4), any::<bool>())
            .prop_map(|(cs, e)| Node::Or(cs, e)),
        2 => (inner, any::<bool>()).prop_map(|(c, e)| Node::Not(Box::new(c), e)),
    ]
    .boxed()
}

// ---------------------------------------------------------------------------
// The property
// ---------------------------------------------------------------------------

fn fail(msg: String) -> TestCaseError {
    TestCaseError::fail(msg)
}

fn ids(items: &[Item]) -> BTreeSet<i64> {
    items.iter().map(|i| i.id.expect("loaded")).collect()
}

/// Each rendered statement binds exactly one value per placeholder (values
/// never enter the text and identifiers hold no `?`).
fn placeholders_match(qs: &QuerySet<Item>, what: &str) -> std::result::Result<(), TestCaseError> {
    let (sql, params) = qs
        .to_sql()
        .map_err(|e| fail(format!("{what}: to_sql failed: {e}")))?;
    let marks = sql.matches('?').count();
    if marks != params.len() {
        return Err(fail(format!(
            "{what}: {marks} placeholders but {} values\n  sql: {sql}\n  params: {params:?}",
            params.len()
        )));
    }
    Ok(())
}

fn check(data: &Data, node: &Node, also: &Node) -> std::result::Result<(), TestCaseError> {
    let loaded = load(data).map_err(|e| fail(format!("seeding: {e}")))?;
    let db = &loaded.db;
    let q = node.q();
    let every: BTreeSet<i64> = loaded.rows.iter().map(|r| r.id).collect();
    let want: BTreeSet<i64> = loaded
        .rows
        .iter()
        .filter(|r| node.eval(r))
        .map(|r| r.id)
        .collect();
    let want_out: BTreeSet<i64> = every.difference(&want).copied().collect();
    let filtered = Item::objects().filter(q.clone());
    let excluded = Item::objects().exclude(q.clone());
    let sql = |qs: &QuerySet<Item>| qs.to_sql().map(|(s, p)| format!("{s}\n  params: {p:?}"));
    let ctx = || {
        format!(
            "\n  tree: {node:?}\n  q: {q:?}\n  filter sql: {:?}\n  exclude sql: {:?}\n  rows: {:?}",
            sql(&filtered),
            sql(&excluded),
            loaded.rows
        )
    };
    placeholders_match(&filtered, "filter")?;
    placeholders_match(&excluded, "exclude")?;

    let run = |qs: &QuerySet<Item>, what: &str| {
        qs.all(db)
            .map(|v| ids(&v))
            .map_err(|e| fail(format!("{what}.all() failed: {e}{}", ctx())))
    };
    let got = run(&filtered, "filter")?;
    let got_out = run(&excluded, "exclude")?;
    if got != want {
        return Err(fail(format!(
            "filter(q): got {got:?}, Django gives {want:?}{}",
            ctx()
        )));
    }
    if got_out != want_out {
        return Err(fail(format!(
            "exclude(q): got {got_out:?}, Django gives {want_out:?}{}",
            ctx()
        )));
    }
    // Implied by the two above; stated as the partition the brief is about.
    prop_assert!(got.is_disjoint(&got_out));
    prop_assert_eq!(
        got.union(&got_out).copied().collect::<BTreeSet<_>>(),
        every.clone()
    );

    let count = |qs: &QuerySet<Item>, what: &str| {
        qs.count(db)
            .map_err(|e| fail(format!("{what}.count() failed: {e}{}", ctx())))
    };
    let exists = |qs: &QuerySet<Item>, what: &str| {
        qs.exists(db)
            .map_err(|e| fail(format!("{what}.exists() failed: {e}{}", ctx())))
    };
    prop_assert_eq!(
        count(&filtered, "filter")?,
        want.len() as u64,
        "filter count{}",
        ctx()
    );
    prop_assert_eq!(
        count(&excluded, "exclude")?,
        want_out.len() as u64,
        "exclude count{}",
        ctx()
    );
    prop_assert_eq!(
        exists(&filtered, "filter")?,
        !want.is_empty(),
        "filter exists{}",
        ctx()
    );
    prop_assert_eq!(
        exists(&excluded, "exclude")?,
        !want_out.is_empty(),
        "exclude exists{}",
        ctx()
    );

    // Chained: filter(q).exclude(also) is q AND NOT also.
    let chained = Item::objects().filter(q.clone()).exclude(also.q());
    placeholders_match(&chained, "filter().exclude()")?;
    let want_chained: BTreeSet<i64> = loaded
        .rows
        .iter()
        .filter(|r| node.eval(r) && !also.eval(r))
        .map(|r| r.id)
        .collect();
    let got_chained = run(&chained, "filter().exclude()")?;
    prop_assert_eq!(
        &got_chained,
        &want_chained,
        "filter(q).exclude(also)\n  also tree: {:?}\n  also: {:?}\n  sql: {:?}{}",
        also,
        also.q(),
        sql(&chained),
        ctx()
    );

    // update: the rows it sets are the filtered rows.
    let matched = filtered
        .update(db, vec![(Item::mark(), Value::Integer(1))])
        .map_err(|e| fail(format!("update failed: {e}{}", ctx())))?;
    prop_assert_eq!(matched, want.len() as u64, "update count{}", ctx());
    let marked = Item::objects()
        .filter(Item::mark().eq(1))
        .all(db)
        .map_err(|e| fail(format!("reading marks: {e}")))?;
    prop_assert_eq!(&ids(&marked), &want, "rows updated{}", ctx());

    // delete (last: it changes the data): exclude(q).delete() leaves filter(q).
    let deleted = excluded
        .delete(db)
        .map_err(|e| fail(format!("delete failed: {e}{}", ctx())))?;
    prop_assert_eq!(
        deleted.count("fprop.Item"),
        want_out.len() as u64,
        "items deleted{}",
        ctx()
    );
    let profs_out = loaded
        .has_prof
        .iter()
        .filter(|(id, p)| *p && want_out.contains(id))
        .count() as u64;
    prop_assert_eq!(
        deleted.count("fprop.Prof"),
        profs_out,
        "profs cascaded{}",
        ctx()
    );
    let left = Item::objects()
        .all(db)
        .map_err(|e| fail(format!("reading after delete: {e}")))?;
    prop_assert_eq!(
        &ids(&left),
        &want,
        "rows left after exclude(q).delete(){}",
        ctx()
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        // PROPTEST_CASES=20000 for a longer run.
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(200),
        // The known failures are pinned by the plain tests below; no
        // regression files in the tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn filter_and_exclude_follow_django(data in data(), node in tree(), also in tree()) {
        check(&data, &node, &also)?;
    }
}

// ---------------------------------------------------------------------------
// The known cases, pinned
// ---------------------------------------------------------------------------

fn item(db: &Db, name: &str, note: Option<&str>) -> Result<Item> {
    Item {
        id: None,
        name: name.into(),
        note: note.map(Into::into),
        n: None,
        mark: 0,
        tag: None,
    }
    .create(db)
}

fn setup() -> Result<Db> {
    let db = Db::open_in_memory()?;
    db.migrate()?;
    Ok(db)
}

fn names(mut items: Vec<Item>) -> Vec<String> {
    items.sort_by_key(|i| i.id);
    items.into_iter().map(|i| i.name).collect()
}

/// `exclude(note="")` keeps a NULL note; so do `ne` and `!`.
#[test]
fn exclude_keeps_rows_whose_column_is_null() -> Result<()> {
    let db = setup()?;
    item(&db, "empty", Some(""))?;
    item(&db, "null", None)?;
    item(&db, "a", Some("a"))?;
    let want = ["null", "a"];
    assert_eq!(
        names(Item::objects().exclude(Q::kw("note", "")).all(&db)?),
        want
    );
    assert_eq!(
        names(Item::objects().filter(Item::note().ne("")).all(&db)?),
        want
    );
    assert_eq!(
        names(Item::objects().filter(!Item::note().eq("")).all(&db)?),
        want
    );
    assert_eq!(Item::objects().exclude(Q::kw("note", "")).count(&db)?, 2);
    Ok(())
}

/// `exclude(prof__score=0)` keeps an item with no prof (and one whose prof
/// has a NULL score).
#[test]
fn exclude_keeps_rows_whose_related_row_is_missing() -> Result<()> {
    let db = setup()?;
    let zero = item(&db, "zero", None)?;
    let one = item(&db, "one", None)?;
    let null = item(&db, "null", None)?;
    item(&db, "none", None)?;
    for (it, score) in [(&zero, Some(0)), (&one, Some(1)), (&null, None)] {
        Prof {
            id: None,
            item: OneToOne::to(it),
            score,
            label: None,
            tag: None,
        }
        .create(&db)?;
    }
    let want = ["one", "null", "none"];
    assert_eq!(
        names(Item::objects().exclude(Q::kw("prof__score", 0)).all(&db)?),
        want
    );
    let score = Prof::item().reverse().then(Prof::score());
    assert_eq!(names(Item::objects().filter(score.ne(0)).all(&db)?), want);
    assert_eq!(
        Item::objects()
            .exclude(Q::kw("prof__score", 0))
            .count(&db)?,
        3
    );
    // Forward side: a missing tag is not a tag named "a".
    assert_eq!(
        Item::objects()
            .exclude(Q::kw("tag__name", "a"))
            .count(&db)?,
        4
    );
    Ok(())
}

/// A subtree that simplifies away takes its values with it:
/// `(name="zzz" | Q()) & name="a"` is `name="a"`, one placeholder, one value.
#[test]
fn pruned_subtree_drops_its_values() -> Result<()> {
    let db = setup()?;
    item(&db, "a", None)?;
    item(&db, "b", None)?;
    let q = Q::And(vec![
        Q::Or(vec![Q::kw("name", "zzz"), Q::All]),
        Q::kw("name", "a"),
    ]);
    let (sql, params) = Item::objects().filter(q.clone()).to_sql()?;
    assert_eq!(sql.matches('?').count(), params.len(), "{sql} {params:?}");
    assert_eq!(params, vec![Value::Text("a".into())]);
    assert_eq!(names(Item::objects().filter(q.clone()).all(&db)?), ["a"]);
    assert_eq!(names(Item::objects().exclude(q.clone()).all(&db)?), ["b"]);
    // The same under NOT: `!(name="zzz" | Q())` matches nothing, with no value.
    let q = Q::Not(Box::new(Q::Or(vec![Q::kw("name", "zzz"), Q::All])));
    let (sql, params) = Item::objects().filter(q.clone()).to_sql()?;
    assert_eq!(sql.matches('?').count(), params.len(), "{sql} {params:?}");
    assert_eq!(Item::objects().filter(q).count(&db)?, 0);
    Ok(())
}
