//! Names the derive turns into strings (columns, field names in the
//! metadata, lookups, reverse accessors, the model's name) drop the `r#` of
//! a raw identifier, as Django's names would read; the generated Rust keeps
//! the raw form (`Token::r#type()`, `usage.r#ref`).

use orm_core::prelude::*;
use orm_core::Error;

#[derive(Model, Debug, Clone, PartialEq)]
#[model(app = "names")]
pub struct Token {
    pub id: Option<i64>,
    #[field(max_length = 10)]
    pub r#type: String,
    pub r#match: i32,
}

/// A raw model name and a raw relation field; the reverse accessor is the
/// model name in lower case (`Token::usage`), the choices limited through a
/// raw lookup name.
#[derive(Model, Debug, Clone)]
#[model(app = "names")]
pub struct r#Usage {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", limit_choices_to(r#type = "kw"))]
    pub r#ref: OneToOne<Token>,
}

fn token(ty: &str, m: i32) -> Token {
    Token {
        id: None,
        r#type: ty.into(),
        r#match: m,
    }
}

#[test]
fn schema_and_metadata_use_the_names_without_r_hash() -> Result<()> {
    let db = Db::open_in_memory()?;
    db.migrate()?;
    let sql = db.sql_create_all();
    assert!(!sql.contains("r#"), "{sql}");
    for name in ["\"type\"", "\"match\"", "\"ref_id\"", "\"names_usage\""] {
        assert!(sql.contains(name), "{name} in {sql}");
    }
    let names: Vec<&str> = Token::META.fields.iter().map(|f| f.name).collect();
    assert_eq!(names, ["id", "type", "match"]);
    let columns: Vec<&str> = Usage::META.fields.iter().map(|f| f.column).collect();
    assert_eq!(columns, ["id", "ref_id"]);
    assert_eq!(Usage::META.name, "Usage");
    assert_eq!(Usage::META.model_name, "usage");
    Ok(())
}

#[test]
fn rows_round_trip_and_filter_by_either_name() -> Result<()> {
    let db = Db::open_in_memory()?;
    db.migrate()?;
    let kw = token("kw", 1).create(&db)?;
    let ident = token("ident", 2).create(&db)?;

    assert_eq!(Token::objects().filter(Q::kw("type", "kw")).get(&db)?, kw);
    assert_eq!(
        Token::objects()
            .filter(Token::r#type().eq("ident"))
            .get(&db)?,
        ident
    );
    assert_eq!(
        Token::objects().filter(Q::kw("match__gt", 1)).get(&db)?,
        ident
    );
    assert_eq!(
        Token::objects()
            .filter(Token::r#match().eq(1))
            .get(&db)?
            .r#type,
        "kw"
    );
    assert_eq!(kw.value_of("type"), Some(Value::Text("kw".into())));
    assert_eq!(kw.value_of("match"), Some(Value::Integer(1)));

    let mut loaded = Token::objects().filter(Q::kw("pk", kw.id)).get(&db)?;
    assert_eq!(loaded, kw);
    loaded.r#type = "kw2".into();
    loaded.save(&db)?;
    assert_eq!(Token::objects().filter(Q::kw("type", "kw2")).count(&db)?, 1);
    Ok(())
}

#[test]
fn validation_errors_are_keyed_by_the_name_without_r_hash() -> Result<()> {
    let db = Db::open_in_memory()?;
    db.migrate()?;
    match token("far too long", 1).full_clean(&db) {
        Err(Error::Validation(v)) => {
            assert_eq!(v.errors.len(), 1, "{v:?}");
            assert_eq!(v.errors[0].0, "type");
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    Ok(())
}

#[test]
fn relations_named_with_raw_identifiers() -> Result<()> {
    let db = Db::open_in_memory()?;
    db.migrate()?;
    let kw = token("kw", 1).create(&db)?;
    token("ident", 2).create(&db)?;
    let usage = Usage {
        id: None,
        r#ref: OneToOne::to(&kw),
    }
    .create(&db)?;

    let found = Usage::objects()
        .filter(Q::kw("ref__type", "kw"))
        .select_related("ref")
        .get(&db)?;
    assert_eq!(found.id, usage.id);
    assert_eq!(found.r#ref.cached().map(|t| t.r#match), Some(1));
    assert_eq!(
        Usage::objects()
            .filter(Usage::r#ref().then(Token::r#type()).eq("kw"))
            .count(&db)?,
        1
    );
    assert_eq!(kw.usage(&db)?.id, usage.id);
    assert_eq!(
        Token::objects()
            .filter(Q::kw("usage__isnull", false))
            .get(&db)?,
        kw
    );
    // limit_choices_to(r#type = "kw") filters on the `type` column.
    assert_eq!(Usage::ref_choices().all(&db)?, [kw]);
    Ok(())
}
