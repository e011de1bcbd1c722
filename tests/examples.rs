//! Runs every program in `examples/` and checks the key lines of its output,
//! so the README's `cargo run --example NAME` commands keep doing what they
//! say.
//!
//! The examples are built once (`cargo build --examples`, the same profile
//! and target directory as this test) and their binaries run directly.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// `target/<profile>/examples`, next to this test's own `deps` directory.
fn examples_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("path of the test binary");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary lives in target/<profile>/deps");
    profile_dir.join("examples")
}

/// Builds every example once per test run, so a stale binary is never run.
fn build_examples() {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args([
            "build",
            "--quiet",
            "--examples",
            "-p",
            env!("CARGO_PKG_NAME"),
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
        // Debug assertions are on exactly in the profiles cargo test uses by
        // default (dev/test); off means `--release`.
        if !cfg!(debug_assertions) {
            cmd.arg("--release");
        }
        let out = cmd.output().map_err(|e| format!("cannot run cargo: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "cargo build --examples failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    });
    if let Err(e) = built {
        panic!("{e}");
    }
}

/// The names of the programs in `examples/`.
fn example_names() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("examples/ directory")
        .filter_map(|e| {
            let path = e.ok()?.path();
            if path.extension()? == "rs" {
                Some(path.file_stem()?.to_str()?.to_string())
            } else if path.is_dir() && path.join("main.rs").exists() {
                Some(path.file_name()?.to_str()?.to_string())
            } else {
                None
            }
        })
        .collect();
    names.sort();
    names
}

/// Runs example `name`, asserts it exits successfully, returns its stdout.
fn run(name: &str) -> String {
    build_examples();
    let bin = examples_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let out = Command::new(&bin)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "example {name} failed with {}\n--- stdout\n{stdout}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Asserts that every expected line appears in `out`, whole and in order
/// (other lines may come in between).
#[track_caller]
fn assert_lines(name: &str, out: &str, expected: &[&str]) {
    let mut lines = out.lines();
    for want in expected {
        if !lines.any(|l| l == *want) {
            panic!("example {name}: missing line (or out of order)\n  {want}\n--- output\n{out}");
        }
    }
}

#[test]
fn every_example_runs_cleanly() {
    let names = example_names();
    for required in [
        "auto_profile",
        "inheritance",
        "on_delete",
        "passport",
        "select_related",
        "staff_note",
        "user_profile",
        "web_threads",
    ] {
        assert!(
            names.iter().any(|n| n == required),
            "examples/{required}.rs is missing"
        );
    }
    for name in &names {
        let out = run(name);
        assert!(!out.trim().is_empty(), "example {name} printed nothing");
        for line in out.lines() {
            assert!(
                !line.contains("unexpected") && !line.contains("not implemented"),
                "example {name}: {line}\n--- output\n{out}"
            );
        }
    }
}

#[test]
fn user_profile() {
    let out = run("user_profile");
    assert_lines(
        "user_profile",
        &out,
        &[
            "created profile 1 for user johndoe",
            "profile.user_id = Some(1) (no query)",
            "profile.user.username = johndoe",
            "user.profile.bio = Hello, I'm John!",
            "user.profile.date_of_birth = 1990-05-17",
            "profile_picture.url = /media/profile_pics/me.png (2x3)",
            "profiles born before 2000: 1",
            "jane.profile -> User has no profile.",
            "getattr(jane, \"profile\", None) -> None",
            "second profile for johndoe -> UNIQUE constraint failed: app_profile.user_id",
            "profiles of user johndoe: 1",
            "users whose profile bio contains 'John': 1",
            "users without a profile: [\"jane\"]",
            "johndoe -> Hello, I'm John!",
            "select_related loop ran 1 statement(s)",
        ],
    );
}

#[test]
fn auto_profile() {
    let out = run("auto_profile");
    assert_lines(
        "auto_profile",
        &out,
        &[
            "User.objects.create(username=\"johndoe\")",
            "  [post_save Profile id=1 created=true]",
            "user.profile -> Profile 1 of user johndoe",
            "profiles: 1",
            "profiles after re-save: 1",
            "Profile.objects.create(user=user) -> UNIQUE constraint failed: app_profile.user_id",
            "get_or_create(user=user) -> (Profile 1, created=false)",
            "user.profile.bio = Hello, I'm John!",
            "User.objects.create(username=\"bot-7\") -> pre_save hook of Profile failed: bots get no profile",
            "after the failed save: bot.id = None, users = 1, profiles = 1",
            r#"user.delete() -> (2, {"app.Profile": 1, "auth.User": 1})"#,
        ],
    );
}

#[test]
fn staff_note() {
    let out = run("staff_note");
    assert_lines(
        "staff_note",
        &out,
        &[
            "StaffNote.user choices: [\"admin\", \"editor\"]",
            "note for admin: valid",
            "saved note 1 for admin",
            "note for intern: 1 error(s)",
            "  user: user instance with id 2 is not a valid choice.",
            "as one message: StaffNote failed validation: user: user instance with id 2 is not a valid choice.",
            "second note for admin, blank text: 2 error(s)",
            "  user: Staff note with this User already exists.",
            "  text: This field cannot be blank.",
            "the saved note again: valid",
            "editor's note after demotion: 1 error(s)",
            "  user: user instance with id 3 is not a valid choice.",
            "save() without full_clean(): stored note 3 for intern",
        ],
    );
    assert!(
        out.contains("WHERE \"auth_user\".\"is_staff\" = ?"),
        "the choices query filters on is_staff:\n{out}"
    );
}

#[test]
fn passport() {
    let out = run("passport");
    assert_lines(
        "passport",
        &out,
        &[
            "CREATE TABLE \"app_passport\" (\"person_id\" bigint NOT NULL PRIMARY KEY REFERENCES \"app_person\" (\"id\") DEFERRABLE INITIALLY DEFERRED, \"number\" varchar(20) NOT NULL);",
            "passport.pk() == alice.pk(): true (passport.person_id = 1)",
            "Passport.get(pk=1) -> X1234567 of Alice",
            "alice.passport.number = X1234567",
            "bob.passport -> Person has no passport.",
            "people whose passport number starts with X: 1",
            "passports after saving another one for alice: 1 (number now Y7654321)",
            "after passport.person = bob; save(): passport keys [1, 2]",
            "badge.employee.name = Ann",
            "ann.badge.code = B-001",
            "spare.employee -> Badge has no employee.",
            "getattr(spare, \"employee\", None) -> None",
            "badges without an employee: [\"B-002\"]",
            "Badge.objects.get(employee__name=\"Ann\") -> B-001",
            r#"bob.delete() -> (2, {"app.Passport": 1, "app.Person": 1})"#,
        ],
    );
}

#[test]
fn select_related() {
    let out = run("select_related");
    let names = r#"["user1", "user2", "user3", "user4", "user5"]"#;
    let bios = r#"["bio 1", "bio 2", "bio 3", "bio 4", "bio 5"]"#;
    assert_lines(
        "select_related",
        &out,
        &[
            "5 users, each with a profile",
            &format!("without select_related: 6 statements (1 + N) -> {names}"),
            &format!("with select_related: 1 statement -> {names}"),
            &format!("reverse without select_related: 6 statements (1 + N) -> {bios}"),
            &format!("reverse with select_related(\"profile\"): 1 statement -> {bios}"),
        ],
    );
    assert!(out.contains("INNER JOIN \"auth_user\""), "{out}");
    assert!(out.contains("LEFT OUTER JOIN \"app_profile\""), "{out}");
}

#[test]
fn inheritance() {
    let out = run("inheritance");
    assert_lines(
        "inheritance",
        &out,
        &[
            "CREATE TABLE \"seedapp_like\" (\"page_ptr_id\" bigint NOT NULL PRIMARY KEY REFERENCES \"seedapp_page\" (\"id\") DEFERRABLE INITIALLY DEFERRED, \"likes\" integer NOT NULL);",
            "CREATE TABLE \"seedapp_husband\" (\"age\" integer NULL, \"wife_id\" bigint NOT NULL PRIMARY KEY REFERENCES \"seedapp_women\" (\"id\") DEFERRABLE INITIALLY DEFERRED);",
            "  INSERT INTO \"seedapp_page\" (\"profile_id\", \"page_name\") VALUES (?, ?)",
            "  INSERT INTO \"seedapp_like\" (\"page_ptr_id\", \"likes\") VALUES (?, ?)",
            "like.page_name = \"John's page\", like.likes = 10",
            "page.like.likes = 10",
            "plain page .like -> Page has no like.",
            "getattr(plain, \"like\", None) -> None",
            "mary.husband before -> Err(\"Women has no husband.\")",
            r#"like.delete() -> (2, {"seedapp.Like": 1, "seedapp.Page": 1})"#,
            r#"promoted.delete(keep_parents=True) -> (1, {"seedapp.Like": 1})"#,
            r#"jane's user.delete() -> (4, {"seedapp.Like": 1, "seedapp.Page": 1, "seedapp.PageOwnerProfile": 1, "auth.User": 1})"#,
            r#"mary.delete() -> (2, {"seedapp.Husband": 1, "seedapp.Women": 1})"#,
        ],
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("loaded in 1 statement: SELECT")),
        "a multi-table child loads with one JOIN:\n{out}"
    );
}

#[test]
fn on_delete() {
    let out = run("on_delete");
    assert_lines(
        "on_delete",
        &out,
        &[
            r#"CASCADE     owner.delete(): (2, {"shop.Badge": 1, "shop.Owner": 1})"#,
            "PROTECT     owner.delete(): Cannot delete some instances of model 'Owner' because they are referenced through protected foreign keys: 'Guarded.owner'.",
            "            blocked by shop.Guarded object (1) through 'Guarded.owner'",
            "            nullable.owner_id = None",
            "            defaulted.owner_id = Some(1)",
            "            marked.owner_id = Some(0)",
            "            loose.owner_id = Some(7) (dangling)",
            "RESTRICT    owner.delete(): Cannot delete some instances of model 'Owner' because they are referenced through restricted foreign keys: 'Restricted.owner'.",
            "RESTRICT    album1.delete(): Cannot delete some instances of model 'Album' because they are referenced through restricted foreign keys: 'Song.album'.",
            "RESTRICT    artist2.delete(): Cannot delete some instances of model 'Artist' because they are referenced through restricted foreign keys: 'Song.album'.",
            r#"RESTRICT    artist1.delete(): (3, {"music.Song": 1, "music.Album": 1, "music.Artist": 1})"#,
            r#"QUERY       Owner.objects.filter(name__startswith="q").delete(): (6, {"shop.Badge": 3, "shop.Owner": 3})"#,
        ],
    );
}

#[test]
fn web_threads() {
    let out = run("web_threads");
    assert_lines(
        "web_threads",
        &out,
        &[
            "/signup/user0: HTTP/1.0 201 Created welcome user0",
            "/users/nobody3: HTTP/1.0 404 Not Found no such user",
            "/users/user0: HTTP/1.0 200 OK <h1>user0</h1><p>user0 joined</p>",
            "/users/user3: HTTP/1.0 200 OK <h1>user3</h1><p>user3 joined</p>",
            "4 users, 4 profiles, made by one hook on 4 threads",
        ],
    );
}
