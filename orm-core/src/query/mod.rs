//! Queries as plain data: paths through relations, lookups, `Q` trees, and the
//! [`QuerySet`] builder. Rendering to SQL lives in the `sql` layer
//! ([`QuerySet::to_sql`] shows it).

pub(crate) mod resolve;

use std::marker::PhantomData;
use std::ops::{BitAnd, BitOr, Not};

use rusqlite::types::{Value, ValueRef};

use crate::meta::types::{ColumnType, ToValue};

use crate::error::{Error, Result};
use crate::meta::registry::{registry, ReverseRelation};
use crate::meta::Metadata;
use crate::meta::{FieldMeta, ModelMeta, RelationMeta};

/// Converts a value into an owned [`Value`]; a value that cannot be stored
/// exactly (an unsigned integer beyond `i64`, a NaN, a user type refusing)
/// is an error message, never NULL.
pub(crate) fn try_value<T: ToValue + ?Sized>(v: &T) -> std::result::Result<Value, String> {
    v.to_value()
}

/// The right-hand side of a lookup from one value.
fn rhs_of<T: ToValue + ?Sized>(v: &T) -> Rhs {
    match try_value(v) {
        Ok(Value::Text(t)) if v.__is_json() => Rhs::Json(t),
        Ok(v) => Rhs::Value(v),
        Err(reason) => Rhs::Invalid {
            value: "the value given".into(),
            reason,
        },
    }
}

/// The right-hand side of a lookup from a list of values.
fn rhs_list<T: ToValue>(values: impl IntoIterator<Item = T>) -> Rhs {
    let mut list = Vec::new();
    for (i, v) in values.into_iter().enumerate() {
        match try_value(&v) {
            Ok(v) => list.push(v),
            Err(reason) => {
                return Rhs::Invalid {
                    value: format!("item {i} of the list"),
                    reason,
                }
            }
        }
    }
    Rhs::List(list)
}

/// How deeply `Q` trees may nest (`&`, `|` and `!` of differing kinds). Deeper
/// trees are an [`Error::Limit`] when the query runs: SQLite refuses
/// expressions nested beyond 1,000 levels, and the renderer recurses.
pub const MAX_Q_DEPTH: usize = 200;

/// Fails with [`Error::Limit`] when `q` nests deeper than [`MAX_Q_DEPTH`]
/// (measured without recursion).
pub(crate) fn check_depth(q: &Q) -> Result<()> {
    let mut stack = vec![(q, 1usize)];
    while let Some((q, d)) = stack.pop() {
        if d > MAX_Q_DEPTH {
            return Err(Error::Limit {
                message: format!(
                    "Q tree nested more than {MAX_Q_DEPTH} levels deep; \
                     combine long chains of the same operator (they stay flat) \
                     or use is_in for many alternatives"
                ),
            });
        }
        match q {
            Q::And(c) | Q::Or(c) => stack.extend(c.iter().map(|c| (c, d + 1))),
            Q::Not(c) => stack.push((c, d + 1)),
            Q::All | Q::Leaf(_) => {}
        }
    }
    Ok(())
}

/// An owned copy of a borrowed SQLite value (invalid UTF-8 text kept as a blob).
pub(crate) fn value_of_ref(r: ValueRef<'_>) -> Value {
    crate::meta::types::owned(r)
}

/// One hop of a [`Path`]. Built by the crate only (lookups, typed
/// accessors), so every hop is a real relation.
#[derive(Debug, Clone, Copy)]
pub enum Step {
    /// Follow a one-to-one field declared on the current model (or the
    /// ancestor at `depth`) to its target.
    #[non_exhaustive]
    Forward {
        /// Ancestor depth of the model that declares the field.
        depth: usize,
        /// The relation field.
        field: &'static FieldMeta,
        /// Its relation.
        rel: &'static RelationMeta,
    },
    /// Follow a reverse one-to-one from the current model (or the ancestor at
    /// `depth`) to the model that declares it.
    #[non_exhaustive]
    Reverse {
        /// Ancestor depth of the model the relation points at.
        depth: usize,
        /// The relation.
        rel: ReverseRelation,
    },
}

impl Step {
    /// The model reached by this step.
    pub fn target(&self) -> &'static ModelMeta {
        match self {
            Step::Forward { rel, .. } => (rel.target)(),
            Step::Reverse { rel, .. } => rel.source,
        }
    }

    /// True when the row reached may be missing (nullable forward, or reverse).
    pub fn nullable(&self) -> bool {
        match self {
            Step::Forward { field, .. } => field.null,
            Step::Reverse { .. } => true,
        }
    }

    pub(crate) fn same(&self, other: &Step) -> bool {
        match (self, other) {
            (
                Step::Forward {
                    depth: a, field: f, ..
                },
                Step::Forward {
                    depth: b, field: g, ..
                },
            ) => a == b && std::ptr::eq(*f, *g),
            (
                Step::Reverse {
                    depth: a, rel: r, ..
                },
                Step::Reverse {
                    depth: b, rel: s, ..
                },
            ) => a == b && std::ptr::eq(r.rel, s.rel),
            _ => false,
        }
    }

    /// The name of this hop in a lookup string.
    pub fn name(&self) -> &'static str {
        match self {
            Step::Forward { field, .. } => field.name,
            Step::Reverse { rel, .. } => rel.query_name(),
        }
    }
}

/// A chain of one-to-one hops from a root model.
#[derive(Debug, Clone)]
pub struct Path {
    /// The model the path starts from.
    pub root: &'static ModelMeta,
    /// The hops.
    pub steps: Vec<Step>,
}

impl Path {
    /// The model at the end of the path.
    pub fn end(&self) -> &'static ModelMeta {
        self.steps.last().map(Step::target).unwrap_or(self.root)
    }

    /// Resolves Django's `a__b__c` relation names from `root`.
    ///
    /// # Errors
    ///
    /// [`Error::Field`] naming the bad part and the valid choices.
    pub fn parse(root: &'static ModelMeta, names: &str) -> Result<Path> {
        Self::parse_for(root, names, "select_related")
    }

    /// [`Path::parse`] with the name of the method in the message.
    pub(crate) fn parse_for(root: &'static ModelMeta, names: &str, method: &str) -> Result<Path> {
        let mut path = Path {
            root,
            steps: Vec::new(),
        };
        for name in names.split("__") {
            let at = path.end();
            let choices = || {
                let c = relation_choices(at);
                match c.is_empty() {
                    true => "(none)".to_string(),
                    false => c.join(", "),
                }
            };
            match resolve_name(at, name) {
                Some(Resolved::Step(s)) => path.steps.push(s),
                // Django's two messages: a field that is not a relation, and
                // a name that is not a field.
                Some(Resolved::Field(_, f)) if method == "select_related" && f.name == name => {
                    return Err(Error::Field {
                        message: format!(
                            "Non-relational field given in select_related: '{}'. Choices are: {}",
                            f.name,
                            choices()
                        ),
                    })
                }
                _ => {
                    return Err(Error::Field {
                        message: format!(
                            "Invalid field name(s) given in {method}: '{name}'. Choices are: {}",
                            choices()
                        ),
                    })
                }
            }
        }
        Ok(path)
    }
}

/// What a name means on a model.
pub(crate) enum Resolved {
    Step(Step),
    Field(usize, &'static FieldMeta),
}

/// A name on `model`: a field of it or an ancestor, a relation, or a reverse
/// relation by query name.
pub(crate) fn resolve_name(model: &'static ModelMeta, name: &str) -> Option<Resolved> {
    for (depth, m) in model.chain().enumerate() {
        for f in m.fields.iter() {
            if f.name == name {
                if let Some(rel) = f.relation {
                    return Some(Resolved::Step(Step::Forward {
                        depth,
                        field: f,
                        rel,
                    }));
                }
                return Some(Resolved::Field(depth, f));
            }
            if f.column == name && f.column != f.name {
                return Some(Resolved::Field(depth, f));
            }
        }
    }
    if name == "pk" {
        return Some(Resolved::Field(0, model.pk_field()));
    }
    registry()
        .reverse_by_query_name(model, name)
        .map(|(depth, rel)| Resolved::Step(Step::Reverse { depth, rel }))
}

/// Relation names usable from `model`, as listed in Django's `FieldError`.
pub(crate) fn relation_choices(model: &'static ModelMeta) -> Vec<&'static str> {
    let mut out = Vec::new();
    for m in model.chain() {
        for (f, _) in m.relations() {
            out.push(f.name);
        }
    }
    for (d, m) in model.chain().enumerate() {
        for r in registry().reverse_of(m) {
            if !r.is_hidden() && (d == 0 || !r.rel.parent_link) {
                out.push(r.query_name());
            }
        }
    }
    out
}

/// Names usable in a lookup from `model`, sorted, as listed in Django's
/// "Cannot resolve keyword" `FieldError`: every field of the model and its
/// ancestors, a relation's attname too (`chef_id`, `place_ptr_id`), and the
/// reverse relations.
fn field_choices(model: &'static ModelMeta) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in model.chain() {
        for f in m.fields.iter() {
            out.push(f.name.to_string());
            if f.relation.is_some() {
                out.push(format!("{}_id", f.name));
            }
        }
    }
    out.extend(relation_choices(model).into_iter().map(str::to_string));
    out.sort_unstable();
    out.dedup();
    out
}

/// Django's name for the class of a plain field, for messages.
fn django_field_class(f: &FieldMeta) -> &'static str {
    if f.auto {
        if f.rel_db_type == "bigint" {
            "BigAutoField"
        } else {
            "AutoField"
        }
    } else if f.ty == ColumnType::Text && f.max_length.is_some() {
        "CharField"
    } else {
        f.ty.django_class()
    }
}

/// The column a lookup compares.
#[non_exhaustive]
#[derive(Debug, Clone)]
pub enum Target {
    /// A resolved column at the end of a path.
    Column {
        /// The relation hops.
        path: Path,
        /// Ancestor depth of the table holding the column.
        depth: usize,
        /// The column.
        field: &'static FieldMeta,
    },
    /// A Django lookup string (`profile__bio`), resolved against the queried model.
    Named(String),
    /// A transform of another target (`Event::day().year()`).
    Transformed(Box<Target>, Transform),
}

/// `depth + up`: the depth of an ancestor of `model`, `up` levels further
/// (a column or hop of an ancestor used on a multi-table child). [`Path`],
/// [`Step`] and [`Target`] have public fields, so a hand-built depth can be
/// anything: one beyond `model`'s chain (or overflowing, which panicked in
/// debug builds) is an [`Error::Field`].
fn ancestor_depth(model: &'static ModelMeta, depth: usize, up: usize) -> Result<usize> {
    depth
        .checked_add(up)
        .filter(|&d| model.chain().nth(d).is_some())
        .ok_or_else(|| Error::Field {
            message: format!(
                "ancestor depth {depth} (+{up}) out of range for {}, which has {} level(s)",
                model.name,
                model.chain().count()
            ),
        })
}

impl Target {
    /// A column of `model`'s own table.
    pub(crate) fn own(model: &'static ModelMeta, field: &'static FieldMeta) -> Target {
        Target::Column {
            path: Path {
                root: model,
                steps: Vec::new(),
            },
            depth: 0,
            field,
        }
    }

    /// Resolves the target against `root`: a column, with no transform.
    pub(crate) fn resolve(
        &self,
        root: &'static ModelMeta,
    ) -> Result<(Path, usize, &'static FieldMeta)> {
        let (path, depth, field, transforms) = self.resolve_with(root)?;
        if let Some(t) = transforms.first() {
            return Err(Error::Field {
                message: format!(
                    "the transform {t:?} of {} can only be used in a filter",
                    field.name
                ),
            });
        }
        Ok((path, depth, field))
    }

    /// Resolves the target against `root`: a column and the transforms
    /// applied to it, in order.
    pub(crate) fn resolve_with(
        &self,
        root: &'static ModelMeta,
    ) -> Result<(Path, usize, &'static FieldMeta, Vec<Transform>)> {
        match self {
            Target::Transformed(inner, t) => {
                let (path, depth, field, mut ts) = inner.resolve_with(root)?;
                let ty = ts.iter().fold(field.ty, |ty, t| t.output(ty));
                let ok = match t {
                    Transform::Key(_) => ty == ColumnType::Json,
                    t => Transform::parse(ty, t.name()).as_ref() == Some(t),
                };
                if !ok {
                    return Err(Error::Field {
                        message: format!(
                            "Unsupported lookup '{}' for {}",
                            t.name(),
                            django_field_class(field)
                        ),
                    });
                }
                Transform::push(&mut ts, t.clone());
                Ok((path, depth, field, ts))
            }
            other => other.resolve_column(root),
        }
    }

    fn resolve_column(
        &self,
        root: &'static ModelMeta,
    ) -> Result<(Path, usize, &'static FieldMeta, Vec<Transform>)> {
        match self {
            Target::Transformed(..) => self.resolve_with(root),
            Target::Column { path, depth, field } => {
                // A column of an ancestor model works on a multi-table child:
                // its depth grows by the distance between the two.
                let Some(up) = root.chain().position(|m| m.same_concrete(path.root)) else {
                    return Err(Error::Field {
                        message: format!(
                            "Lookup on {}.{} used in a query on {}",
                            path.root.name, field.name, root.name
                        ),
                    });
                };
                let mut path = path.clone();
                path.root = root;
                match path.steps.first_mut() {
                    Some(Step::Forward { depth, .. } | Step::Reverse { depth, .. }) => {
                        *depth = ancestor_depth(root, *depth, up)?
                    }
                    None => {
                        return Ok((path, ancestor_depth(root, *depth, up)?, field, Vec::new()))
                    }
                }
                let depth = ancestor_depth(path.end(), *depth, 0)?;
                Ok((path, depth, field, Vec::new()))
            }
            Target::Named(name) => {
                let mut path = Path {
                    root,
                    steps: Vec::new(),
                };
                let parts: Vec<&str> = name.split("__").collect();
                for (i, part) in parts.iter().enumerate() {
                    let at = path.end();
                    let last = i + 1 == parts.len();
                    match resolve_name(at, part) {
                        Some(Resolved::Field(depth, f)) if last => {
                            return Ok((path, depth, f, Vec::new()))
                        }
                        Some(Resolved::Field(depth, f)) => {
                            // Django: the parts after a plain field are
                            // transforms (`year`, a JSON key), else an error.
                            let mut ts = Vec::new();
                            let mut ty = f.ty;
                            for part in &parts[i + 1..] {
                                match Transform::parse(ty, part) {
                                    Some(t) => {
                                        ty = t.output(ty);
                                        Transform::push(&mut ts, t);
                                    }
                                    None => {
                                        ts.clear();
                                        break;
                                    }
                                }
                            }
                            if !ts.is_empty() {
                                return Ok((path, depth, f, ts));
                            }
                            // (Not `last`, so `i + 1 < parts.len()`.)
                            return Err(Error::Field {
                                message: format!(
                                    "Unsupported lookup '{}' for {} or join on the field not permitted.",
                                    parts[i + 1..].join("__"),
                                    django_field_class(f)
                                ),
                            });
                        }
                        Some(Resolved::Step(step)) => {
                            if last {
                                // A relation used as a value: forward compares the key
                                // column, reverse compares the related primary key.
                                return Ok(match step {
                                    Step::Forward { depth, field, .. } => {
                                        (path, depth, field, Vec::new())
                                    }
                                    Step::Reverse { .. } => {
                                        path.steps.push(step);
                                        let end = path.end();
                                        (path, 0, end.pk_field(), Vec::new())
                                    }
                                });
                            }
                            path.steps.push(step);
                        }
                        _ => {
                            return Err(Error::Field {
                                message: format!(
                                    "Cannot resolve keyword '{part}' into field. Choices are: {}",
                                    field_choices(at).join(", ")
                                ),
                            })
                        }
                    }
                }
                Err(Error::Field {
                    message: format!("Empty lookup on {}", root.name),
                })
            }
        }
    }
}

/// A comparison operator (Django's lookups).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `exact` (`= ?`, or `IS NULL` for a NULL value)
    Exact,
    /// `iexact`
    IExact,
    /// `lt`
    Lt,
    /// `lte`
    Lte,
    /// `gt`
    Gt,
    /// `gte`
    Gte,
    /// `in`
    In,
    /// `contains` (case-sensitive)
    Contains,
    /// `icontains`
    IContains,
    /// `startswith` (case-sensitive)
    StartsWith,
    /// `istartswith`
    IStartsWith,
    /// `endswith` (case-sensitive)
    EndsWith,
    /// `iendswith`
    IEndsWith,
    /// `isnull`
    IsNull,
    /// `range` (inclusive)
    Range,
    /// `has_key` (JSON): the key is present.
    HasKey,
}

impl Op {
    fn from_suffix(s: &str) -> Option<Op> {
        Some(match s {
            "exact" => Op::Exact,
            "iexact" => Op::IExact,
            "lt" => Op::Lt,
            "lte" => Op::Lte,
            "gt" => Op::Gt,
            "gte" => Op::Gte,
            "in" => Op::In,
            "contains" => Op::Contains,
            "icontains" => Op::IContains,
            "startswith" => Op::StartsWith,
            "istartswith" => Op::IStartsWith,
            "endswith" => Op::EndsWith,
            "iendswith" => Op::IEndsWith,
            "isnull" => Op::IsNull,
            "range" => Op::Range,
            "has_key" => Op::HasKey,
            _ => return None,
        })
    }
}

/// A transform applied to a column before the lookup compares it (Django's
/// `pub_date__year`, `data__owner__name`).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transform {
    /// The year of a date or date-time.
    Year,
    /// The quarter, 1 to 4.
    Quarter,
    /// The month, 1 to 12.
    Month,
    /// The day of the month.
    Day,
    /// Django's `week_day`: 1 (Sunday) to 7 (Saturday).
    WeekDay,
    /// Django's `iso_week_day`: 1 (Monday) to 7 (Sunday).
    IsoWeekDay,
    /// The hour of a date-time or time.
    Hour,
    /// The minute.
    Minute,
    /// The second.
    Second,
    /// The date part of a date-time.
    Date,
    /// The time part of a date-time.
    Time,
    /// A key path into a JSON value (`data__owner__name`; a number indexes
    /// an array).
    Key(Vec<String>),
}

impl Transform {
    /// The transform a lookup part names on a column of type `ty`.
    fn parse(ty: ColumnType, part: &str) -> Option<Transform> {
        use ColumnType as C;
        let date = matches!(ty, C::Date | C::DateTime | C::DateTimeTz);
        let datetime = matches!(ty, C::DateTime | C::DateTimeTz);
        let time = datetime || ty == C::Time;
        Some(match part {
            "year" if date => Transform::Year,
            "quarter" if date => Transform::Quarter,
            "month" if date => Transform::Month,
            "day" if date => Transform::Day,
            "week_day" if date => Transform::WeekDay,
            "iso_week_day" if date => Transform::IsoWeekDay,
            "hour" if time => Transform::Hour,
            "minute" if time => Transform::Minute,
            "second" if time => Transform::Second,
            "date" if datetime => Transform::Date,
            "time" if datetime => Transform::Time,
            key if ty == C::Json => Transform::Key(vec![key.to_string()]),
            _ => return None,
        })
    }

    /// The column type of the transform's result, for the next part.
    pub(crate) fn output(&self, input: ColumnType) -> ColumnType {
        match self {
            Transform::Date => ColumnType::Date,
            Transform::Time => ColumnType::Time,
            Transform::Key(_) => ColumnType::Json,
            _ if input == ColumnType::Json => ColumnType::Json,
            _ => ColumnType::Int,
        }
    }

    /// The lookup part that names the transform.
    pub fn name(&self) -> &str {
        match self {
            Transform::Year => "year",
            Transform::Quarter => "quarter",
            Transform::Month => "month",
            Transform::Day => "day",
            Transform::WeekDay => "week_day",
            Transform::IsoWeekDay => "iso_week_day",
            Transform::Hour => "hour",
            Transform::Minute => "minute",
            Transform::Second => "second",
            Transform::Date => "date",
            Transform::Time => "time",
            Transform::Key(path) => path.last().map_or("", String::as_str),
        }
    }

    /// Appends `t` to `list`, merging consecutive JSON keys into one path.
    pub(crate) fn push(list: &mut Vec<Transform>, t: Transform) {
        if let (Some(Transform::Key(path)), Transform::Key(more)) = (list.last_mut(), &t) {
            path.extend(more.iter().cloned());
            return;
        }
        list.push(t);
    }
}

/// The right-hand side of a lookup.
#[non_exhaustive]
#[derive(Debug, Clone)]
pub enum Rhs {
    /// One bound value.
    Value(Value),
    /// A JSON document as text (a `serde_json::Value` or `Json<T>` given to
    /// a lookup): compared as JSON with a JSON key, as its text elsewhere.
    Json(String),
    /// A list (`in`, `range`).
    List(Vec<Value>),
    /// A subquery selecting one column (`in`).
    Subquery(Box<Subquery>),
    /// A value that could not be converted for binding; the query fails with
    /// [`Error::InvalidValue`] naming the field when it runs.
    Invalid {
        /// Which value (`the value given`, `item 3 of the list`).
        value: String,
        /// Why it cannot be bound.
        reason: String,
    },
}

/// A subquery for `in`: a query on some model selecting one of its columns.
#[derive(Debug, Clone)]
pub struct Subquery {
    pub(crate) model: &'static ModelMeta,
    pub(crate) column: Option<Target>,
    pub(crate) spec: Spec,
}

/// One lookup: `target op rhs`.
#[derive(Debug, Clone)]
pub struct Lookup {
    /// The column.
    pub target: Target,
    /// The operator.
    pub op: Op,
    /// The value(s).
    pub rhs: Rhs,
}

/// A boolean tree of lookups (Django's `Q`): combine with `&`, `|` and `!`.
///
/// # Examples
///
/// ```
/// use orm_core::Q;
/// let q = Q::kw("username__startswith", "jo") & !Q::kw("is_staff", true);
/// ```
#[non_exhaustive]
#[derive(Debug, Clone)]
pub enum Q {
    /// Always true: `exclude(Q::All)` keeps nothing. (Django's empty `Q()`
    /// is different: `filter` and `exclude` ignore it.)
    All,
    /// One lookup.
    Leaf(Lookup),
    /// Every child holds (an empty list always holds).
    And(Vec<Q>),
    /// Some child holds (an empty list never holds).
    Or(Vec<Q>),
    /// The child does not hold.
    Not(Box<Q>),
}

impl Q {
    /// Django's keyword form: `Q::kw("profile__bio__icontains", "x")`. The last
    /// part may name a lookup (`exact` when omitted); `isnull` takes a bool,
    /// `in` and `range` take a `Vec`.
    pub fn kw(lookup: &str, value: impl ToValue) -> Q {
        let (path, op) = match lookup.rsplit_once("__") {
            Some((p, s)) => match Op::from_suffix(s) {
                Some(op) => (p, op),
                None => (lookup, Op::Exact),
            },
            None => (lookup, Op::Exact),
        };
        let rhs = rhs_of(&value);
        Q::Leaf(Lookup {
            target: Target::Named(path.to_string()),
            op,
            rhs,
        })
    }

    /// `column = value` on a column of `model`'s own table, resolved.
    pub(crate) fn column_eq(
        model: &'static ModelMeta,
        field: &'static FieldMeta,
        value: Value,
    ) -> Q {
        Q::Leaf(Lookup {
            target: Target::own(model, field),
            op: Op::Exact,
            rhs: Rhs::Value(value),
        })
    }

    /// `column IN (values)` on a column of `model`'s own table, resolved.
    pub(crate) fn column_in(
        model: &'static ModelMeta,
        field: &'static FieldMeta,
        values: Vec<Value>,
    ) -> Q {
        Q::Leaf(Lookup {
            target: Target::own(model, field),
            op: Op::In,
            rhs: Rhs::List(values),
        })
    }

    /// `kw` for `in` and `range`, with a list of values.
    pub fn kw_list<T: ToValue>(lookup: &str, values: impl IntoIterator<Item = T>) -> Q {
        let (path, op) = match lookup.rsplit_once("__") {
            Some((p, "range")) => (p, Op::Range),
            Some((p, "in")) => (p, Op::In),
            _ => (lookup, Op::In),
        };
        Q::Leaf(Lookup {
            target: Target::Named(path.to_string()),
            op,
            rhs: rhs_list(values),
        })
    }

    fn and(mut self, mut other: Q) -> Q {
        match (&mut self, &mut other) {
            (Q::All, _) => other,
            (_, Q::All) => self,
            (Q::And(a), Q::And(b)) => {
                a.append(b);
                self
            }
            (Q::And(a), _) => {
                a.push(other);
                self
            }
            _ => Q::And(vec![self, other]),
        }
    }

    fn or(mut self, mut other: Q) -> Q {
        match (&mut self, &mut other) {
            (Q::All, _) | (_, Q::All) => Q::All,
            (Q::Or(a), Q::Or(b)) => {
                a.append(b);
                self
            }
            (Q::Or(a), _) => {
                a.push(other);
                self
            }
            _ => Q::Or(vec![self, other]),
        }
    }
}

impl Drop for Q {
    /// Drops without recursion, so a tree of any depth cannot overflow the
    /// stack when it goes away.
    fn drop(&mut self) {
        fn children(q: &mut Q, out: &mut Vec<Q>) {
            match q {
                Q::And(c) | Q::Or(c) => out.append(c),
                Q::Not(c) => out.push(std::mem::replace(&mut **c, Q::All)),
                Q::All | Q::Leaf(_) => {}
            }
        }
        let mut stack = Vec::new();
        children(self, &mut stack);
        while let Some(mut q) = stack.pop() {
            children(&mut q, &mut stack);
        }
    }
}

impl BitAnd for Q {
    type Output = Q;
    fn bitand(self, rhs: Q) -> Q {
        self.and(rhs)
    }
}

impl BitOr for Q {
    type Output = Q;
    fn bitor(self, rhs: Q) -> Q {
        self.or(rhs)
    }
}

impl Not for Q {
    type Output = Q;
    fn not(mut self) -> Q {
        match &mut self {
            Q::Not(inner) => std::mem::replace(&mut **inner, Q::All),
            _ => Q::Not(Box::new(self)),
        }
    }
}

/// A typed column of model `R` (possibly reached through relations).
/// Generated as `Model::field()` by the derive.
#[derive(Debug, Clone)]
pub struct Col<R> {
    target: Target,
    _root: PhantomData<fn() -> R>,
}

impl<R: Metadata> Col<R> {
    #[doc(hidden)]
    pub fn __new(depth: usize, field: &'static FieldMeta) -> Self {
        Col {
            target: Target::Column {
                path: Path {
                    root: R::__META,
                    steps: Vec::new(),
                },
                depth,
                field,
            },
            _root: PhantomData,
        }
    }

    /// The same column, typed for a query on `C`, a multi-table child of `R`
    /// (any depth) or a proxy of `R`: `Base::name().on::<Child>()` in
    /// `Child::objects().update(...)`, `Person::name().on::<MyPerson>()`.
    /// Using it on a model that does not inherit `R` is an [`Error::Field`]
    /// when the query runs.
    pub fn on<C: Metadata>(self) -> Col<C> {
        Col {
            target: self.target,
            _root: PhantomData,
        }
    }

    /// The target of this column, for use in `order_by` and `update`.
    pub fn target(&self) -> &Target {
        &self.target
    }

    pub(crate) fn leaf(self, op: Op, rhs: Rhs) -> Q {
        Q::Leaf(Lookup {
            target: self.target,
            op,
            rhs,
        })
    }

    fn one(self, op: Op, v: impl ToValue) -> Q {
        let rhs = rhs_of(&v);
        self.leaf(op, rhs)
    }

    fn transformed(self, t: Transform) -> Self {
        Col {
            target: Target::Transformed(Box::new(self.target), t),
            _root: PhantomData,
        }
    }

    /// The year of a date or date-time (Django's `__year`).
    pub fn year(self) -> Self {
        self.transformed(Transform::Year)
    }
    /// The quarter, 1 to 4 (`__quarter`).
    pub fn quarter(self) -> Self {
        self.transformed(Transform::Quarter)
    }
    /// The month, 1 to 12 (`__month`).
    pub fn month(self) -> Self {
        self.transformed(Transform::Month)
    }
    /// The day of the month (`__day`).
    pub fn day(self) -> Self {
        self.transformed(Transform::Day)
    }
    /// Django's `__week_day`: 1 (Sunday) to 7 (Saturday).
    pub fn week_day(self) -> Self {
        self.transformed(Transform::WeekDay)
    }
    /// Django's `__iso_week_day`: 1 (Monday) to 7 (Sunday).
    pub fn iso_week_day(self) -> Self {
        self.transformed(Transform::IsoWeekDay)
    }
    /// The hour of a date-time or time (`__hour`).
    pub fn hour(self) -> Self {
        self.transformed(Transform::Hour)
    }
    /// The minute (`__minute`).
    pub fn minute(self) -> Self {
        self.transformed(Transform::Minute)
    }
    /// The second (`__second`).
    pub fn second(self) -> Self {
        self.transformed(Transform::Second)
    }
    /// The date part of a date-time (`__date`).
    pub fn date(self) -> Self {
        self.transformed(Transform::Date)
    }
    /// The time part of a date-time (`__time`).
    pub fn time(self) -> Self {
        self.transformed(Transform::Time)
    }
    /// A key of a JSON value (`data__owner`); chain for a path, a number
    /// indexes an array.
    pub fn key(self, key: &str) -> Self {
        self.transformed(Transform::Key(vec![key.to_string()]))
    }
    /// The JSON value has this key (`data__has_key`).
    pub fn has_key(self, key: &str) -> Q {
        self.one(Op::HasKey, key)
    }

    /// `= value` (`IS NULL` for a NULL value).
    pub fn eq(self, v: impl ToValue) -> Q {
        self.one(Op::Exact, v)
    }
    /// Case-insensitive equality (ASCII).
    pub fn iexact(self, v: impl ToValue) -> Q {
        self.one(Op::IExact, v)
    }
    /// `!= value`: `NOT (col = value)`, as Django's `exclude`.
    pub fn ne(self, v: impl ToValue) -> Q {
        !self.eq(v)
    }
    /// `< value`
    pub fn lt(self, v: impl ToValue) -> Q {
        self.one(Op::Lt, v)
    }
    /// `<= value`
    pub fn lte(self, v: impl ToValue) -> Q {
        self.one(Op::Lte, v)
    }
    /// `> value`
    pub fn gt(self, v: impl ToValue) -> Q {
        self.one(Op::Gt, v)
    }
    /// `>= value`
    pub fn gte(self, v: impl ToValue) -> Q {
        self.one(Op::Gte, v)
    }
    /// `IN (values...)`; an empty list matches nothing.
    pub fn is_in<T: ToValue>(self, values: impl IntoIterator<Item = T>) -> Q {
        let rhs = rhs_list(values);
        self.leaf(Op::In, rhs)
    }
    /// `IN (SELECT <column or pk> FROM ...)`: pass a `QuerySet` (its keys) or
    /// `QuerySet::values(col)`.
    pub fn in_query(self, qs: impl Into<Subquery>) -> Q {
        self.leaf(Op::In, Rhs::Subquery(Box::new(qs.into())))
    }
    /// Contains the text, case-sensitively.
    pub fn contains(self, v: &str) -> Q {
        self.one(Op::Contains, v)
    }
    /// Contains the text, ignoring ASCII case.
    pub fn icontains(self, v: &str) -> Q {
        self.one(Op::IContains, v)
    }
    /// Starts with the text, case-sensitively.
    pub fn starts_with(self, v: &str) -> Q {
        self.one(Op::StartsWith, v)
    }
    /// Starts with the text, ignoring ASCII case.
    pub fn istarts_with(self, v: &str) -> Q {
        self.one(Op::IStartsWith, v)
    }
    /// Ends with the text, case-sensitively.
    pub fn ends_with(self, v: &str) -> Q {
        self.one(Op::EndsWith, v)
    }
    /// Ends with the text, ignoring ASCII case.
    pub fn iends_with(self, v: &str) -> Q {
        self.one(Op::IEndsWith, v)
    }
    /// `IS NULL` (`true`) or `IS NOT NULL` (`false`).
    pub fn is_null(self, yes: bool) -> Q {
        self.leaf(Op::IsNull, Rhs::Value(Value::Integer(yes as i64)))
    }
    /// `BETWEEN low AND high`.
    pub fn range(self, low: impl ToValue, high: impl ToValue) -> Q {
        let rhs = match (try_value(&low), try_value(&high)) {
            (Ok(a), Ok(b)) => Rhs::List(vec![a, b]),
            (Err(reason), _) => Rhs::Invalid {
                value: "the low end of the range".into(),
                reason,
            },
            (_, Err(reason)) => Rhs::Invalid {
                value: "the high end of the range".into(),
                reason,
            },
        };
        self.leaf(Op::Range, rhs)
    }
    /// Ascending order on this column.
    pub fn asc(self) -> Order {
        Order {
            target: self.target,
            desc: false,
        }
    }
    /// Descending order on this column.
    pub fn desc(self) -> Order {
        Order {
            target: self.target,
            desc: true,
        }
    }
}

/// A typed path through one-to-one relations from `R` to `T`. Generated as
/// `Model::relation()` for forward relations; chain with [`Rel::rel`], reach a
/// column with [`Rel::then`], turn a single forward hop around with
/// [`Rel::reverse`].
#[derive(Debug, Clone)]
pub struct Rel<R, T> {
    pub(crate) path: Path,
    _m: PhantomData<fn() -> (R, T)>,
}

impl<R: Metadata, T: Metadata> Rel<R, T> {
    #[doc(hidden)]
    pub fn __forward(depth: usize, field: &'static FieldMeta) -> Self {
        Rel {
            path: Path {
                root: R::__META,
                // The derive passes relation fields only; anything else is an
                // empty path, which every consumer reports as an error.
                steps: field
                    .relation
                    .map(|rel| Step::Forward { depth, field, rel })
                    .into_iter()
                    .collect(),
            },
            _m: PhantomData,
        }
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A column of `T`, reached through this path.
    pub fn then(self, col: Col<T>) -> Col<R> {
        let Target::Column { path, depth, field } = col.target else {
            return Col {
                target: col.target,
                _root: PhantomData,
            };
        };
        let mut p = self.path;
        p.steps.extend(path.steps);
        Col {
            target: Target::Column {
                path: p,
                depth,
                field,
            },
            _root: PhantomData,
        }
    }

    /// A further relation of `T`.
    pub fn rel<U: Metadata>(self, next: Rel<T, U>) -> Rel<R, U> {
        let mut p = self.path;
        p.steps.extend(next.path.steps);
        Rel {
            path: p,
            _m: PhantomData,
        }
    }

    /// The reverse of a one-hop forward relation: `Profile::user().reverse()`
    /// goes from `User` to `Profile` (Django's `user.profile`).
    pub fn reverse(self) -> Rel<T, R> {
        let steps = match self.path.steps.as_slice() {
            [Step::Forward { field, .. }] => field
                .relation
                .and_then(|r| registry().reverse_for(r))
                .map(|rel| vec![Step::Reverse { depth: 0, rel }])
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        Rel {
            path: Path {
                root: T::__META,
                steps,
            },
            _m: PhantomData,
        }
    }

    /// The related object's primary key as a value column: `is_null(true)`
    /// finds rows with no related object.
    pub fn key(self) -> Col<R> {
        match self.path.steps.as_slice() {
            [Step::Forward { depth, field, .. }] => {
                let (depth, field) = (*depth, *field);
                Col {
                    target: Target::Column {
                        path: Path {
                            root: self.path.root,
                            steps: Vec::new(),
                        },
                        depth,
                        field,
                    },
                    _root: PhantomData,
                }
            }
            _ => {
                let end = self.path.end();
                Col {
                    target: Target::Column {
                        path: self.path,
                        depth: 0,
                        field: end.pk_field(),
                    },
                    _root: PhantomData,
                }
            }
        }
    }

    /// Rows whose related object is missing (`true`) or present (`false`).
    pub fn is_null(self, yes: bool) -> Q {
        self.key().is_null(yes)
    }

    /// Rows related to the object with this key.
    pub fn eq(self, v: impl ToValue) -> Q {
        self.key().eq(v)
    }
}

/// How many hops [`QuerySet::select_related_all`] follows (Django's
/// `max_depth` of the no-argument `select_related()`).
pub const SELECT_RELATED_MAX_DEPTH: usize = 5;

/// Every path of non-null forward relations from `model` (its ancestors'
/// relations included, parent links excluded), at most
/// [`SELECT_RELATED_MAX_DEPTH`] hops long, each prefix once.
fn non_null_paths(model: &'static ModelMeta, path: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    if path.len() >= SELECT_RELATED_MAX_DEPTH {
        return;
    }
    for (depth, m) in model.chain().enumerate() {
        for (field, rel) in m.relations() {
            if field.null || rel.parent_link {
                continue;
            }
            path.push(Step::Forward { depth, field, rel });
            out.push(path.clone());
            non_null_paths((rel.target)(), path, out);
            path.pop();
        }
    }
}

/// Something `select_related` can follow: a typed [`Rel`] or a lookup string.
#[non_exhaustive]
#[derive(Debug, Clone)]
pub enum RelatedSpec {
    /// A resolved path.
    Path(Path),
    /// `a__b` names, resolved against the queried model.
    Named(String),
}

impl<R, T> From<Rel<R, T>> for RelatedSpec {
    fn from(r: Rel<R, T>) -> Self {
        RelatedSpec::Path(r.path)
    }
}

impl From<&str> for RelatedSpec {
    fn from(s: &str) -> Self {
        RelatedSpec::Named(s.to_string())
    }
}

impl RelatedSpec {
    pub(crate) fn resolve(&self, root: &'static ModelMeta, method: &str) -> Result<Path> {
        match self {
            RelatedSpec::Path(p) => {
                if p.steps.is_empty() {
                    return Err(Error::Field {
                        message: format!("{method}() needs a relation"),
                    });
                }
                // A relation of an ancestor used on a multi-table child: the
                // first hop starts that many levels up.
                let Some(up) = root.chain().position(|m| m.same_concrete(p.root)) else {
                    return Err(Error::Field {
                        message: format!(
                            "{method}() on {} given a relation of {}",
                            root.name, p.root.name
                        ),
                    });
                };
                let mut p = p.clone();
                p.root = root;
                if let Some(Step::Forward { depth, .. } | Step::Reverse { depth, .. }) =
                    p.steps.first_mut()
                {
                    *depth = ancestor_depth(root, *depth, up)?;
                }
                Ok(p)
            }
            RelatedSpec::Named(s) => Path::parse_for(root, s, method),
        }
    }
}

/// An `ORDER BY` term.
#[derive(Debug, Clone)]
pub struct Order {
    pub(crate) target: Target,
    pub(crate) desc: bool,
}

impl Order {
    /// Django's string form: `"name"`, `"-name"`, `"profile__bio"`.
    pub fn by(spec: &str) -> Order {
        let (desc, name) = match spec.strip_prefix('-') {
            Some(n) => (true, n),
            None => (false, spec),
        };
        Order {
            target: Target::Named(name.to_string()),
            desc,
        }
    }
}

impl From<&str> for Order {
    fn from(s: &str) -> Self {
        Order::by(s)
    }
}

impl<R: Metadata> From<Col<R>> for Order {
    fn from(c: Col<R>) -> Self {
        c.asc()
    }
}

impl Spec {
    /// Checks the limits that must hold before the query is cloned or
    /// rendered (both recurse over the filter tree).
    pub(crate) fn check(&self) -> Result<()> {
        match &self.filter {
            Some(q) => check_depth(q),
            None => Ok(()),
        }
    }
}

/// The untyped part of a query.
#[derive(Debug, Clone, Default)]
pub struct Spec {
    pub(crate) filter: Option<Q>,
    pub(crate) order: Vec<Order>,
    pub(crate) limit: Option<u64>,
    pub(crate) offset: Option<u64>,
    pub(crate) related: Vec<RelatedSpec>,
    pub(crate) prefetch: Vec<RelatedSpec>,
    /// Leaves out the model's default ordering (`Meta.ordering`), as
    /// Django's `get()` does.
    pub(crate) unordered: bool,
}

/// A lazy query on model `M` (Django's `QuerySet`). Nothing runs until a
/// terminal method (`all`, `get`, `count`...) is called with a [`crate::Db`].
///
/// # Examples
///
/// ```
/// use orm_core::prelude::*;
///
/// #[derive(Model, Debug, Clone)]
/// #[model(app = "docs")]
/// pub struct Author {
///     pub id: Option<i64>,
///     #[field(max_length = 50)]
///     pub name: String,
/// }
///
/// let qs = Author::objects()
///     .filter(Author::name().starts_with("Ann"))
///     .order_by(Author::name().desc())
///     .limit(10);
/// let db = Db::open_in_memory()?;
/// db.migrate()?;
/// assert_eq!(qs.count(&db)?, 0); // nothing runs until here
/// # Ok::<(), orm_core::Error>(())
/// ```
#[derive(Debug)]
pub struct QuerySet<M> {
    pub(crate) spec: Spec,
    _m: PhantomData<fn() -> M>,
}

impl<M> Clone for QuerySet<M> {
    fn clone(&self) -> Self {
        QuerySet {
            spec: self.spec.clone(),
            _m: PhantomData,
        }
    }
}

impl<M: Metadata> Default for QuerySet<M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M: Metadata> QuerySet<M> {
    /// Every row of `M`.
    pub fn new() -> Self {
        QuerySet {
            spec: Spec::default(),
            _m: PhantomData,
        }
    }

    /// Keeps rows matching `q` (AND-ed with earlier filters).
    pub fn filter(mut self, q: Q) -> Self {
        self.spec.filter = Some(match self.spec.filter.take() {
            Some(f) => f & q,
            None => q,
        });
        self
    }

    /// Drops rows matching `q`.
    pub fn exclude(self, q: Q) -> Self {
        self.filter(!q)
    }

    /// Adds an ordering term (`Col::asc()`, `Col::desc()`, or `"-name"`).
    pub fn order_by(mut self, o: impl Into<Order>) -> Self {
        self.spec.order.push(o.into());
        self
    }

    /// At most `n` rows.
    pub fn limit(mut self, n: u64) -> Self {
        self.spec.limit = Some(n);
        self
    }

    /// Skips `n` rows.
    pub fn offset(mut self, n: u64) -> Self {
        self.spec.offset = Some(n);
        self
    }

    /// Loads the related objects in the same query with JOINs (forward: INNER
    /// when required, LEFT when nullable; reverse: LEFT, a missing row cached
    /// as missing). Chains such as `"page__profile__user"` are one query.
    pub fn select_related(mut self, r: impl Into<RelatedSpec>) -> Self {
        self.spec.related.push(r.into());
        self
    }

    /// Loads every non-null forward relation in the same query, following
    /// them from the related models too, up to [`SELECT_RELATED_MAX_DEPTH`]
    /// hops (Django's `select_related()` with no argument). Nullable and
    /// reverse relations are not followed, as in Django: name them with
    /// [`QuerySet::select_related`] (the two combine). Relations of
    /// multi-table parents count (the parents themselves are always joined).
    ///
    /// # Examples
    ///
    /// ```
    /// use orm_core::prelude::*;
    ///
    /// #[derive(Model, Debug, Clone)]
    /// #[model(app = "docs")]
    /// pub struct Family { pub id: Option<i64>, pub name: String }
    ///
    /// #[derive(Model, Debug, Clone)]
    /// #[model(app = "docs")]
    /// pub struct Genus {
    ///     pub id: Option<i64>,
    ///     #[one_to_one(on_delete = "cascade")]
    ///     pub family: OneToOne<Family>,
    /// }
    ///
    /// #[derive(Model, Debug, Clone)]
    /// #[model(app = "docs")]
    /// pub struct Species {
    ///     pub id: Option<i64>,
    ///     #[one_to_one(on_delete = "cascade")]
    ///     pub genus: OneToOne<Genus>,
    /// }
    ///
    /// let db = Db::open_in_memory()?;
    /// db.migrate()?;
    /// let f = Family { id: None, name: "Hominidae".into() }.create(&db)?;
    /// let g = Genus { id: None, family: OneToOne::to(&f) }.create(&db)?;
    /// Species { id: None, genus: OneToOne::to(&g) }.create(&db)?;
    /// let (names, captured) = db.capture(|| -> Result<Vec<String>> {
    ///     let mut names = Vec::new();
    ///     for s in Species::objects().select_related_all().all(&db)? {
    ///         names.push(s.genus.get(&db)?.family.get(&db)?.name.clone());
    ///     }
    ///     Ok(names)
    /// });
    /// assert_eq!(names?, ["Hominidae"]);
    /// assert_eq!(captured.len(), 1); // one JOIN query, no access runs another
    /// # Ok::<(), orm_core::Error>(())
    /// ```
    pub fn select_related_all(mut self) -> Self {
        let mut paths = Vec::new();
        non_null_paths(M::__META, &mut Vec::new(), &mut paths);
        self.spec.related.extend(paths.into_iter().map(|steps| {
            RelatedSpec::Path(Path {
                root: M::__META,
                steps,
            })
        }));
        self
    }

    /// After loading, loads this relation for all results with one `IN (...)`
    /// query per chunk of keys (Django's `prefetch_related`), filling the
    /// caches: the accessors then run no query.
    pub fn prefetch_related(mut self, r: impl Into<RelatedSpec>) -> Self {
        self.spec.prefetch.push(r.into());
        self
    }

    /// A subquery selecting `col` of the matched rows, for `Col::in_query`.
    pub fn values(self, col: Col<M>) -> Subquery {
        Subquery {
            model: M::__META,
            column: Some(col.target),
            spec: self.spec,
        }
    }
}

impl<M: Metadata> From<QuerySet<M>> for Subquery {
    fn from(qs: QuerySet<M>) -> Self {
        Subquery {
            model: M::__META,
            column: None,
            spec: qs.spec,
        }
    }
}
