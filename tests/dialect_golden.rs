//! A second dialect is one trait impl: every statement kind the ORM writes
//! (SELECT with joins and filters, COUNT/EXISTS, INSERT/UPDATE of a
//! multi-table child, UPDATE across parents, DDL, the reverse accessor's
//! lookup) renders with PostgreSQL-style numbered placeholders on a handle
//! switched to them, runs (SQLite accepts `$N`), and gives the same results
//! as the default dialect. The collector's statements are in
//! `tests/delete_golden.rs`.

use orm_core::prelude::*;

#[derive(Model, Debug, Clone, PartialEq)]
#[model(app = "dial")]
pub struct Place {
    pub id: Option<i64>,
    #[field(max_length = 50)]
    pub name: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(app = "dial")]
pub struct Restaurant {
    #[parent]
    pub place: Place,
    pub stars: i64,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(app = "dial")]
pub struct Chef {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", related_name = "chef")]
    pub restaurant: OneToOne<Restaurant>,
    #[field(max_length = 50)]
    pub name: String,
}

fn db(numbered: bool) -> Db {
    let mut db = Db::open_in_memory().unwrap();
    if numbered {
        db.__use_numbered_placeholders();
    }
    db.migrate().unwrap();
    db
}

/// Runs the same work on `db`, returning what it read and the SQL it ran.
fn work(db: &Db) -> (Vec<String>, Vec<String>) {
    let mut seen = Vec::new();
    let ((), captured) = db.capture(|| {
        let r = Restaurant {
            place: Place {
                id: None,
                name: "Chez \"Q\"".into(),
            },
            stars: 2,
        }
        .create(db)
        .unwrap();
        let mut c = Chef {
            id: None,
            restaurant: OneToOne::to(&r),
            name: "Ann".into(),
        };
        c.save(db).unwrap();
        c.name = "Anna".into();
        c.save(db).unwrap();
        let chefs = Chef::objects()
            .select_related("restaurant")
            .filter(Q::kw("restaurant__name__startswith", "Chez"))
            .filter(Q::kw("restaurant__stars__gte", 1) | Q::kw("name", "x"))
            .exclude(Q::kw("restaurant__name__contains", "zzz"))
            .order_by("-restaurant__stars")
            .limit(5)
            .all(db)
            .unwrap();
        for ch in &chefs {
            seen.push(format!(
                "{} at {}",
                ch.name,
                ch.restaurant.get(db).unwrap().place.name
            ));
        }
        seen.push(format!(
            "count {}",
            Restaurant::objects()
                .filter(Q::kw("chef__name", "Anna"))
                .count(db)
                .unwrap()
        ));
        seen.push(format!(
            "exists {}",
            Restaurant::objects()
                .filter(Q::kw_list("stars__in", [2, 3]))
                .exists(db)
                .unwrap()
        ));
        // UPDATE across a child and its parent: keys read once.
        let n = Restaurant::objects()
            .filter(Q::kw("stars", 2))
            .update(
                db,
                vec![
                    (Restaurant::stars(), Value::Integer(3)),
                    (Place::name().on::<Restaurant>(), Value::Text("Q".into())),
                ],
            )
            .unwrap();
        seen.push(format!("updated {n}"));
        db.clear_cache();
        let r = Restaurant::get(db, r.place.id).unwrap();
        seen.push(format!("{} {}", r.place.name, r.stars));
        seen.push(format!("reverse {}", r.chef(db).unwrap().name));
    });
    (seen, captured.queries)
}

#[test]
fn every_statement_kind_renders_and_runs_through_the_numbered_dialect() {
    let (plain_rows, plain_sql) = work(&db(false));
    let (num_rows, num_sql) = work(&db(true));
    assert_eq!(num_rows, plain_rows);
    assert_eq!(
        plain_rows,
        [
            "Anna at Chez \"Q\"",
            "count 1",
            "exists true",
            "updated 1",
            "Q 3",
            "reverse Anna"
        ]
    );
    assert_eq!(num_sql.len(), plain_sql.len());
    for (n, p) in num_sql.iter().zip(&plain_sql) {
        assert!(!n.contains('?'), "a `?` placeholder left: {n}");
        // Identical text once the placeholders are numbered in order.
        let mut i = 0;
        let numbered: String = p
            .chars()
            .map(|c| {
                if c == '?' {
                    i += 1;
                    format!("${i}")
                } else {
                    c.to_string()
                }
            })
            .collect();
        assert_eq!(n, &numbered);
    }
    // The golden text of the statement kinds.
    let find = |prefix: &str| -> &str {
        num_sql
            .iter()
            .find(|q| q.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix}: {num_sql:#?}"))
    };
    assert_eq!(
        find("INSERT INTO \"dial_restaurant\""),
        r#"INSERT INTO "dial_restaurant" ("place_ptr_id", "stars") VALUES ($1, $2)"#
    );
    assert_eq!(
        find("UPDATE \"dial_chef\""),
        r#"UPDATE "dial_chef" SET "restaurant_id" = $1, "name" = $2 WHERE "id" = $3"#
    );
    assert_eq!(
        find("SELECT \"dial_chef\".\"id\""),
        concat!(
            r#"SELECT "dial_chef"."id", "dial_chef"."restaurant_id", "dial_chef"."name", "#,
            r#""dial_place"."id", "dial_place"."name", "dial_restaurant"."place_ptr_id", "dial_restaurant"."stars" "#,
            r#"FROM "dial_chef" INNER JOIN "dial_restaurant" ON ("dial_chef"."restaurant_id" = "dial_restaurant"."place_ptr_id") "#,
            r#"INNER JOIN "dial_place" ON ("dial_restaurant"."place_ptr_id" = "dial_place"."id") "#,
            r#"WHERE ("dial_place"."name" GLOB $1 AND ("dial_restaurant"."stars" >= $2 OR "dial_chef"."name" = $3) "#,
            r#"AND (instr(CAST("dial_place"."name" AS BLOB), $4) > 0) IS NOT TRUE) "#,
            r#"ORDER BY "dial_restaurant"."stars" DESC LIMIT 5"#
        )
    );
    assert!(
        num_sql
            .iter()
            .any(|q| q.starts_with(r#"UPDATE "dial_place" SET "name" = $1 WHERE "id" IN ($2)"#)),
        "{num_sql:#?}"
    );
}

#[test]
fn ddl_is_the_same_through_the_numbered_dialect() {
    let plain = db(false);
    let num = db(true);
    let ddl = |db: &Db| -> Vec<String> {
        let mut stmt = db
            .connection()
            .prepare("SELECT sql FROM sqlite_master WHERE name LIKE 'dial_%' ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    };
    assert_eq!(ddl(&num), ddl(&plain));
    assert_eq!(
        ddl(&num)[0],
        r#"CREATE TABLE "dial_chef" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(50) NOT NULL, "restaurant_id" bigint NOT NULL UNIQUE REFERENCES "dial_restaurant" ("place_ptr_id") DEFERRABLE INITIALLY DEFERRED)"#
    );
}
