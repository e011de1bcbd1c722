//! FileField and ImageField (feature `files`): `FieldFile` and `ImageFile`
//! store the file's name in the row and the content in a `Storage`;
//! `FileSystemStorage` refuses names that would leave its directory, never
//! overwrites a file, and writes through a temporary file.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use orm_core::prelude::*;
use orm_core::storage::generate_filename;
use orm_core::{FieldFile, FileSystemStorage, ImageFile, Storage, StorageErrorKind};

#[derive(Model, Debug, Clone, PartialEq)]
#[model(app = "files")]
pub struct Profile {
    pub id: Option<i64>,
    pub username: String,
    pub resume: Option<FieldFile>,
    pub avatar: ImageFile,
    #[field(max_length = 255)]
    pub cover: FieldFile,
}

/// A storage in a fresh directory under the system's temp dir, removed when
/// the test ends.
struct TempStorage {
    storage: FileSystemStorage,
}

impl TempStorage {
    fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "orm-files-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        TempStorage {
            storage: FileSystemStorage::new(dir, "/media/"),
        }
    }

    fn dir(&self) -> &PathBuf {
        &self.storage.location
    }
}

impl Drop for TempStorage {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.storage.location);
    }
}

impl std::ops::Deref for TempStorage {
    type Target = FileSystemStorage;
    fn deref(&self) -> &FileSystemStorage {
        &self.storage
    }
}

/// A PNG as far as its header goes: the signature and an IHDR chunk.
fn png(width: u32, height: u32) -> Vec<u8> {
    let mut b = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    b.extend_from_slice(&13u32.to_be_bytes());
    b.extend_from_slice(b"IHDR");
    b.extend_from_slice(&width.to_be_bytes());
    b.extend_from_slice(&height.to_be_bytes());
    // Bit depth 8, colour type 6 (RGBA), compression, filter, interlace.
    b.extend_from_slice(&[8, 6, 0, 0, 0]);
    // The CRC, which imagesize does not check.
    b.extend_from_slice(&[0, 0, 0, 0]);
    b
}

fn kind(e: &Error) -> Option<StorageErrorKind> {
    match e {
        Error::Storage { kind, .. } => Some(*kind),
        _ => None,
    }
}

fn db() -> Db {
    let db = Db::open_in_memory().unwrap();
    db.migrate().unwrap();
    db
}

#[test]
fn save_open_size_delete_round_trip() -> Result<()> {
    let s = TempStorage::new();
    let name = s.save("docs/a.txt", b"hello")?;
    assert_eq!(name, "docs/a.txt");
    assert!(s.dir().join("docs/a.txt").is_file());
    assert!(s.exists("docs/a.txt")?);
    assert_eq!(s.size("docs/a.txt")?, 5);
    let mut text = String::new();
    std::io::Read::read_to_string(&mut s.open("docs/a.txt")?, &mut text).unwrap();
    assert_eq!(text, "hello");
    assert_eq!(s.url("docs/a b.txt")?, "/media/docs/a%20b.txt");
    s.delete("docs/a.txt")?;
    assert!(!s.exists("docs/a.txt")?);
    // Deleting a missing file is no error, as in Django.
    s.delete("docs/a.txt")?;
    // No temporary file is left behind.
    let left: Vec<_> = std::fs::read_dir(s.dir().join("docs")).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    let e = s.open("docs/a.txt").err().expect("missing file");
    assert_eq!(kind(&e), Some(StorageErrorKind::NotFound));
    assert!(e.to_string().contains("docs/a.txt"), "{e}");
    Ok(())
}

#[test]
fn taken_names_get_a_random_suffix_and_are_never_overwritten() -> Result<()> {
    let s = TempStorage::new();
    assert_eq!(s.save("a.tar.gz", b"one")?, "a.tar.gz");
    let second = s.save("a.tar.gz", b"two")?;
    let third = s.save("a.tar.gz", b"three")?;
    for other in [&second, &third] {
        // Django: `<root>_<7 random characters><ext>`.
        let suffix = other
            .strip_prefix("a.tar_")
            .and_then(|r| r.strip_suffix(".gz"))
            .expect(other);
        assert_eq!(suffix.len(), 7, "{other}");
        assert!(suffix.chars().all(|c| c.is_ascii_alphanumeric()), "{other}");
    }
    assert_ne!(second, third);
    assert_eq!(std::fs::read(s.dir().join("a.tar.gz")).unwrap(), b"one");
    assert_eq!(std::fs::read(s.dir().join(&second)).unwrap(), b"two");
    assert_eq!(std::fs::read(s.dir().join(&third)).unwrap(), b"three");
    Ok(())
}

#[test]
fn upload_to_expands_the_date_and_cleans_the_file_name() -> Result<()> {
    let s = TempStorage::new();
    let today = chrono::Utc::now().date_naive();
    let mut f = FieldFile::default();
    f.save(&*s, "photos/%Y/%m/%d/", "my cat!.png", b"x")?;
    // The date could change between the two readings only at midnight.
    let want = format!("photos/{}/my_cat.png", today.format("%Y/%m/%d"));
    let now = chrono::Utc::now().date_naive();
    let want_now = format!("photos/{}/my_cat.png", now.format("%Y/%m/%d"));
    assert!(f.name() == want || f.name() == want_now, "{}", f.name());
    assert_eq!(f.read(&*s)?, b"x");
    // Without a trailing slash, upload_to is still a directory.
    assert_eq!(generate_filename("docs", "a.txt")?, "docs/a.txt");
    assert_eq!(generate_filename("", "a.txt")?, "a.txt");
    let e = generate_filename("docs/%Q", "a.txt").unwrap_err();
    assert_eq!(kind(&e), Some(StorageErrorKind::SuspiciousName));
    assert!(e.to_string().contains("%Q"), "{e}");
    Ok(())
}

#[test]
fn traversal_and_absolute_names_are_refused() {
    let s = TempStorage::new();
    let outside = s.dir().parent().unwrap().join("b");
    for name in [
        "../etc/passwd",
        "/abs",
        "a/../../b",
        "..",
        "a\\..\\..\\b",
        "",
        "dir/",
        "nul\0byte",
    ] {
        let e = s.save(name, b"x").expect_err(name);
        assert_eq!(kind(&e), Some(StorageErrorKind::SuspiciousName), "{name}");
        assert!(e.to_string().contains(&format!("'{name}'")), "{e}");
        for e in [
            s.open(name).err(),
            s.delete(name).err(),
            s.exists(name).err(),
            s.size(name).err(),
            s.url(name).err(),
        ] {
            assert_eq!(
                e.as_ref().and_then(kind),
                Some(StorageErrorKind::SuspiciousName)
            );
        }
        // The field refuses it through upload_to and the file name alike.
        let mut f = FieldFile::default();
        assert!(f.save(&*s, "up/", name, b"x").is_err(), "{name}");
        if name.contains("..") || name.starts_with('/') {
            assert!(f.save(&*s, name, "ok.txt", b"x").is_err(), "{name}");
        }
        assert!(f.is_empty());
    }
    assert!(!outside.exists());
    assert!(!s.dir().exists() || std::fs::read_dir(s.dir()).unwrap().next().is_none());
    // A name with `.` and empty components is normalised, not refused.
    assert_eq!(s.save("./x//y.txt", b"ok").unwrap(), "x/y.txt");
}

#[test]
fn a_model_with_files_saves_loads_and_gives_urls() -> Result<()> {
    let s = TempStorage::new();
    let db = db();
    let ddl = db.sql_create_all();
    for want in [
        r#""resume" varchar(100) NULL"#,
        r#""avatar" varchar(100) NOT NULL"#,
        r#""cover" varchar(255) NOT NULL"#,
    ] {
        assert!(ddl.contains(want), "{want} not in\n{ddl}");
    }

    let mut resume = FieldFile::default();
    resume.save(&*s, "resumes/", "ann.pdf", b"%PDF-1.4")?;
    let mut avatar = ImageFile::default();
    avatar.save(&*s, "avatars/", "ann.png", &png(3, 2))?;
    assert_eq!(avatar.dimensions(&*s)?, (3, 2));
    let p = Profile {
        id: None,
        username: "ann".into(),
        resume: Some(resume),
        avatar,
        cover: FieldFile::default(),
    }
    .create(&db)?;

    let loaded = Profile::get(&db, p.id)?;
    assert_eq!(loaded, p);
    let resume = loaded.resume.as_ref().expect("resume");
    assert_eq!(resume.name(), "resumes/ann.pdf");
    assert_eq!(resume.url(&*s)?, "/media/resumes/ann.pdf");
    assert_eq!(resume.size(&*s)?, 8);
    assert_eq!(resume.read(&*s)?, b"%PDF-1.4");
    assert_eq!(loaded.avatar.url(&*s)?, "/media/avatars/ann.png");
    // Only the name is in the row: the size is read from the file.
    assert_eq!(loaded.avatar.dimensions(&*s)?, (3, 2));
    assert_eq!(loaded.avatar.width(&*s)?, 3);
    assert_eq!(loaded.avatar.height(&*s)?, 2);
    // An empty field has no URL.
    assert!(loaded.cover.is_empty());
    let e = loaded.cover.url(&*s).unwrap_err();
    assert_eq!(kind(&e), Some(StorageErrorKind::NotFound));

    // Files are found by name like any text column.
    let n = Profile::objects()
        .filter(Q::kw("avatar__startswith", "avatars/"))
        .count(&db)?;
    assert_eq!(n, 1);

    // A NULL file and an empty one.
    let mut bob = Profile {
        id: None,
        username: "bob".into(),
        resume: None,
        avatar: ImageFile::new("avatars/ann.png"),
        cover: FieldFile::default(),
    }
    .create(&db)?;
    let loaded = Profile::get(&db, bob.id)?;
    assert_eq!(loaded.resume, None);
    assert_eq!(loaded.avatar.dimensions(&*s)?, (3, 2));

    // Replacing a file: delete it from the storage, save the new one.
    let mut resume = FieldFile::default();
    resume.save(&*s, "resumes/", "bob.txt", b"bob")?;
    bob.resume = Some(resume);
    bob.save(&db)?;
    let mut loaded = Profile::get(&db, bob.id)?;
    assert_eq!(
        loaded.resume.as_ref().map(FieldFile::name),
        Some("resumes/bob.txt")
    );
    if let Some(f) = loaded.resume.as_mut() {
        f.delete(&*s)?;
        assert!(f.is_empty());
    }
    assert!(!s.exists("resumes/bob.txt")?);
    Ok(())
}

#[test]
fn an_image_field_refuses_content_that_is_not_an_image() -> Result<()> {
    let s = TempStorage::new();
    let mut img = ImageFile::default();
    let e = img
        .save(&*s, "avatars/", "evil.png", b"<?php echo 1; ?>")
        .unwrap_err();
    assert_eq!(kind(&e), Some(StorageErrorKind::NotAnImage));
    assert!(e.to_string().contains("evil.png"), "{e}");
    assert!(e.to_string().contains("valid image"), "{e}");
    assert!(img.is_empty());
    assert!(!s.exists("avatars/evil.png")?);
    // A PNG signature with its header cut short.
    let e = img
        .save(&*s, "avatars/", "cut.png", &png(3, 2)[..12])
        .unwrap_err();
    assert_eq!(kind(&e), Some(StorageErrorKind::NotAnImage));
    // A stored file that is not an image is found out when it is measured.
    s.save("avatars/text.png", b"not an image")?;
    let e = ImageFile::new("avatars/text.png")
        .dimensions(&*s)
        .unwrap_err();
    assert_eq!(kind(&e), Some(StorageErrorKind::NotAnImage));
    assert!(e.to_string().contains("avatars/text.png"), "{e}");
    Ok(())
}

/// Django: deleting a model instance leaves its files in the storage (they
/// may be shared, and a rolled-back delete would have lost them).
#[test]
fn deleting_the_row_leaves_the_file() -> Result<()> {
    let s = TempStorage::new();
    let db = db();
    let mut avatar = ImageFile::default();
    avatar.save(&*s, "avatars/", "c.png", &png(1, 1))?;
    let mut p = Profile {
        id: None,
        username: "cy".into(),
        resume: None,
        avatar,
        cover: FieldFile::default(),
    }
    .create(&db)?;
    p.delete(&db)?;
    assert!(Profile::objects()
        .filter(Q::kw("username", "cy"))
        .first(&db)?
        .is_none());
    assert!(s.exists("avatars/c.png")?);
    Ok(())
}

#[test]
fn a_name_longer_than_the_default_max_length_is_refused() -> Result<()> {
    let db = db();
    let long = format!("{}.txt", "a".repeat(100));
    let p = Profile {
        id: None,
        username: "dee".into(),
        resume: Some(FieldFile::new(long.clone())),
        avatar: ImageFile::new("x.png"),
        cover: FieldFile::new(long),
    };
    let e = p.full_clean(&db).unwrap_err();
    let Error::Validation(v) = &e else {
        panic!("{e}")
    };
    assert_eq!(
        v.field("resume"),
        ["Ensure this value has at most 100 characters (it has 104)."]
    );
    assert!(v.field("cover").is_empty(), "{e}");
    let e = p.create(&db).unwrap_err();
    assert!(
        matches!(
            &e,
            Error::InvalidValue {
                field: "resume",
                ..
            }
        ),
        "{e}"
    );
    Ok(())
}
