//! Seed 002: `limit_choices_to={'is_staff': True}` ("only staff users can be
//! selected"). The allowed users are a query; `full_clean` refuses a
//! non-staff user and names the field; every problem is reported at once.
//!
//! Run with `cargo run --example staff_note`.

use orm_core::prelude::*;

/// Django's `auth.User`, reduced to what the tutorials use.
#[derive(Model, Debug, Clone)]
#[model(app = "auth")]
pub struct User {
    pub id: Option<i64>,
    #[field(unique, max_length = 150)]
    pub username: String,
    pub is_staff: bool,
}

/// ```python
/// class StaffNote(models.Model):
///     user = models.OneToOneField(User, on_delete=models.CASCADE,
///                                 limit_choices_to={"is_staff": True})
///     text = models.TextField()
/// ```
#[derive(Model, Debug, Clone)]
#[model(app = "app")]
pub struct StaffNote {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", limit_choices_to(is_staff = true))]
    pub user: OneToOne<User>,
    pub text: String,
}

/// Prints the outcome of `full_clean`, one line per problem.
fn report(what: &str, r: Result<()>) {
    match r {
        Ok(()) => println!("{what}: valid"),
        Err(Error::Validation(v)) => {
            println!("{what}: {} error(s)", v.errors.len());
            for (field, msg) in &v.errors {
                println!("  {field}: {msg}");
            }
        }
        Err(e) => println!("{what}: {e}"),
    }
}

fn main() -> orm_core::Result<()> {
    let db = Db::open_in_memory()?;
    db.migrate()?;

    let admin = User {
        id: None,
        username: "admin".into(),
        is_staff: true,
    }
    .create(&db)?;
    let intern = User {
        id: None,
        username: "intern".into(),
        is_staff: false,
    }
    .create(&db)?;
    let editor = User {
        id: None,
        username: "editor".into(),
        is_staff: true,
    }
    .create(&db)?;

    // The admin's select box: the users the relation may point at.
    let choices = StaffNote::user_choices()
        .order_by(User::username().asc())
        .all(&db)?;
    println!(
        "StaffNote.user choices: {:?}",
        choices
            .iter()
            .map(|u| u.username.as_str())
            .collect::<Vec<_>>()
    );
    let (sql, _) = StaffNote::user_choices().to_sql()?;
    println!("choices SQL: {sql}");

    // A staff user: validates, then saves.
    let mut note = StaffNote {
        id: None,
        user: OneToOne::to(&admin),
        text: "Quarterly review".into(),
    };
    report("note for admin", note.full_clean(&db));
    note.save(&db)?;
    println!(
        "saved note {} for {}",
        note.id.unwrap_or_default(),
        note.user.get(&db)?.username
    );

    // A non-staff user: the error names the field and the refused object.
    let bad = StaffNote {
        id: None,
        user: OneToOne::to(&intern),
        text: "Hi".into(),
    };
    report("note for intern", bad.full_clean(&db));
    if let Err(e) = bad.full_clean(&db) {
        println!("as one message: {e}");
    }

    // Every problem at once: a taken user (the one-to-one is UNIQUE) and a blank text.
    let twice = StaffNote {
        id: None,
        user: OneToOne::to(&admin),
        text: String::new(),
    };
    report("second note for admin, blank text", twice.full_clean(&db));

    // The saved note still validates: its own row does not count as a clash.
    report("the saved note again", note.full_clean(&db));

    // Losing staff status makes the existing note invalid: the check reads the database.
    let mut editor = editor;
    let editors_note = StaffNote {
        id: None,
        user: OneToOne::to(&editor),
        text: "Style guide".into(),
    }
    .create(&db)?;
    editor.is_staff = false;
    editor.save(&db)?;
    report("editor's note after demotion", editors_note.full_clean(&db));

    // Like Django, limit_choices_to is a validation (admin/form) rule, not a
    // database constraint: save() without full_clean() stores the row.
    let unchecked = StaffNote {
        id: None,
        user: OneToOne::to(&intern),
        text: "unchecked".into(),
    }
    .create(&db)?;
    println!(
        "save() without full_clean(): stored note {} for intern",
        unchecked.id.unwrap_or_default()
    );
    Ok(())
}
