//! Proxy models (`#[model(proxy)] pub struct MyPerson(pub Person);`, Django's
//! `Meta.proxy = True`): same table, own label, own hooks. Each test names
//! the Django test (tests/proxy_models/tests.py) it is modelled on.

use std::sync::{Arc, Mutex};

use orm_core::prelude::*;

#[derive(Model, Debug, Clone)]
#[model(app = "proxy_models")]
pub struct Person {
    pub id: Option<i64>,
    #[field(max_length = 50)]
    pub name: String,
}

#[derive(Model, Debug, Clone)]
#[model(proxy, app = "proxy_models")]
pub struct MyPerson(pub Person);

impl MyPerson {
    fn has_special_name(&self) -> bool {
        self.name.to_lowercase() == "special"
    }
}

/// A proxy with its own default ordering (Django's `MyPerson` orders by name).
#[derive(Model, Debug, Clone)]
#[model(
    proxy,
    app = "proxy_models",
    ordering = "-name",
    verbose_name = "my sorted person"
)]
pub struct SortedPerson(pub Person);

/// A proxy of a proxy.
#[derive(Model, Debug, Clone)]
#[model(proxy, app = "proxy_models")]
pub struct MyPersonProxy(pub MyPerson);

/// `TrackerUser` / `Issue`: a relation to the concrete model, seen from a proxy.
#[derive(Model, Debug, Clone)]
#[model(app = "proxy_models")]
pub struct TrackerUser {
    pub id: Option<i64>,
    #[field(max_length = 50)]
    pub name: String,
}

#[derive(Model, Debug, Clone)]
#[model(proxy, app = "proxy_models")]
pub struct ProxyTrackerUser(pub TrackerUser);

#[derive(Model, Debug, Clone)]
#[model(app = "proxy_models")]
pub struct Issue {
    pub id: Option<i64>,
    #[field(max_length = 50)]
    pub summary: String,
    #[one_to_one(on_delete = "cascade", related_name = "issue")]
    pub assignee: OneToOne<TrackerUser>,
}

/// A relation that points at a proxy: it is a relation to the concrete table.
#[derive(Model, Debug, Clone)]
#[model(app = "proxy_models")]
pub struct Badge {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", related_name = "badge")]
    pub holder: OneToOne<ProxyTrackerUser>,
}

/// A proxy of a multi-table child.
#[derive(Model, Debug, Clone)]
#[model(app = "proxy_models")]
pub struct StatusPerson {
    #[parent]
    pub person: Person,
    #[field(max_length = 10)]
    pub status: String,
}

#[derive(Model, Debug, Clone)]
#[model(proxy, app = "proxy_models")]
pub struct LowerStatusPerson(pub StatusPerson);

fn db() -> Db {
    let db = Db::open_in_memory().unwrap();
    db.migrate().unwrap();
    db
}

fn person(name: &str) -> Person {
    Person {
        id: None,
        name: name.into(),
    }
}

// Django: ProxyModelTests.test_basic_proxy
#[test]
fn basic_proxy() {
    let db = db();
    let p = person("Foo McBar").create(&db).unwrap();
    assert_eq!(Person::objects().count(&db).unwrap(), 1);
    assert_eq!(MyPerson::objects().count(&db).unwrap(), 1);
    let mine = MyPerson::objects()
        .filter(Q::kw("name", "Foo McBar"))
        .get(&db)
        .unwrap();
    assert_eq!(mine.id, p.id);
    assert!(!MyPerson::get(&db, p.id).unwrap().has_special_name());
    // A column function of the concrete model filters the proxy.
    assert_eq!(
        MyPerson::objects()
            .filter(Person::name().eq("Foo McBar"))
            .count(&db)
            .unwrap(),
        1
    );
}

// Django: ProxyModelTests.test_basic_proxy_reverse and test_no_proxy
#[test]
fn basic_proxy_reverse() {
    let db = db();
    MyPerson(person("Bazza del Frob")).create(&db).unwrap();
    assert_eq!(MyPerson::objects().count(&db).unwrap(), 1);
    assert_eq!(Person::objects().count(&db).unwrap(), 1);
    // A multi-table child has its own table: a Person is no StatusPerson.
    assert_eq!(StatusPerson::objects().count(&db).unwrap(), 0);
    LowerStatusPerson(StatusPerson {
        person: person("homer"),
        status: "low".into(),
    })
    .create(&db)
    .unwrap();
    let names: Vec<String> = LowerStatusPerson::objects()
        .all(&db)
        .unwrap()
        .into_iter()
        .map(|l| l.name.clone())
        .collect();
    assert_eq!(names, ["homer"]);
}

// Django: ProxyModelTests.test_correct_type_proxy_of_proxy and test_concrete_model
#[test]
fn proxy_of_proxy() {
    let db = db();
    person("Foo McBar").create(&db).unwrap();
    MyPerson(person("Bazza del Frob")).create(&db).unwrap();
    let mut names: Vec<String> = MyPersonProxy::objects()
        .all(&db)
        .unwrap()
        .into_iter()
        .map(|p| p.name.clone())
        .collect();
    names.sort();
    assert_eq!(names, ["Bazza del Frob", "Foo McBar"]);
    assert!(MyPersonProxy::META.concrete().is(Person::META));
    assert!(MyPersonProxy::META.is_proxy());
    assert!(!Person::META.is_proxy());
}

// Django: ProxyModelTests.test_proxy_model_signals
#[test]
fn proxy_model_hooks_are_its_own() {
    let db = db();
    let out = Arc::new(Mutex::new(Vec::<String>::new()));
    let o = out.clone();
    db.on_pre_save::<MyPerson>(move |_, _| {
        o.lock().unwrap().push("MyPerson pre save".into());
        Ok(())
    });
    let o = out.clone();
    db.on_post_save::<MyPerson>(move |_, _, _| {
        o.lock().unwrap().push("MyPerson post save".into());
        Ok(())
    });
    let o = out.clone();
    db.on_pre_save::<Person>(move |_, _| {
        o.lock().unwrap().push("Person pre save".into());
        Ok(())
    });
    MyPerson(person("dino")).create(&db).unwrap();
    assert_eq!(
        *out.lock().unwrap(),
        ["MyPerson pre save", "MyPerson post save"]
    );
    out.lock().unwrap().clear();
    person("fred").create(&db).unwrap();
    assert_eq!(*out.lock().unwrap(), ["Person pre save"]);
}

// Django: ProxyModelTests.test_proxy_delete (and the collector's counts,
// labelled with the proxy's own label).
#[test]
fn proxy_delete() {
    let db = db();
    person("Bruce").create(&db).unwrap();
    let mut george = MyPerson(person("George")).create(&db).unwrap();
    assert_eq!(MyPerson::objects().count(&db).unwrap(), 2);
    let deleted = george.delete(&db).unwrap();
    assert_eq!(deleted.to_string(), r#"(1, {"proxy_models.MyPerson": 1})"#);
    let names: Vec<String> = MyPerson::objects()
        .all(&db)
        .unwrap()
        .into_iter()
        .map(|p| p.0.name)
        .collect();
    assert_eq!(names, ["Bruce"]);
}

// Django: ProxyModelTests.test_proxy_update
#[test]
fn proxy_update() {
    let db = db();
    let mut user = person("Bruce").create(&db).unwrap();
    let (n, cap) = db.capture(|| {
        MyPerson::objects()
            .filter(Q::kw("id", user.id))
            .update(
                &db,
                vec![(
                    Person::name().on::<MyPerson>(),
                    Value::Text("George".into()),
                )],
            )
            .unwrap()
    });
    assert_eq!((n, cap.len()), (1, 1));
    user.refresh(&db).unwrap();
    assert_eq!(user.name, "George");
}

// Django: ProxyModelTests.test_filter_proxy_relation_reverse, and a relation
// pointing at a proxy (Django's `ProxyBug.assignee`).
#[test]
fn relations_through_a_proxy() {
    let db = db();
    let tu = TrackerUser {
        id: None,
        name: "Contributor".into(),
    }
    .create(&db)
    .unwrap();
    let ptu = ProxyTrackerUser::objects().get(&db).unwrap();
    let issue = Issue {
        id: None,
        summary: "fix".into(),
        assignee: OneToOne::to(&tu),
    }
    .create(&db)
    .unwrap();
    assert_eq!(tu.issue(&db).unwrap().id, issue.id);
    // The reverse accessor of the concrete model, through `Deref`.
    assert_eq!(ptu.issue(&db).unwrap().id, issue.id);
    let found = ProxyTrackerUser::objects()
        .filter(Q::kw("issue__summary", "fix"))
        .get(&db)
        .unwrap();
    assert_eq!(found.id, tu.id);
    // A relation to the proxy stores the concrete row's key.
    let badge = Badge {
        id: None,
        holder: OneToOne::to(&ptu),
    }
    .create(&db)
    .unwrap();
    assert_eq!(badge.holder.get(&db).unwrap().name, "Contributor");
    let b = Badge::objects()
        .select_related(Badge::holder())
        .filter(Q::kw("holder__name", "Contributor"))
        .get(&db)
        .unwrap();
    assert_eq!(b.holder.cached().unwrap().name, "Contributor");
    // Deleting through the proxy cascades to rows pointing at the concrete
    // model and at the proxy.
    let mut ptu = ptu;
    let deleted = ptu.delete(&db).unwrap();
    assert_eq!(
        deleted.to_string(),
        r#"(3, {"proxy_models.Issue": 1, "proxy_models.Badge": 1, "proxy_models.ProxyTrackerUser": 1})"#
    );
    assert_eq!(TrackerUser::objects().count(&db).unwrap(), 0);
}

// Deleting the concrete model also reaches rows pointing at its proxies.
#[test]
fn deleting_the_concrete_model_reaches_relations_to_its_proxies() {
    let db = db();
    let mut tu = TrackerUser {
        id: None,
        name: "x".into(),
    }
    .create(&db)
    .unwrap();
    let ptu = ProxyTrackerUser::get(&db, tu.id).unwrap();
    Badge {
        id: None,
        holder: OneToOne::to(&ptu),
    }
    .create(&db)
    .unwrap();
    let deleted = tu.delete(&db).unwrap();
    assert_eq!(
        deleted.to_string(),
        r#"(2, {"proxy_models.Badge": 1, "proxy_models.TrackerUser": 1})"#
    );
}

// Django: a proxy has no table (`migrate` creates none; the
// `ProxyModelTests.test_same_manager_queries` SQL is the concrete model's).
#[test]
fn a_proxy_has_no_table_and_the_same_sql() {
    let db = db();
    let ddl = db.sql_create_all();
    assert!(ddl.contains("\"proxy_models_person\""));
    assert!(!ddl.contains("myperson"), "{ddl}");
    assert_eq!(
        MyPerson::objects().order_by("name").to_sql().unwrap(),
        Person::objects().order_by("name").to_sql().unwrap()
    );
}

// Django: ProxyModelTests.test_myperson_manager (a proxy's own default
// ordering) and the proxy's own verbose name.
#[test]
fn a_proxy_has_its_own_ordering() {
    let db = db();
    for n in ["fred", "wilma", "barney"] {
        person(n).create(&db).unwrap();
    }
    let names: Vec<String> = SortedPerson::objects()
        .all(&db)
        .unwrap()
        .into_iter()
        .map(|p| p.0.name)
        .collect();
    assert_eq!(names, ["wilma", "fred", "barney"]);
    assert!(Person::META.ordering().is_empty());
    assert_eq!(SortedPerson::META.verbose_name, "my sorted person");
    assert_eq!(MyPerson::META.verbose_name, "my person");
}
