//! Golden SQL of the deletion collector through the second dialect: the same
//! deletes on a handle writing numbered placeholders (`$1`, `$2`...,
//! PostgreSQL's style, which SQLite accepts) run the exact statements below,
//! the same statements as the default dialect apart from the placeholders,
//! and leave the same rows.

use orm_core::prelude::*;

// ------------------------------------------------------------------ models

/// A multi-table parent.
#[derive(Model, Debug, Clone)]
#[model(app = "golden")]
pub struct Place {
    pub id: Option<i64>,
    #[field(max_length = 50)]
    pub name: String,
}

/// Its child: deleting a restaurant deletes its place row too.
#[derive(Model, Debug, Clone)]
#[model(app = "golden")]
pub struct Restaurant {
    #[parent]
    pub place: Place,
    pub serves_pizza: bool,
}

/// CASCADE from the child.
#[derive(Model, Debug, Clone)]
#[model(app = "golden")]
pub struct Waiter {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade")]
    pub restaurant: OneToOne<Restaurant>,
}

/// SET_NULL pointing at the parent table.
#[derive(Model, Debug, Clone)]
#[model(app = "golden")]
pub struct Review {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "set_null")]
    pub place: Option<OneToOne<Place>>,
}

/// PROTECT pointing at the parent table.
#[derive(Model, Debug, Clone)]
#[model(app = "golden")]
pub struct Permit {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "protect")]
    pub place: OneToOne<Place>,
}

/// A self-referential CASCADE: its keys are a fixpoint, stored first.
#[derive(Model, Debug, Clone)]
#[model(app = "golden")]
pub struct Step {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", related_name = "next")]
    pub prev: Option<OneToOne<Step>>,
    pub n: i64,
}

/// SET_NULL pointing at the self-referential model.
#[derive(Model, Debug, Clone)]
#[model(app = "golden")]
pub struct Bookmark {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "set_null")]
    pub step: Option<OneToOne<Step>>,
}

// ----------------------------------------------------------------- helpers

/// A handle with the default dialect, and one with numbered placeholders.
fn handles() -> Result<[Db; 2]> {
    let plain = Db::open_in_memory()?;
    let mut numbered = Db::open_in_memory()?;
    numbered.__use_numbered_placeholders();
    plain.migrate()?;
    numbered.migrate()?;
    Ok([plain, numbered])
}

/// `$1`, `$2`... written back as `?`.
fn unnumbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

/// Every row of the test's tables, as text.
fn rows(db: &Db) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for table in [
        "golden_place",
        "golden_restaurant",
        "golden_waiter",
        "golden_review",
        "golden_permit",
        "golden_step",
        "golden_bookmark",
    ] {
        let conn = db.connection();
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM \"{table}\" ORDER BY 1"))
            .map_err(Error::from)?;
        let width = stmt.column_count();
        let mut q = stmt.query([]).map_err(Error::from)?;
        while let Some(row) = q.next().map_err(Error::from)? {
            let values: Vec<Value> = (0..width)
                .map(|i| row.get(i))
                .collect::<rusqlite::Result<_>>()
                .map_err(Error::from)?;
            out.push(format!("{table} {values:?}"));
        }
    }
    Ok(out)
}

/// Runs `delete` on both handles (filled by `fill`) and checks the numbered
/// handle's statements against `golden`, the plain handle's against the same
/// with `?` placeholders, and that both leave the same rows. Returns the
/// result.
fn golden(
    fill: impl Fn(&Db) -> Result<()>,
    delete: impl Fn(&Db) -> Result<Deleted>,
    golden: &[&str],
) -> Result<std::result::Result<Deleted, Error>> {
    let [plain, numbered] = handles()?;
    fill(&plain)?;
    fill(&numbered)?;
    let (a, plain_sql) = plain.capture(|| delete(&plain));
    let (b, numbered_sql) = numbered.capture(|| delete(&numbered));
    assert_eq!(numbered_sql.queries, golden, "{numbered_sql:#?}");
    let expected: Vec<String> = golden.iter().map(|q| unnumbered(q)).collect();
    assert_eq!(plain_sql.queries, expected, "{plain_sql:#?}");
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
    assert_eq!(rows(&plain)?, rows(&numbered)?);
    Ok(b)
}

fn restaurant(db: &Db, name: &str, pizza: bool) -> Result<Restaurant> {
    Restaurant {
        place: Place {
            id: None,
            name: name.into(),
        },
        serves_pizza: pizza,
    }
    .create(db)
}

/// Two pizzerias and a diner, each with a waiter and a review; `permit`
/// puts a PROTECT on the first pizzeria's place.
fn town(db: &Db, permit: bool) -> Result<()> {
    for (name, pizza) in [("roma", true), ("napoli", true), ("diner", false)] {
        let r = restaurant(db, name, pizza)?;
        Waiter {
            id: None,
            restaurant: OneToOne::to(&r),
        }
        .create(db)?;
        Review {
            id: None,
            place: Some(OneToOne::to(&r.place)),
        }
        .create(db)?;
        if permit && name == "roma" {
            Permit {
                id: None,
                place: OneToOne::to(&r.place),
            }
            .create(db)?;
        }
    }
    Ok(())
}

/// Deletes the pizzerias.
fn pizzerias(db: &Db) -> Result<Deleted> {
    Restaurant::objects()
        .filter(Q::kw("serves_pizza", true))
        .delete(db)
}

/// Two chains of steps, 1 <- 2 <- 3 <- 4 and 5 <- 6, with a bookmark on
/// step 3 and one on step 6.
fn stairs(db: &Db) -> Result<()> {
    for len in [4, 2] {
        let mut prev: Option<Step> = None;
        for _ in 0..len {
            let n = Step::objects().count(db)? as i64 + 1;
            let s = Step {
                id: None,
                prev: prev.as_ref().map(OneToOne::to),
                n,
            }
            .create(db)?;
            if n == 3 || n == 6 {
                Bookmark {
                    id: None,
                    step: Some(OneToOne::to(&s)),
                }
                .create(db)?;
            }
            prev = Some(s);
        }
    }
    Ok(())
}

// ------------------------------------------------------------------ golden

/// The key table, created once per connection.
const CREATE_KEYS: &str = r#"CREATE TEMP TABLE IF NOT EXISTS "orm_delete_keys" ("n" integer NOT NULL, "k"  NOT NULL, PRIMARY KEY ("n", "k"))"#;

/// PROTECT on the parent table, applied to the child's keys.
const PROTECT_PIZZERIAS: &str = r#"SELECT "golden_permit"."id", $1 FROM "golden_permit" WHERE "golden_permit"."place_id" IN (SELECT "golden_restaurant"."place_ptr_id" FROM "golden_restaurant" WHERE "golden_restaurant"."serves_pizza" = $2)"#;

#[test]
fn a_cascade_with_set_null_protect_and_parents_in_the_second_dialect() -> Result<()> {
    let deleted = golden(
        |db| town(db, false),
        pizzerias,
        &[
            // The child's rows are read by subquery, not stored: the parent
            // rows go first (their statement reads the child table).
            r#"SELECT "golden_permit"."id", $1 FROM "golden_permit" WHERE "golden_permit"."place_id" IN (SELECT "golden_restaurant"."place_ptr_id" FROM "golden_restaurant" WHERE "golden_restaurant"."serves_pizza" = $2)"#,
            r#"DELETE FROM "golden_waiter" WHERE "golden_waiter"."restaurant_id" IN (SELECT "golden_restaurant"."place_ptr_id" FROM "golden_restaurant" WHERE "golden_restaurant"."serves_pizza" = $1)"#,
            r#"UPDATE "golden_review" SET "place_id" = $1 WHERE "golden_review"."place_id" IN (SELECT "golden_restaurant"."place_ptr_id" FROM "golden_restaurant" WHERE "golden_restaurant"."serves_pizza" = $2)"#,
            r#"DELETE FROM "golden_place" WHERE "golden_place"."id" IN (SELECT "golden_restaurant"."place_ptr_id" FROM "golden_restaurant" WHERE "golden_restaurant"."serves_pizza" = $1)"#,
            r#"DELETE FROM "golden_restaurant" WHERE "golden_restaurant"."place_ptr_id" IN (SELECT "golden_restaurant"."place_ptr_id" FROM "golden_restaurant" WHERE "golden_restaurant"."serves_pizza" = $1)"#,
        ],
    )?;
    assert_eq!(
        deleted?.to_string(),
        r#"(6, {"golden.Waiter": 2, "golden.Restaurant": 2, "golden.Place": 2})"#
    );
    let [db, _] = handles()?;
    town(&db, false)?;
    pizzerias(&db)?;
    assert_eq!(Place::objects().get(&db)?.name, "diner");
    let orphans = Review::objects().filter(Q::kw("place__isnull", true));
    assert_eq!(orphans.count(&db)?, 2);
    Ok(())
}

#[test]
fn protect_stops_the_delete_after_its_check_in_the_second_dialect() -> Result<()> {
    let deleted = golden(|db| town(db, true), pizzerias, &[PROTECT_PIZZERIAS])?;
    let err = deleted.unwrap_err();
    assert!(
        matches!(&err, Error::Protected { keys, .. } if keys == &["Permit.place"]),
        "{err:?}"
    );
    Ok(())
}

#[test]
fn an_instance_delete_writes_its_key_inline_in_the_second_dialect() -> Result<()> {
    // The instance is built with its key: loading it would be a statement.
    let roma = || Restaurant {
        place: Place {
            id: Some(1),
            name: "roma".into(),
        },
        serves_pizza: true,
    };
    let deleted = golden(
        |db| town(db, false),
        |db| roma().delete(db),
        &[
            r#"SELECT "golden_permit"."id", $1 FROM "golden_permit" WHERE "golden_permit"."place_id" = $2"#,
            // Django runs the fast deletes first, then the SET_* updates.
            r#"DELETE FROM "golden_waiter" WHERE "golden_waiter"."restaurant_id" = $1"#,
            r#"UPDATE "golden_review" SET "place_id" = $1 WHERE "golden_review"."place_id" = $2"#,
            r#"DELETE FROM "golden_restaurant" WHERE "golden_restaurant"."place_ptr_id" = $1"#,
            r#"DELETE FROM "golden_place" WHERE "golden_place"."id" = $1"#,
        ],
    )?;
    assert_eq!(
        deleted?.to_string(),
        r#"(3, {"golden.Waiter": 1, "golden.Restaurant": 1, "golden.Place": 1})"#
    );
    Ok(())
}

#[test]
fn a_self_referential_cascade_stores_its_fixpoint_in_the_second_dialect() -> Result<()> {
    // Steps 2 and 5 and everything after them: one recursive statement
    // stores the steps reached through `prev`, then the bookmarks let go and
    // the steps go in one DELETE.
    let deleted = golden(
        stairs,
        |db| {
            Step::objects()
                .filter(Q::kw_list("n__in", [2, 5]))
                .delete(db)
        },
        &[
            CREATE_KEYS,
            r#"WITH RECURSIVE "r"("n", "k") AS (SELECT $1, * FROM (SELECT "golden_step"."id" FROM "golden_step" WHERE "golden_step"."prev_id" IN (SELECT "golden_step"."id" FROM "golden_step" WHERE "golden_step"."n" IN ($2, $3))) UNION SELECT $4, "src"."id" FROM "r" INNER JOIN "golden_step" "src" ON ("src"."prev_id" = "r"."k") WHERE "r"."n" = $5) INSERT OR IGNORE INTO "temp"."orm_delete_keys" ("n", "k") SELECT "r"."n", "r"."k" FROM "r""#,
            r#"UPDATE "golden_bookmark" SET "step_id" = $1 WHERE ("golden_bookmark"."step_id" IN (SELECT "golden_step"."id" FROM "golden_step" WHERE "golden_step"."n" IN ($2, $3)) OR "golden_bookmark"."step_id" IN (SELECT "k" FROM "temp"."orm_delete_keys" WHERE "n" = $4))"#,
            r#"DELETE FROM "golden_step" WHERE ("golden_step"."id" IN (SELECT "golden_step"."id" FROM "golden_step" WHERE "golden_step"."n" IN ($1, $2)) OR "golden_step"."id" IN (SELECT "k" FROM "temp"."orm_delete_keys" WHERE "n" = $3))"#,
            r#"DELETE FROM "orm_delete_keys" WHERE "n" BETWEEN $1 AND $2"#,
        ],
    )?;
    assert_eq!(deleted?.to_string(), r#"(5, {"golden.Step": 5})"#);
    let [db, _] = handles()?;
    stairs(&db)?;
    Step::objects()
        .filter(Q::kw_list("n__in", [2, 5]))
        .delete(&db)?;
    assert_eq!(Step::objects().get(&db)?.n, 1);
    let kept = Bookmark::objects().filter(Q::kw("step__isnull", false));
    assert_eq!(kept.count(&db)?, 0);
    Ok(())
}

#[test]
fn hooked_rows_are_loaded_in_the_second_dialect() -> Result<()> {
    // Deleting a parent row cascades to its child through the parent link.
    // A hook on Waiter makes the collector load the waiters it deletes (one
    // SELECT, ascending by key) before any write.
    let hooked = |db: &Db| {
        town(db, false)?;
        db.on_post_delete::<Waiter>(|_, w| match w.id {
            Some(_) => Ok(()),
            None => Err(Error::hook("a loaded waiter has its key")),
        });
        Ok(())
    };
    let deleted = golden(
        hooked,
        |db| Place::objects().filter(Q::kw("name", "diner")).delete(db),
        &[
            // Django checks PROTECT on the parent again from the child the
            // parent link cascades to: a second SELECT, reported under the
            // parent link.
            r#"SELECT "golden_permit"."id", $1 FROM "golden_permit" WHERE "golden_permit"."place_id" IN (SELECT "golden_restaurant"."place_ptr_id" FROM "golden_restaurant" WHERE "golden_restaurant"."place_ptr_id" IN (SELECT "golden_place"."id" FROM "golden_place" WHERE "golden_place"."name" = $2)) UNION ALL SELECT "golden_permit"."id", $3 FROM "golden_permit" WHERE "golden_permit"."place_id" IN (SELECT "golden_place"."id" FROM "golden_place" WHERE "golden_place"."name" = $4)"#,
            r#"SELECT "golden_waiter"."id", "golden_waiter"."restaurant_id" FROM "golden_waiter" WHERE "golden_waiter"."restaurant_id" IN (SELECT "golden_restaurant"."place_ptr_id" FROM "golden_restaurant" WHERE "golden_restaurant"."place_ptr_id" IN (SELECT "golden_place"."id" FROM "golden_place" WHERE "golden_place"."name" = $1)) ORDER BY "golden_waiter"."id" ASC"#,
            r#"UPDATE "golden_review" SET "place_id" = $1 WHERE "golden_review"."place_id" IN (SELECT "golden_place"."id" FROM "golden_place" WHERE "golden_place"."name" = $2)"#,
            r#"DELETE FROM "golden_waiter" WHERE "golden_waiter"."restaurant_id" IN (SELECT "golden_restaurant"."place_ptr_id" FROM "golden_restaurant" WHERE "golden_restaurant"."place_ptr_id" IN (SELECT "golden_place"."id" FROM "golden_place" WHERE "golden_place"."name" = $1))"#,
            r#"DELETE FROM "golden_restaurant" WHERE "golden_restaurant"."place_ptr_id" IN (SELECT "golden_place"."id" FROM "golden_place" WHERE "golden_place"."name" = $1)"#,
            r#"DELETE FROM "golden_place" WHERE "golden_place"."id" IN (SELECT "golden_place"."id" FROM "golden_place" WHERE "golden_place"."name" = $1)"#,
        ],
    )?;
    assert_eq!(
        deleted?.to_string(),
        r#"(3, {"golden.Waiter": 1, "golden.Restaurant": 1, "golden.Place": 1})"#
    );
    Ok(())
}
