//! Field types end to end: each type round-trips its full range through a
//! model (save, load, filter), maps to Django's SQLite DDL, and a stored
//! value that does not parse is a typed error naming model, field and value.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc};
use orm_core::prelude::*;
use orm_core::Json;
use rust_decimal::Decimal;
use uuid::Uuid;

#[derive(Model, Debug, Clone, PartialEq)]
#[model(app = "types")]
pub struct Event {
    pub id: Option<i64>,
    pub day: NaiveDate,
    pub at: NaiveDateTime,
    pub at_utc: DateTime<Utc>,
    pub time: NaiveTime,
    pub took: TimeDelta,
    pub ends: Option<NaiveDate>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(app = "types")]
pub struct TimeEvent {
    pub id: Option<i64>,
    pub day: time::Date,
    pub at: time::PrimitiveDateTime,
    pub at_utc: time::OffsetDateTime,
    pub time: time::Time,
    pub took: time::Duration,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(app = "types")]
pub struct Token {
    #[field(primary_key, default = Uuid::new_v4())]
    pub id: Uuid,
    pub other: Option<Uuid>,
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub struct Prefs {
    pub theme: String,
    pub langs: Vec<String>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(app = "types")]
pub struct Doc {
    pub id: Option<i64>,
    pub data: serde_json::Value,
    pub prefs: Option<Json<Prefs>>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(app = "types")]
pub struct Price {
    pub id: Option<i64>,
    #[field(max_digits = 5, decimal_places = 2)]
    pub amount: Decimal,
    #[field(max_digits = 15, decimal_places = 6)]
    pub wide: Option<Decimal>,
}

#[derive(Model, Debug, Clone)]
#[model(app = "types")]
pub struct Stamped {
    pub id: Option<i64>,
    #[field(auto_now_add)]
    pub created: Option<DateTime<Utc>>,
    #[field(auto_now)]
    pub modified: Option<DateTime<Utc>>,
    pub n: i64,
}

fn db() -> Db {
    let db = Db::open_in_memory().unwrap();
    db.migrate().unwrap();
    db
}

fn dt(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap()
}

#[test]
fn ddl_is_djangos() {
    let ddl = db().sql_create_all();
    for want in [
        r#""day" date NOT NULL"#,
        r#""at" datetime NOT NULL"#,
        r#""time" time NOT NULL"#,
        r#""took" bigint NOT NULL"#,
        r#""id" char(32) NOT NULL PRIMARY KEY"#,
        r#""data" text NOT NULL CHECK ((JSON_VALID("data") OR "data" IS NULL))"#,
        r#""amount" decimal NOT NULL"#,
    ] {
        assert!(ddl.contains(want), "{want} not in\n{ddl}");
    }
}

#[test]
fn chrono_types_round_trip_their_range() {
    let db = db();
    let cases = [
        (
            NaiveDate::from_ymd_opt(1, 1, 1).unwrap(),
            dt("0001-01-01 00:00:00"),
            NaiveTime::MIN,
            TimeDelta::zero(),
        ),
        (
            NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
            dt("2024-02-29 23:59:59.999999"),
            NaiveTime::from_hms_micro_opt(23, 59, 59, 999_999).unwrap(),
            TimeDelta::microseconds(i64::MAX),
        ),
        (
            NaiveDate::from_ymd_opt(9999, 12, 31).unwrap(),
            dt("9999-12-31 23:59:59.123456789"),
            NaiveTime::from_hms_nano_opt(12, 0, 0, 1).unwrap(),
            TimeDelta::microseconds(-86_400_000_001),
        ),
    ];
    for (day, at, time, took) in cases {
        let e = Event {
            id: None,
            day,
            at,
            at_utc: at.and_utc(),
            time,
            took,
            ends: Some(day),
        }
        .create(&db)
        .unwrap();
        assert_eq!(Event::get(&db, e.id).unwrap(), e);
    }
    // Comparisons in SQL follow the values.
    let leap = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
    let last = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap();
    let n = Event::objects()
        .filter(Event::day().gte(leap) & Event::day().lt(last))
        .count(&db)
        .unwrap();
    assert_eq!(n, 1);
    // Beyond Django's years 1-9999 the text would not sort: refused.
    let err = Event {
        id: None,
        day: NaiveDate::MAX,
        at: dt("2024-01-01 00:00:00"),
        at_utc: Utc::now(),
        time: NaiveTime::MIN,
        took: TimeDelta::zero(),
        ends: None,
    }
    .create(&db)
    .unwrap_err();
    assert!(
        matches!(err, Error::InvalidValue { field: "day", .. }),
        "{err}"
    );
    // A time zone: an instant with an offset is stored in UTC, so the same
    // instant across a DST change compares equal.
    let paris_winter = DateTime::parse_from_rfc3339("2024-03-31T01:30:00+01:00").unwrap();
    let paris_summer = DateTime::parse_from_rfc3339("2024-03-31T03:30:00+02:00").unwrap();
    let e = Event {
        id: None,
        day: leap,
        at: dt("2024-03-31 00:30:00"),
        at_utc: paris_winter.with_timezone(&Utc),
        time: NaiveTime::MIN,
        took: TimeDelta::zero(),
        ends: None,
    }
    .create(&db)
    .unwrap();
    let found = Event::objects()
        .filter(
            Event::at_utc().eq(paris_summer.with_timezone(&Utc)) | Event::at_utc().eq(paris_winter),
        )
        .get(&db)
        .unwrap();
    assert_eq!(found.id, e.id);
    assert_eq!(found.ends, None);
}

#[test]
fn time_crate_types_round_trip() {
    use time::macros::{date, datetime, time};
    let db = db();
    for (day, at, t, took) in [
        (
            date!(2024 - 02 - 29),
            datetime!(2024-02-29 23:59:59.999999),
            time!(0:00),
            time::Duration::ZERO,
        ),
        (
            date!(9999 - 12 - 31),
            datetime!(9999-12-31 23:59:59.123456789),
            time!(23:59:59.999999),
            time::Duration::microseconds(-5),
        ),
        (
            date!(0001 - 01 - 01),
            datetime!(0001-01-01 0:00),
            time!(12:00:00.000001),
            time::Duration::days(10_000),
        ),
    ] {
        let e = TimeEvent {
            id: None,
            day,
            at,
            at_utc: at.assume_utc(),
            time: t,
            took,
        }
        .create(&db)
        .unwrap();
        assert_eq!(TimeEvent::get(&db, e.id).unwrap(), e);
    }
    // An offset value is stored in UTC.
    let e = TimeEvent {
        id: None,
        day: date!(2024 - 10 - 27),
        at: datetime!(2024-10-27 2:30),
        at_utc: datetime!(2024-10-27 2:30 +2),
        time: time!(2:30),
        took: time::Duration::ZERO,
    }
    .create(&db)
    .unwrap();
    assert_eq!(
        TimeEvent::get(&db, e.id).unwrap().at_utc,
        datetime!(2024-10-27 0:30 UTC)
    );
    // A duration finer than a microsecond cannot be stored exactly.
    let err = TimeEvent {
        took: time::Duration::nanoseconds(1),
        ..e
    }
    .create(&db)
    .unwrap_err();
    assert!(
        matches!(err, Error::InvalidValue { field: "took", .. }),
        "{err}"
    );
}

#[test]
fn uuids_round_trip_and_default_as_primary_key() {
    let db = db();
    for other in [Some(Uuid::nil()), Some(Uuid::max()), None] {
        let t = Token {
            id: Uuid::new_v4(),
            other,
        }
        .create(&db)
        .unwrap();
        assert_eq!(Token::get(&db, t.id).unwrap(), t);
    }
    let stored: String = db
        .connection()
        .query_row(
            "SELECT other FROM types_token WHERE other IS NOT NULL ORDER BY other LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        stored, "00000000000000000000000000000000",
        "Django's char(32) form"
    );
    assert_eq!(
        Token::objects()
            .filter(Token::other().eq(Uuid::max()))
            .count(&db)
            .unwrap(),
        1
    );
}

#[test]
fn json_round_trips_unicode_and_nesting() {
    let db = db();
    let mut deep = serde_json::json!("leaf");
    for i in 0..63 {
        deep = serde_json::json!({ format!("k{i}"): [deep] });
    }
    // 126 levels read back (127 is the limit); deeper is refused when
    // written, not when read.
    let mut too_deep = deep.clone();
    for _ in 0..2 {
        too_deep = serde_json::json!([too_deep]);
    }
    let err = Doc {
        id: None,
        data: too_deep,
        prefs: None,
    }
    .create(&db)
    .unwrap_err();
    assert!(
        matches!(err, Error::InvalidValue { field: "data", .. }),
        "{err}"
    );
    for data in [
        serde_json::json!({"name": "Zoë 🦀 \u{0} \"quoted\"", "n": 1.5, "list": [null, true, -1]}),
        deep,
        serde_json::Value::Null,
    ] {
        let d = Doc {
            id: None,
            data,
            prefs: Some(Json(Prefs {
                theme: "dark".into(),
                langs: vec!["fr".into(), "日本語".into()],
            })),
        }
        .create(&db)
        .unwrap();
        assert_eq!(Doc::get(&db, d.id).unwrap(), d);
    }
    // Text that is not JSON is refused by the column's check.
    let err = db
        .connection()
        .execute("INSERT INTO types_doc (data) VALUES ('{oops')", [])
        .unwrap_err();
    assert!(err.to_string().contains("CHECK"), "{err}");
}

#[test]
fn decimals_are_exact_and_checked() {
    let db = db();
    for (amount, wide) in [
        ("999.99", Some("999999999.999999")),
        ("-999.99", Some("-0.000001")),
        ("0.10", None),
        ("1", Some("123456789.123456")),
    ] {
        let p = Price {
            id: None,
            amount: Decimal::from_str(amount).unwrap(),
            wide: wide.map(|w| Decimal::from_str(w).unwrap()),
        }
        .create(&db)
        .unwrap();
        let back = Price::get(&db, p.id).unwrap();
        assert_eq!(back, p);
        // Read back at the field's decimal places, as Django does.
        assert_eq!(back.amount.scale(), 2, "{}", back.amount);
    }
    assert_eq!(
        Price::objects()
            .filter(Price::amount().gt(Decimal::from_str("999.98").unwrap()))
            .count(&db)
            .unwrap(),
        1
    );
    // Too many digits: a typed error naming the field, nothing written.
    let err = Price {
        id: None,
        amount: Decimal::from_str("1e30").unwrap_or(Decimal::MAX),
        wide: None,
    }
    .create(&db)
    .unwrap_err();
    match &err {
        Error::InvalidValue {
            model: "Price",
            field: "amount",
            reason,
            ..
        } => {
            assert!(reason.contains("digits"), "{reason}")
        }
        e => panic!("{e}"),
    }
    let err = Price {
        id: None,
        amount: Decimal::from_str("1.001").unwrap(),
        wide: None,
    };
    assert!(err
        .full_clean(&db)
        .unwrap_err()
        .to_string()
        .contains("Ensure that there are no more than 2 decimal places."));
    assert_eq!(Price::objects().count(&db).unwrap(), 4);
}

#[test]
fn a_stored_value_that_does_not_parse_is_a_typed_error() {
    let db = db();
    db.connection()
        .execute(
            "INSERT INTO types_event (day, at, at_utc, time, took) VALUES ('31/02/2024', '2024-01-01 00:00:00', '2024-01-01 00:00:00', '00:00:00', 0)",
            [],
        )
        .unwrap();
    let err = Event::objects().all(&db).unwrap_err();
    match &err {
        Error::FieldValue {
            model: "Event",
            field: "day",
            reason,
            ..
        } => {
            assert!(reason.contains("31/02/2024"), "{reason}")
        }
        e => panic!("{e}"),
    }
}

#[test]
fn auto_now_and_auto_now_add() {
    let db = db();
    let before = Utc::now();
    let mut s = Stamped {
        id: None,
        created: None,
        modified: None,
        n: 1,
    };
    s.save(&db).unwrap();
    let created = s.created.unwrap();
    assert!(created >= before - TimeDelta::seconds(1));
    std::thread::sleep(std::time::Duration::from_millis(5));
    s.n = 2;
    s.save(&db).unwrap();
    assert_eq!(s.created, Some(created), "auto_now_add is set once");
    assert!(s.modified.unwrap() > created, "auto_now on every save");
    assert_eq!(Stamped::get(&db, s.id).unwrap().created, Some(created));
}

mod serde_models {
    use orm_core::prelude::*;

    #[derive(Model, Debug, Clone, serde::Serialize, serde::Deserialize)]
    #[model(app = "types")]
    pub struct Writer {
        pub id: Option<i64>,
        pub name: String,
    }

    #[derive(Model, Debug, Clone, serde::Serialize, serde::Deserialize)]
    #[model(app = "types")]
    pub struct Bio {
        pub id: Option<i64>,
        #[one_to_one(on_delete = "cascade")]
        pub writer: OneToOne<Writer>,
        #[one_to_one(on_delete = "set_null", related_name = "edited_bio")]
        pub editor: Option<OneToOne<Writer>>,
        pub text: String,
    }

    #[derive(Model, Debug, Clone, serde::Serialize)]
    #[model(app = "types")]
    pub struct Card {
        pub id: Option<i64>,
        #[one_to_one(on_delete = "cascade", related_name = "card")]
        #[serde(serialize_with = "orm_core::serde::nested")]
        pub writer: OneToOne<Writer>,
    }
}

// Django's serializers write a relation as its key; models derive serde's
// traits with no helpers.
#[test]
fn models_with_relations_serialize_with_serde() {
    use serde_models::{Bio, Card, Writer};
    let db = db();
    let w = Writer {
        id: None,
        name: "Ann".into(),
    }
    .create(&db)
    .unwrap();
    let b = Bio {
        id: None,
        writer: OneToOne::to(&w),
        editor: None,
        text: "hi".into(),
    }
    .create(&db)
    .unwrap();
    let json = serde_json::to_string(&Bio::get(&db, b.id).unwrap()).unwrap();
    assert_eq!(
        json,
        format!(
            r#"{{"id":{},"writer":{},"editor":null,"text":"hi"}}"#,
            b.id.unwrap(),
            w.id.unwrap()
        )
    );
    let back: Bio = serde_json::from_str(&json).unwrap();
    assert_eq!(back.writer.id(), w.id);
    assert!(back.editor.is_none());
    assert!(
        serde_json::from_str::<Bio>(r#"{"id":1,"writer":null,"editor":null,"text":""}"#).is_err()
    );
    // Nested when asked and loaded.
    let c = Card {
        id: None,
        writer: OneToOne::to(&w),
    }
    .create(&db)
    .unwrap();
    let loaded = Card::objects()
        .select_related(Card::writer())
        .get(&db)
        .unwrap();
    assert_eq!(
        serde_json::to_string(&loaded).unwrap(),
        format!(
            r#"{{"id":{},"writer":{{"id":{},"name":"Ann"}}}}"#,
            c.id.unwrap(),
            w.id.unwrap()
        )
    );
    let lazy = Card::get(&db, c.id).unwrap();
    assert_eq!(
        serde_json::to_string(&lazy).unwrap(),
        format!(r#"{{"id":{},"writer":{}}}"#, c.id.unwrap(), w.id.unwrap())
    );
}

// Django: lookup.tests.LookupTests.test_exact_query_rhs_with_selected_columns /
// basic date lookups (`pub_date__year`, `__month`, `__week_day`, `__date`).
#[test]
fn date_transforms_filter_like_djangos() {
    let db = db();
    for (day, at) in [
        ("2005-07-28", "2005-07-28 09:00:00"),   // a Thursday
        ("2005-07-31", "2005-07-31 18:30:15.5"), // a Sunday
        ("2006-01-01", "2006-01-01 00:00:00"),
    ] {
        Event {
            id: None,
            day: NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap(),
            at: dt(at),
            at_utc: dt(at).and_utc(),
            time: dt(at).time(),
            took: TimeDelta::zero(),
            ends: None,
        }
        .create(&db)
        .unwrap();
    }
    let count = |q: Q| Event::objects().filter(q).count(&db).unwrap();
    assert_eq!(count(Event::day().year().eq(2005)), 2);
    assert_eq!(count(Q::kw("day__year", 2005)), 2);
    assert_eq!(count(Q::kw("day__year__gte", 2006)), 1);
    assert_eq!(
        count(Event::day().month().eq(7) & Event::day().day().gt(30)),
        1
    );
    // Django's week_day: 1 is Sunday.
    assert_eq!(
        count(Event::day().week_day().eq(1)),
        2,
        "2005-07-31 and 2006-01-01 are Sundays"
    );
    assert_eq!(
        count(Event::day().iso_week_day().eq(4)),
        1,
        "2005-07-28 is a Thursday"
    );
    assert_eq!(count(Event::day().quarter().eq(3)), 2);
    assert_eq!(
        count(Event::at().hour().eq(18) & Event::at().second().eq(15)),
        1
    );
    assert_eq!(count(Event::time().minute().eq(30)), 1);
    assert_eq!(
        count(
            Event::at()
                .date()
                .eq(NaiveDate::from_ymd_opt(2005, 7, 31).unwrap())
        ),
        1
    );
    assert_eq!(
        count(Q::kw_list(
            "at__date__range",
            [
                NaiveDate::from_ymd_opt(2005, 7, 1).unwrap(),
                NaiveDate::from_ymd_opt(2005, 12, 31).unwrap()
            ]
        )),
        2
    );
    assert_eq!(
        count(
            Event::at()
                .time()
                .eq(NaiveTime::from_hms_opt(9, 0, 0).unwrap())
        ),
        1
    );
    // A transform a field does not have is Django's error.
    let err = Event::objects()
        .filter(Q::kw("took__year", 1))
        .count(&db)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("Unsupported lookup 'year' for DurationField"),
        "{err}"
    );
    let err = Event::objects()
        .filter(Event::time().year().eq(1))
        .count(&db)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("Unsupported lookup 'year' for TimeField"),
        "{err}"
    );
}

// Django: model_fields.test_jsonfield.TestQuerying (test_shallow_lookup,
// test_deep_lookup_objs, test_has_key, test_isnull_key, test_contains on
// SQLite raises NotSupportedError).
#[test]
fn json_key_lookups() {
    let db = db();
    for data in [
        serde_json::json!({"owner": {"name": "Ann", "age": 30}, "tags": ["a", "b"]}),
        serde_json::json!({"owner": {"name": "Bob"}, "tags": ["c"], "k": null}),
        serde_json::json!({"other": 1, "we\"ird": true}),
    ] {
        Doc {
            id: None,
            data,
            prefs: None,
        }
        .create(&db)
        .unwrap();
    }
    let count = |q: Q| Doc::objects().filter(q).count(&db).unwrap();
    assert_eq!(count(Q::kw("data__owner__name", "Ann")), 1);
    assert_eq!(count(Doc::data().key("owner").key("name").eq("Bob")), 1);
    assert_eq!(count(Q::kw("data__owner__age__gte", 18)), 1);
    assert_eq!(count(Q::kw("data__tags__0", "c")), 1);
    assert_eq!(count(Doc::data().has_key("owner")), 2);
    assert_eq!(count(Doc::data().has_key("we\"ird")), 1);
    assert_eq!(count(Q::kw("data__owner__has_key", "age")), 1);
    // isnull on a key: the key is missing (a key holding null is present).
    assert_eq!(count(Q::kw("data__k__isnull", true)), 2);
    assert_eq!(count(Q::kw("data__k__isnull", false)), 1);
    assert_eq!(
        count(!Q::kw("data__owner__name", "Ann")),
        2,
        "exclude keeps rows without the key"
    );
    let err = Doc::objects()
        .filter(Q::kw("data__contains", "x"))
        .count(&db)
        .unwrap_err();
    assert!(
        err.to_string().contains("contains lookup is not supported"),
        "{err}"
    );
}
