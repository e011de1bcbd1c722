//! Abstract base models (Django's `Meta.abstract = True`): shared fields and
//! relations copied into each model that extends the base; no table of
//! their own. Each test names the Django test it is modelled on.

use orm_core::prelude::*;

mod base {
    use orm_core::prelude::*;

    use super::Account;

    /// Django's `CommonInfo` (model_inheritance/models.py).
    #[derive(Model, Debug, Clone)]
    #[model(abstract)]
    pub struct CommonInfo {
        #[field(max_length = 50)]
        pub name: String,
        pub age: i64,
    }

    /// An abstract base with a relation: `%(class)s` keeps the reverse
    /// accessors of its children apart.
    #[derive(Model, Debug, Clone)]
    #[model(abstract)]
    pub struct Owned {
        #[one_to_one(on_delete = "cascade", related_name = "%(class)s_owned")]
        pub owner: Option<OneToOne<Account>>,
    }
}

use base::{CommonInfo, Owned};

#[derive(Model, Debug, Clone)]
#[model(app = "model_inheritance")]
pub struct Account {
    pub id: Option<i64>,
    #[field(max_length = 20)]
    pub login: String,
}

#[orm_core::extends(CommonInfo)]
#[derive(Model, Debug, Clone)]
#[model(app = "model_inheritance")]
pub struct Worker {
    pub id: Option<i64>,
    #[field(max_length = 50)]
    pub job: String,
}

#[orm_core::extends(CommonInfo)]
#[orm_core::extends(Owned)]
#[derive(Model, Debug, Clone)]
#[model(app = "model_inheritance")]
pub struct Student {
    pub id: Option<i64>,
    #[field(max_length = 10)]
    pub school_class: String,
}

#[orm_core::extends(Owned)]
#[derive(Model, Debug, Clone)]
#[model(app = "model_inheritance")]
pub struct Locker {
    pub id: Option<i64>,
    pub number: i64,
}

fn db() -> Db {
    let db = Db::open_in_memory().unwrap();
    db.migrate().unwrap();
    db
}

// Django: model_inheritance.tests.ModelInheritanceTests.test_abstract
// (the children get the base's fields; the base has no table).
#[test]
fn children_get_the_fields_and_the_base_has_no_table() {
    let db = db();
    Worker {
        id: None,
        name: "Fred".into(),
        age: 35,
        job: "Quarry worker".into(),
    }
    .create(&db)
    .unwrap();
    Worker {
        id: None,
        name: "Barney".into(),
        age: 34,
        job: "Quarry worker".into(),
    }
    .create(&db)
    .unwrap();
    let s = Student {
        id: None,
        name: "Pebbles".into(),
        age: 5,
        owner: None,
        school_class: "1B".into(),
    }
    .create(&db)
    .unwrap();
    assert_eq!(Student::get(&db, s.id).unwrap().name, "Pebbles");
    let names: Vec<String> = Worker::objects()
        .filter(Worker::age().gt(34))
        .all(&db)
        .unwrap()
        .into_iter()
        .map(|w| w.name)
        .collect();
    assert_eq!(names, ["Fred"]);
    // Django's column order: the key, the inherited fields, the model's own.
    let ddl = db.sql_create_all();
    assert!(
        ddl.contains(r#"CREATE TABLE "model_inheritance_worker" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(50) NOT NULL, "age" integer NOT NULL, "job" varchar(50) NOT NULL);"#),
        "{ddl}"
    );
    assert!(!ddl.to_lowercase().contains("commoninfo"), "{ddl}");
    // Validation of inherited fields names them on the child.
    let long = Worker {
        id: None,
        name: "x".repeat(51),
        age: 1,
        job: "j".into(),
    };
    let err = long.full_clean(&db).unwrap_err().to_string();
    assert!(err.contains("name"), "{err}");
}

// Django: model_inheritance.tests.InheritanceSameModelNameTests
// (`related_name="%(app_label)s_%(class)s_..."` on an abstract base gives
// each child its own reverse accessor).
#[test]
fn a_relation_in_the_base_has_a_reverse_accessor_per_child() {
    let db = db();
    let a = Account {
        id: None,
        login: "ann".into(),
    }
    .create(&db)
    .unwrap();
    let s = Student {
        id: None,
        name: "Pebbles".into(),
        age: 5,
        owner: Some(OneToOne::to(&a)),
        school_class: "1B".into(),
    }
    .create(&db)
    .unwrap();
    let l = Locker {
        id: None,
        owner: Some(OneToOne::to(&a)),
        number: 7,
    }
    .create(&db)
    .unwrap();
    assert_eq!(a.student_owned(&db).unwrap().id, s.id);
    assert_eq!(a.locker_owned(&db).unwrap().id, l.id);
    let found = Account::objects()
        .filter(Q::kw("locker_owned__number", 7))
        .get(&db)
        .unwrap();
    assert_eq!(found.id, a.id);
    assert_eq!(
        Locker::objects()
            .select_related(Locker::owner())
            .get(&db)
            .unwrap()
            .owner
            .unwrap()
            .cached()
            .unwrap()
            .login,
        "ann"
    );
    // The collector follows the inherited relation of each child.
    let mut a = a;
    let deleted = a.delete(&db).unwrap();
    assert_eq!(
        deleted.to_string(),
        r#"(3, {"model_inheritance.Student": 1, "model_inheritance.Locker": 1, "model_inheritance.Account": 1})"#
    );
}
