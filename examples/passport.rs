//! Seed 003: `Passport.person = OneToOneField(Person, primary_key=True)`,
//! where the relation is the primary key, and
//! `Employee.badge = OneToOneField(Badge, related_name='employee')`, read
//! back as `badge.employee`.
//!
//! Run with `cargo run --example passport`.

use orm_core::prelude::*;

/// `class Person(models.Model): name = models.CharField(max_length=100)`
#[derive(Model, Debug, Clone)]
#[model(app = "app")]
pub struct Person {
    pub id: Option<i64>,
    #[field(max_length = 100)]
    pub name: String,
}

/// `person = models.OneToOneField(Person, on_delete=models.CASCADE, primary_key=True)`:
/// the passport's key is its person's key; there is no `id` column.
#[derive(Model, Debug, Clone)]
#[model(app = "app")]
pub struct Passport {
    #[one_to_one(on_delete = "cascade", primary_key)]
    pub person: OneToOne<Person>,
    #[field(max_length = 20)]
    pub number: String,
}

/// `class Badge(models.Model): code = models.CharField(max_length=20)`
#[derive(Model, Debug, Clone)]
#[model(app = "app")]
pub struct Badge {
    pub id: Option<i64>,
    #[field(max_length = 20)]
    pub code: String,
}

/// `badge = models.OneToOneField(Badge, on_delete=models.CASCADE, related_name='employee')`
#[derive(Model, Debug, Clone)]
#[model(app = "app")]
pub struct Employee {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", related_name = "employee")]
    pub badge: OneToOne<Badge>,
    #[field(max_length = 100)]
    pub name: String,
}

fn main() -> orm_core::Result<()> {
    let db = Db::open_in_memory()?;
    db.migrate()?;

    // ---- Person / Passport: the one-to-one is the primary key.
    println!("{}", orm_core::schema::create_table(Passport::META).sql);
    let alice = Person {
        id: None,
        name: "Alice".into(),
    }
    .create(&db)?;
    let bob = Person {
        id: None,
        name: "Bob".into(),
    }
    .create(&db)?;
    let passport = Passport {
        person: OneToOne::to(&alice),
        number: "X1234567".into(),
    }
    .create(&db)?;
    println!(
        "passport.pk() == alice.pk(): {} (passport.person_id = {})",
        passport.pk() == alice.pk(),
        passport.person.id().unwrap_or_default()
    );

    // Passport.objects.get(pk=alice.pk); passport.person; person.passport
    let p = Passport::get(&db, alice.id)?;
    println!(
        "Passport.get(pk={}) -> {} of {}",
        alice.id.unwrap_or_default(),
        p.number,
        p.person.get(&db)?.name
    );
    println!("alice.passport.number = {}", alice.passport(&db)?.number);
    match bob.passport(&db) {
        Err(e) => println!("bob.passport -> {e}"),
        Ok(p) => println!("bob.passport -> {}", p.number),
    }
    let holders = Person::objects()
        .filter(Q::kw("passport__number__startswith", "X"))
        .count(&db)?;
    println!("people whose passport number starts with X: {holders}");

    // One passport per person by construction: the key is the person. Saving a
    // passport for alice again updates her row (Django's save() does the same).
    Passport {
        person: OneToOne::to(&alice),
        number: "Y7654321".into(),
    }
    .save(&db)?;
    println!(
        "passports after saving another one for alice: {} (number now {})",
        Passport::objects().count(&db)?,
        alice.passport(&db)?.number
    );

    // Re-pointing the key and saving inserts a new row; the old one stays
    // (Django's documented test_setter behaviour).
    let mut moved = Passport::get(&db, alice.id)?;
    moved.person.set(&bob);
    moved.save(&db)?;
    let keys: Vec<_> = Passport::objects()
        .order_by(Passport::person().key().asc())
        .all(&db)?;
    println!(
        "after passport.person = bob; save(): passport keys {:?}",
        keys.iter()
            .map(|p| p.person.id().unwrap_or_default())
            .collect::<Vec<_>>()
    );

    // ---- Badge / Employee: related_name="employee" names the reverse accessor.
    let badge = Badge {
        id: None,
        code: "B-001".into(),
    }
    .create(&db)?;
    let spare = Badge {
        id: None,
        code: "B-002".into(),
    }
    .create(&db)?;
    let ann = Employee {
        id: None,
        badge: OneToOne::to(&badge),
        name: "Ann".into(),
    }
    .create(&db)?;
    println!("badge.employee.name = {}", badge.employee(&db)?.name);
    println!("ann.badge.code = {}", ann.badge.get(&db)?.code);
    match spare.employee(&db) {
        Err(e) => println!("spare.employee -> {e}"),
        Ok(e) => println!("spare.employee -> {}", e.name),
    }
    println!(
        "getattr(spare, \"employee\", None) -> {:?}",
        spare.employee_opt(&db)?.map(|e| e.name)
    );
    let unassigned = Badge::objects()
        .filter(Q::kw("employee__isnull", true))
        .all(&db)?;
    println!(
        "badges without an employee: {:?}",
        unassigned
            .iter()
            .map(|b| b.code.as_str())
            .collect::<Vec<_>>()
    );
    let by_name = Badge::objects()
        .filter(Q::kw("employee__name", "Ann"))
        .get(&db)?;
    println!(
        "Badge.objects.get(employee__name=\"Ann\") -> {}",
        by_name.code
    );

    // on_delete=CASCADE: deleting the person deletes the passport.
    let mut bob = bob;
    match bob.delete(&db) {
        Ok(deleted) => println!("bob.delete() -> {deleted}"),
        Err(e) => println!("bob.delete() -> {e}"),
    }
    Ok(())
}
