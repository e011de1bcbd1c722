//! Raw identifiers compile as fields, relation fields, parent links and
//! `limit_choices_to` keys, with no warning; every name the derive turns
//! into a string drops the `r#`.

#![deny(warnings)]

use orm_core::prelude::*;

#[derive(Model, Debug, Clone)]
#[model(app = "raw")]
pub struct Item {
    pub id: Option<i64>,
    #[field(max_length = 20, default = String::from("plain"))]
    pub r#type: String,
    pub r#match: Option<i32>,
    pub r#async: bool,
}

#[derive(Model, Debug, Clone)]
#[model(app = "raw")]
pub struct Special {
    #[one_to_one(parent_link, on_delete = "cascade", related_name = "special")]
    pub r#impl: Item,
    pub r#loop: i32,
}

#[derive(Model, Debug, Clone)]
#[model(app = "raw")]
pub struct Link {
    pub id: Option<i64>,
    #[one_to_one(
        on_delete = "set_null",
        related_name = "link",
        limit_choices_to(r#async = true)
    )]
    pub r#ref: Option<OneToOne<Item>>,
}

/// `(name, column)` of each field.
fn names<M: Model>() -> Vec<(&'static str, &'static str)> {
    M::META.fields.iter().map(|f| (f.name, f.column)).collect()
}

fn main() -> orm_core::Result<()> {
    assert_eq!(
        names::<Item>(),
        [
            ("id", "id"),
            ("type", "type"),
            ("match", "match"),
            ("async", "async")
        ]
    );
    assert_eq!(names::<Special>(), [("impl", "impl_id"), ("loop", "loop")]);
    assert_eq!(names::<Link>(), [("id", "id"), ("ref", "ref_id")]);

    let db = Db::open_in_memory()?;
    db.migrate()?;
    assert!(!db.sql_create_all().contains("r#"));
    let item = Item {
        id: None,
        r#type: "t".into(),
        r#match: Some(3),
        r#async: true,
    }
    .create(&db)?;
    let special = Special {
        r#impl: Item {
            id: None,
            r#type: "s".into(),
            r#match: None,
            r#async: false,
        },
        r#loop: 7,
    }
    .create(&db)?;
    assert_eq!(special.r#type, "s");
    assert_eq!(special.r#impl.special(&db)?.r#loop, 7);
    Link {
        id: None,
        r#ref: Some(OneToOne::to(&item)),
    }
    .create(&db)?;
    assert_eq!(item.link(&db)?.r#ref.and_then(|r| r.id()), item.id);
    assert_eq!(
        Link::objects()
            .filter(Link::r#ref().then(Item::r#match()).eq(3))
            .count(&db)?,
        1
    );
    assert_eq!(Link::ref_choices().count(&db)?, 1);
    assert_eq!(
        Item::objects()
            .filter(Item::r#type().eq("s"))
            .filter(Q::kw("special__loop", 7))
            .count(&db)?,
        1
    );
    Ok(())
}
