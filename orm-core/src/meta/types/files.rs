//! `FileField` and `ImageField` (feature `files`): [`FieldFile`] and
//! [`ImageFile`] hold the file's name relative to its storage, which is all
//! the row stores (Django's `varchar(100)`). What touches the files (save,
//! open, url, delete, an image's size) is in [`crate::storage`], beside the
//! `Storage` trait.

use rusqlite::types::ValueRef;

use super::{stored_text, ColumnType, FieldType, Stored, ToValue};
use crate::meta::FieldMeta;

/// Django's default `max_length` of a `FileField` and an `ImageField`.
pub(crate) const DEFAULT_MAX_LENGTH: usize = 100;

/// The value of a `FileField` (Django's `FieldFile`): the name of a file
/// relative to its storage, `""` when the field holds no file.
///
/// The row stores only the name; save, open, size, url and delete take the
/// [`crate::Storage`] the file lives in (see [`crate::storage`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FieldFile {
    pub(crate) name: String,
}

impl FieldFile {
    /// A reference to a file already in a storage, by its name (Django's
    /// `instance.file.name = "..."`); nothing is checked until the file is
    /// used, and every storage operation refuses an unsafe name.
    pub fn new(name: impl Into<String>) -> Self {
        FieldFile { name: name.into() }
    }

    /// The name relative to the storage (`"photos/2024/05/cat.png"`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// True when the field holds no file (Django's `bool(field_file)` is
    /// false).
    pub fn is_empty(&self) -> bool {
        self.name.is_empty()
    }
}

/// The value of an `ImageField` (Django's `ImageFieldFile`): a
/// [`FieldFile`] whose content was checked to be an image when it was saved.
///
/// Only the name is stored in the row, as in Django without
/// `width_field`/`height_field`: the size is known after a save and read
/// from the file otherwise ([`ImageFile::dimensions`]).
#[derive(Debug, Clone, Default)]
pub struct ImageFile {
    pub(crate) file: FieldFile,
    /// `(width, height)`, known after a save in this process.
    pub(crate) dims: Option<(u32, u32)>,
}

impl ImageFile {
    /// A reference to an image already in a storage, by its name.
    pub fn new(name: impl Into<String>) -> Self {
        ImageFile {
            file: FieldFile::new(name),
            dims: None,
        }
    }

    /// The name relative to the storage.
    pub fn name(&self) -> &str {
        &self.file.name
    }

    /// True when the field holds no image.
    pub fn is_empty(&self) -> bool {
        self.file.is_empty()
    }

    /// The image as a plain [`FieldFile`].
    pub fn file(&self) -> &FieldFile {
        &self.file
    }
}

/// Two images are equal when they name the same file.
impl PartialEq for ImageFile {
    fn eq(&self, other: &Self) -> bool {
        self.file == other.file
    }
}

impl Eq for ImageFile {}

impl ToValue for FieldFile {
    fn to_stored(&self) -> Result<Stored<'_>, String> {
        Ok(Stored::Ref(ValueRef::Text(self.name.as_bytes())))
    }
}

impl FieldType for FieldFile {
    const COLUMN: ColumnType = ColumnType::File;
    const USES_FIELD: bool = true;

    fn from_stored(v: ValueRef<'_>) -> Result<Self, String> {
        stored_text(v).map(FieldFile::new)
    }

    fn check_field(&self, field: &'static FieldMeta) -> Result<(), String> {
        check_name(&self.name, field)
    }
}

impl ToValue for ImageFile {
    fn to_stored(&self) -> Result<Stored<'_>, String> {
        self.file.to_stored()
    }
}

impl FieldType for ImageFile {
    const COLUMN: ColumnType = ColumnType::Image;
    const USES_FIELD: bool = true;

    fn from_stored(v: ValueRef<'_>) -> Result<Self, String> {
        stored_text(v).map(ImageFile::new)
    }

    fn check_field(&self, field: &'static FieldMeta) -> Result<(), String> {
        check_name(&self.file.name, field)
    }
}

/// The name against Django's default `max_length` of 100. A field with its
/// own `max_length` is checked by `full_clean` like any text column.
fn check_name(name: &str, field: &'static FieldMeta) -> Result<(), String> {
    if field.max_length.is_some() {
        return Ok(());
    }
    let n = name.chars().count();
    if n > DEFAULT_MAX_LENGTH {
        return Err(format!(
            "Ensure this value has at most {DEFAULT_MAX_LENGTH} characters (it has {n})."
        ));
    }
    Ok(())
}
