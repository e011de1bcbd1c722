//! Validation (Django's `full_clean`): `max_length`, blank required text,
//! uniqueness checked before the database sees the row, `limit_choices_to`
//! (the seed's staff-only note) and the choices a relation allows; every
//! problem reported at once, per field.

use orm_core::prelude::*;
use orm_core::ValidationErrors;

#[derive(Model, Debug, Clone)]
#[model(app = "auth")]
pub struct User {
    pub id: Option<i64>,
    #[field(unique, max_length = 150)]
    pub username: String,
    pub is_staff: bool,
}

#[derive(Model, Debug, Clone)]
#[model(app = "app")]
pub struct Profile {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", related_name = "profile")]
    pub user: OneToOne<User>,
    pub bio: Option<String>,
}

/// Seed 002: `OneToOneField(User, on_delete=CASCADE, limit_choices_to={"is_staff": True})`.
#[derive(Model, Debug, Clone)]
#[model(app = "app")]
pub struct StaffNote {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", limit_choices_to(is_staff = true))]
    pub user: OneToOne<User>,
    pub text: String,
}

/// A nullable one-to-one (`null=True, on_delete=SET_NULL`).
#[derive(Model, Debug, Clone)]
#[model(app = "app")]
pub struct Mentor {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "set_null")]
    pub user: Option<OneToOne<User>>,
}

/// Several constrained fields, to see every problem at once.
#[derive(Model, Debug, Clone)]
#[model(app = "app")]
pub struct Article {
    pub id: Option<i64>,
    #[field(max_length = 10)]
    pub title: String,
    #[field(unique, max_length = 20)]
    pub slug: String,
    #[field(blank)]
    pub summary: String,
    #[field(max_length = 5)]
    pub tag: Option<String>,
}

/// A multi-table parent with a unique field, and its child.
#[derive(Model, Debug, Clone)]
#[model(app = "app")]
pub struct Place {
    pub id: Option<i64>,
    #[field(unique, max_length = 50)]
    pub name: String,
}

#[derive(Model, Debug, Clone)]
#[model(app = "app")]
pub struct Restaurant {
    #[parent]
    pub place: Place,
    #[field(max_length = 20)]
    pub cuisine: String,
}

fn setup() -> Result<Db> {
    let db = Db::open_in_memory()?;
    db.migrate()?;
    Ok(db)
}

fn user(name: &str, is_staff: bool) -> User {
    User {
        id: None,
        username: name.into(),
        is_staff,
    }
}

fn article(title: &str, slug: &str) -> Article {
    Article {
        id: None,
        title: title.into(),
        slug: slug.into(),
        summary: String::new(),
        tag: None,
    }
}

/// The per-field errors of a failed `full_clean`.
fn errors_of(r: Result<()>) -> ValidationErrors {
    match r {
        Err(Error::Validation(v)) => v,
        Err(other) => panic!("expected a validation error, got {other:?}"),
        Ok(()) => panic!("expected a validation error, got Ok"),
    }
}

fn pairs(v: &ValidationErrors) -> Vec<(&str, &str)> {
    v.errors
        .iter()
        .map(|(f, m)| (f.as_str(), m.as_str()))
        .collect()
}

// ------------------------------------------------------------- field checks

#[test]
fn valid_instance_passes() -> Result<()> {
    let db = setup()?;
    user("johndoe", false).full_clean(&db)?;
    article("Hello", "hello").full_clean(&db)?;
    Ok(())
}

#[test]
fn max_length_reports_the_limit_and_the_actual_length() -> Result<()> {
    let db = setup()?;
    let v = errors_of(user(&"x".repeat(151), false).full_clean(&db));
    assert_eq!(v.model, "User");
    assert_eq!(
        pairs(&v),
        [(
            "username",
            "Ensure this value has at most 150 characters (it has 151)."
        )]
    );
    user(&"x".repeat(150), false).full_clean(&db)?;
    Ok(())
}

#[test]
fn max_length_counts_characters_not_bytes() -> Result<()> {
    let db = setup()?;
    // Ten characters, twenty bytes.
    article("éééééééééé", "e").full_clean(&db)?;
    let v = errors_of(article("ééééééééééé", "e").full_clean(&db));
    assert_eq!(
        v.field("title"),
        ["Ensure this value has at most 10 characters (it has 11)."]
    );
    Ok(())
}

#[test]
fn max_length_applies_to_optional_text_when_set() -> Result<()> {
    let db = setup()?;
    let mut a = article("Hi", "hi");
    a.full_clean(&db)?; // tag: None
    a.tag = Some("toolong".into());
    let v = errors_of(a.full_clean(&db));
    assert_eq!(
        v.field("tag"),
        ["Ensure this value has at most 5 characters (it has 7)."]
    );
    Ok(())
}

#[test]
fn blank_required_text_is_refused() -> Result<()> {
    let db = setup()?;
    let v = errors_of(user("", false).full_clean(&db));
    assert_eq!(pairs(&v), [("username", "This field cannot be blank.")]);
    Ok(())
}

#[test]
fn blank_is_allowed_where_declared_or_optional() -> Result<()> {
    let db = setup()?;
    // `summary` is #[field(blank)]; `tag` and `bio` are Option.
    let mut a = article("Hi", "hi");
    a.tag = Some(String::new());
    a.full_clean(&db)?;
    let u = user("ann", false).create(&db)?;
    Profile {
        id: None,
        user: OneToOne::to(&u),
        bio: Some(String::new()),
    }
    .full_clean(&db)?;
    Ok(())
}

// --------------------------------------------------------------- uniqueness

#[test]
fn uniqueness_is_checked_before_the_database_sees_the_row() -> Result<()> {
    let db = setup()?;
    user("johndoe", false).create(&db)?;
    let dup = user("johndoe", true);
    let (r, captured) = db.capture(|| dup.full_clean(&db));
    let v = errors_of(r);
    assert_eq!(
        pairs(&v),
        [("username", "User with this Username already exists.")]
    );
    // Only reads ran: nothing was written, and the table still has one row.
    assert!(!captured.is_empty());
    assert!(
        captured.queries.iter().all(|q| q.starts_with("SELECT")),
        "{:?}",
        captured.queries
    );
    assert_eq!(User::objects().count(&db)?, 1);
    assert_eq!(
        v.to_string(),
        "User failed validation: username: User with this Username already exists."
    );
    Ok(())
}

#[test]
fn uniqueness_excludes_the_instance_itself() -> Result<()> {
    let db = setup()?;
    let mut u = user("johndoe", false).create(&db)?;
    u.is_staff = true;
    u.full_clean(&db)?; // its own row does not count
    u.save(&db)?;
    let mut other = user("jane", false).create(&db)?;
    other.username = "johndoe".into();
    let v = errors_of(other.full_clean(&db));
    assert_eq!(
        v.field("username"),
        ["User with this Username already exists."]
    );
    Ok(())
}

#[test]
fn one_to_one_uniqueness_is_validated() -> Result<()> {
    let db = setup()?;
    let u = user("johndoe", false).create(&db)?;
    let first = Profile {
        id: None,
        user: OneToOne::to(&u),
        bio: None,
    }
    .create(&db)?;
    first.full_clean(&db)?;
    let second = Profile {
        id: None,
        user: OneToOne::to(&u),
        bio: None,
    };
    let v = errors_of(second.full_clean(&db));
    assert_eq!(
        pairs(&v),
        [("user", "Profile with this User already exists.")]
    );
    Ok(())
}

#[test]
fn save_does_not_validate_but_the_database_still_refuses() -> Result<()> {
    // Like Django, save() does not call full_clean(); the UNIQUE key still holds.
    let db = setup()?;
    user("johndoe", false).create(&db)?;
    let err = user("johndoe", false).create(&db).unwrap_err();
    assert_eq!(
        err.to_string(),
        "UNIQUE constraint failed: auth_user.username"
    );
    // A too-long name is stored: SQLite does not enforce VARCHAR lengths.
    user(&"x".repeat(200), false).create(&db)?;
    Ok(())
}

#[test]
fn multi_table_child_validates_parent_fields_too() -> Result<()> {
    let db = setup()?;
    // A plain Place (not a restaurant) already holds the name.
    Place {
        id: None,
        name: "Chez Marie".into(),
    }
    .create(&db)?;
    let r = Restaurant {
        place: Place {
            id: None,
            name: "Chez Marie".into(),
        },
        cuisine: "a very long cuisine name".into(),
    };
    let v = errors_of(r.full_clean(&db));
    assert_eq!(v.model, "Restaurant");
    // The parent's fields come first, as in Django's message_dict.
    let fields: Vec<&str> = v.errors.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(fields, ["name", "cuisine"]);
    assert_eq!(v.field("name"), ["Place with this Name already exists."]);
    assert_eq!(
        v.field("cuisine"),
        ["Ensure this value has at most 20 characters (it has 24)."]
    );
    // A saved restaurant does not clash with its own parent row.
    let mine = Restaurant {
        place: Place {
            id: None,
            name: "Le Bistro".into(),
        },
        cuisine: "french".into(),
    }
    .create(&db)?;
    mine.full_clean(&db)?;
    Ok(())
}

// ------------------------------------------------------- limit_choices_to

#[test]
fn limit_choices_to_refuses_a_non_staff_user() -> Result<()> {
    let db = setup()?;
    let staff = user("boss", true).create(&db)?;
    let plain = user("intern", false).create(&db)?;
    StaffNote {
        id: None,
        user: OneToOne::to(&staff),
        text: "ok".into(),
    }
    .full_clean(&db)?;
    let note = StaffNote {
        id: None,
        user: OneToOne::to(&plain),
        text: "not allowed".into(),
    };
    let v = errors_of(note.full_clean(&db));
    assert_eq!(v.model, "StaffNote");
    assert_eq!(
        pairs(&v),
        [("user", "user instance with id 2 is not a valid choice.")]
    );
    assert_eq!(
        Error::Validation(v).to_string(),
        "StaffNote failed validation: user: user instance with id 2 is not a valid choice."
    );
    Ok(())
}

#[test]
fn limit_choices_to_follows_the_database_not_the_cached_object() -> Result<()> {
    let db = setup()?;
    let mut u = user("boss", true).create(&db)?;
    let note = StaffNote {
        id: None,
        user: OneToOne::to(&u),
        text: "hi".into(),
    };
    note.full_clean(&db)?;
    u.is_staff = false;
    u.save(&db)?;
    // The note still caches the staff version of the user; the check reads the row.
    let v = errors_of(note.full_clean(&db));
    assert_eq!(v.field("user").len(), 1);
    Ok(())
}

#[test]
fn allowed_choices_can_be_queried() -> Result<()> {
    let db = setup()?;
    for (name, staff) in [("ann", true), ("bob", false), ("cy", true), ("dee", false)] {
        user(name, staff).create(&db)?;
    }
    let names = |rows: Vec<User>| rows.into_iter().map(|u| u.username).collect::<Vec<_>>();
    assert_eq!(
        names(
            StaffNote::user_choices()
                .order_by(User::username().asc())
                .all(&db)?
        ),
        ["ann", "cy"]
    );
    assert_eq!(StaffNote::user_choices().count(&db)?, 2);
    // The choices are an ordinary QuerySet: narrow them further.
    assert_eq!(
        names(
            StaffNote::user_choices()
                .filter(User::username().starts_with("c"))
                .all(&db)?
        ),
        ["cy"]
    );
    // A relation without limit_choices_to allows every row.
    assert_eq!(Profile::user_choices().count(&db)?, 4);
    Ok(())
}

// ----------------------------------------------------------- all at once

#[test]
fn every_problem_is_reported_at_once_per_field() -> Result<()> {
    let db = setup()?;
    article("First", "taken").create(&db)?;
    let mut a = article("", "taken");
    a.tag = Some("far too long".into());
    let v = errors_of(a.full_clean(&db));
    assert_eq!(v.model, "Article");
    assert_eq!(v.field("title"), ["This field cannot be blank."]);
    assert_eq!(v.field("slug"), ["Article with this Slug already exists."]);
    assert_eq!(
        v.field("tag"),
        ["Ensure this value has at most 5 characters (it has 12)."]
    );
    assert!(v.field("summary").is_empty());
    // In field declaration order, whichever check found them.
    let fields: Vec<&str> = v.errors.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(fields, ["title", "slug", "tag"]);
    Ok(())
}

#[test]
fn uniqueness_is_skipped_for_a_field_that_already_failed() -> Result<()> {
    // Django runs the unique checks only for fields that passed clean_fields().
    let db = setup()?;
    let long = "s".repeat(21);
    article("x", &long).create(&db)?; // save() does not validate
    let v = errors_of(article("x", &long).full_clean(&db));
    assert_eq!(
        pairs(&v),
        [(
            "slug",
            "Ensure this value has at most 20 characters (it has 21)."
        )]
    );
    Ok(())
}

#[test]
fn relation_and_field_errors_come_together() -> Result<()> {
    let db = setup()?;
    let staff = user("boss", true).create(&db)?;
    let plain = user("intern", false).create(&db)?;
    StaffNote {
        id: None,
        user: OneToOne::to(&staff),
        text: "first".into(),
    }
    .create(&db)?;
    // A taken staff user and a blank text: one error each.
    let v = errors_of(
        StaffNote {
            id: None,
            user: OneToOne::to(&staff),
            text: String::new(),
        }
        .full_clean(&db),
    );
    assert_eq!(
        pairs(&v),
        [
            ("user", "Staff note with this User already exists."),
            ("text", "This field cannot be blank."),
        ]
    );
    // A non-staff user is refused before uniqueness is looked at.
    StaffNote {
        id: None,
        user: OneToOne::to(&plain),
        text: "unchecked".into(),
    }
    .create(&db)?; // save() does not validate
    let v = errors_of(
        StaffNote {
            id: None,
            user: OneToOne::to(&plain),
            text: "again".into(),
        }
        .full_clean(&db),
    );
    assert_eq!(
        pairs(&v),
        [("user", "user instance with id 2 is not a valid choice.")]
    );
    Ok(())
}

#[test]
fn a_dangling_key_does_not_exist() -> Result<()> {
    let db = setup()?;
    let p = Profile {
        id: None,
        user: OneToOne::from_key(99),
        bio: None,
    };
    let v = errors_of(p.full_clean(&db));
    assert_eq!(
        pairs(&v),
        [("user", "user instance with id 99 does not exist.")]
    );
    // With limit_choices_to, a missing row is still "does not exist".
    let n = StaffNote {
        id: None,
        user: OneToOne::from_key(99),
        text: "x".into(),
    };
    let v = errors_of(n.full_clean(&db));
    assert_eq!(
        v.field("user"),
        ["user instance with id 99 does not exist."]
    );
    Ok(())
}

#[test]
fn a_nullable_relation_may_be_empty() -> Result<()> {
    let db = setup()?;
    Mentor {
        id: None,
        user: None,
    }
    .full_clean(&db)?;
    let v = errors_of(
        Mentor {
            id: None,
            user: Some(OneToOne::from_key(7)),
        }
        .full_clean(&db),
    );
    assert_eq!(
        pairs(&v),
        [("user", "user instance with id 7 does not exist.")]
    );
    Ok(())
}

#[test]
fn an_unsaved_related_object_cannot_be_null() -> Result<()> {
    let db = setup()?;
    let unsaved = user("ghost", false);
    let p = Profile {
        id: None,
        user: OneToOne::to(&unsaved),
        bio: None,
    };
    let v = errors_of(p.full_clean(&db));
    assert_eq!(pairs(&v), [("user", "This field cannot be null.")]);
    Ok(())
}

#[test]
fn validate_then_save_is_the_form_workflow() -> Result<()> {
    let db = setup()?;
    let staff = user("boss", true).create(&db)?;
    let mut note = StaffNote {
        id: None,
        user: OneToOne::to(&staff),
        text: "quarterly review".into(),
    };
    note.full_clean(&db)?;
    note.save(&db)?;
    assert_eq!(StaffNote::get(&db, note.id)?.text, "quarterly review");
    // The saved note still validates (its own row excluded from uniqueness).
    note.full_clean(&db)?;
    Ok(())
}
