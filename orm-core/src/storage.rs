//! Where the files of `FileField`s and `ImageField`s live (feature `files`):
//! Django's `Storage` API as the [`Storage`] trait, its
//! `FileSystemStorage`, and the file operations of [`FieldFile`] and
//! [`ImageFile`] (save, open, size, url, delete, an image's dimensions).
//!
//! Names are relative paths with `/` between directories. Every operation
//! first checks the name: an absolute name, a `..` component or a name with
//! no file part is refused with [`StorageErrorKind::SuspiciousName`]
//! (Django's `SuspiciousFileOperation`) before anything is touched, so a
//! name taken from a request or a row cannot reach outside the storage.
//!
//! Deleting a model row does not delete its files, as in Django: call
//! [`FieldFile::delete`] first if the file should go too.
//!
//! # Examples
//!
//! ```
//! use orm_core::{FieldFile, FileSystemStorage};
//!
//! let dir = std::env::temp_dir().join(format!("orm-doc-storage-{}", std::process::id()));
//! let storage = FileSystemStorage::new(&dir, "/media/");
//! let mut doc = FieldFile::default();
//! doc.save(&storage, "docs/", "report.txt", b"hello")?;
//! assert_eq!(doc.name(), "docs/report.txt");
//! assert_eq!(doc.url(&storage)?, "/media/docs/report.txt");
//! assert_eq!(doc.read(&storage)?, b"hello");
//! doc.delete(&storage)?;
//! assert!(doc.is_empty());
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), orm_core::Error>(())
//! ```

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result, StorageErrorKind};
use crate::meta::types::{FieldFile, ImageFile};

/// How many other names [`Storage::save`] tries when a name is taken.
const MAX_ATTEMPTS: usize = 100;

/// Where files are kept (Django's `Storage`). Names are relative, with `/`
/// between directories; an implementation refuses unsafe names (see
/// [`normalize_name`]).
pub trait Storage: Send + Sync {
    /// Stores `content` under `name`, or under another name when `name` is
    /// taken (Django appends `_` and 7 random characters before the
    /// extension), and returns the name used. An existing file is never
    /// overwritten.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`]: an unsafe name, or the write failed.
    fn save(&self, name: &str, content: &[u8]) -> Result<String>;

    /// A reader of the file's content.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`]: an unsafe name, no such file, or it cannot be read.
    fn open(&self, name: &str) -> Result<Box<dyn Read + Send>>;

    /// Deletes the file; a file that is not there is no error (Django).
    ///
    /// # Errors
    ///
    /// [`Error::Storage`]: an unsafe name, or the file system refused.
    fn delete(&self, name: &str) -> Result<()>;

    /// True when a file of that name exists.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`]: an unsafe name.
    fn exists(&self, name: &str) -> Result<bool>;

    /// The size of the file in bytes.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`]: an unsafe name, or no such file.
    fn size(&self, name: &str) -> Result<u64>;

    /// The URL the file is served at.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`]: an unsafe name.
    fn url(&self, name: &str) -> Result<String>;
}

/// Files in a directory of the local file system, served under `base_url`
/// (Django's `FileSystemStorage` with `MEDIA_ROOT` and `MEDIA_URL`).
///
/// A save writes a temporary file in the target directory and links it to
/// its name only if that name is free, so readers never see half a file and
/// two saves of one name at once both succeed under different names.
#[derive(Debug, Clone)]
pub struct FileSystemStorage {
    /// The directory holding the files (created on the first save).
    pub location: PathBuf,
    /// The URL prefix of the files, such as `"/media/"`.
    pub base_url: String,
}

impl FileSystemStorage {
    /// A storage of the files under `location`, served under `base_url`.
    pub fn new(location: impl Into<PathBuf>, base_url: impl Into<String>) -> Self {
        FileSystemStorage {
            location: location.into(),
            base_url: base_url.into(),
        }
    }

    /// The file's path on the file system (Django's `Storage.path`).
    ///
    /// # Errors
    ///
    /// [`Error::Storage`]: an unsafe name.
    pub fn path(&self, name: &str) -> Result<PathBuf> {
        let name = normalize_name(name)?;
        Ok(self.location.join(&name))
    }

    /// Writes `content` to a new temporary file in `dir` and returns its path.
    fn write_temp(&self, dir: &Path, name: &str, content: &[u8]) -> Result<PathBuf> {
        for _ in 0..MAX_ATTEMPTS {
            let tmp = dir.join(format!(".{}.tmp", random_suffix()));
            let mut file = match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)
            {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io_error(name, "cannot create a temporary file", &e)),
            };
            let written = file.write_all(content).and_then(|()| file.sync_all());
            if let Err(e) = written {
                drop(file);
                let _ = std::fs::remove_file(&tmp);
                return Err(io_error(name, "cannot write", &e));
            }
            return Ok(tmp);
        }
        Err(storage_error(
            name,
            StorageErrorKind::Io,
            "no free temporary name".into(),
        ))
    }

    /// Gives the temporary file `tmp` the name `target` if it is free:
    /// `Ok(false)` when it is taken.
    fn place(tmp: &Path, target: &Path, name: &str) -> Result<bool> {
        match std::fs::hard_link(tmp, target) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            // A file system without hard links: check, then rename (the
            // check and the rename are not one step there).
            Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {
                if target.exists() {
                    return Ok(false);
                }
                std::fs::rename(tmp, target)
                    .map(|()| true)
                    .map_err(|e| io_error(name, "cannot write", &e))
            }
            Err(e) => Err(io_error(name, "cannot write", &e)),
        }
    }
}

impl Storage for FileSystemStorage {
    fn save(&self, name: &str, content: &[u8]) -> Result<String> {
        let name = normalize_name(name)?;
        let (dir, file) = match name.rsplit_once('/') {
            Some((d, f)) => (Some(d), f),
            None => (None, name.as_str()),
        };
        let dir_path = match dir {
            Some(d) => self.location.join(d),
            None => self.location.clone(),
        };
        std::fs::create_dir_all(&dir_path)
            .map_err(|e| io_error(&name, "cannot create its directory", &e))?;
        let tmp = self.write_temp(&dir_path, &name, content)?;
        let (root, ext) = split_ext(file);
        let mut candidate = name.clone();
        let mut result = Err(storage_error(
            &name,
            StorageErrorKind::Io,
            format!("no free name after {MAX_ATTEMPTS} attempts"),
        ));
        for _ in 0..MAX_ATTEMPTS {
            match Self::place(&tmp, &self.location.join(&candidate), &candidate) {
                Ok(true) => {
                    result = Ok(candidate);
                    break;
                }
                Ok(false) => {
                    let alt = format!("{root}_{}{ext}", random_suffix());
                    candidate = match dir {
                        Some(d) => format!("{d}/{alt}"),
                        None => alt,
                    };
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        // The temporary name goes whatever happened (after a rename it is
        // already gone).
        let _ = std::fs::remove_file(&tmp);
        result
    }

    fn open(&self, name: &str) -> Result<Box<dyn Read + Send>> {
        let path = self.path(name)?;
        match std::fs::File::open(&path) {
            Ok(f) if path.is_file() => Ok(Box::new(f)),
            Ok(_) => Err(storage_error(
                name,
                StorageErrorKind::NotFound,
                "is a directory, not a file".into(),
            )),
            Err(e) => Err(io_error(name, "cannot open", &e)),
        }
    }

    fn delete(&self, name: &str) -> Result<()> {
        let path = self.path(name)?;
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error(name, "cannot delete", &e)),
        }
    }

    fn exists(&self, name: &str) -> Result<bool> {
        Ok(self.path(name)?.exists())
    }

    fn size(&self, name: &str) -> Result<u64> {
        let path = self.path(name)?;
        std::fs::metadata(&path)
            .map(|m| m.len())
            .map_err(|e| io_error(name, "cannot read its size", &e))
    }

    fn url(&self, name: &str) -> Result<String> {
        let name = normalize_name(name)?;
        let base = self.base_url.trim_end_matches('/');
        Ok(format!("{base}/{}", url_path(&name)))
    }
}

/// A name as storages use it: relative, `/` between directories, no empty
/// or `.` components. A `\` counts as a separator.
///
/// # Errors
///
/// [`StorageErrorKind::SuspiciousName`] for an absolute name (`/etc/passwd`,
/// `C:\x`), a `..` component (`a/../../b`), a NUL byte, or a name with no
/// file part (`""`, `"dir/"`).
pub fn normalize_name(name: &str) -> Result<String> {
    let refuse = |why: &str| {
        Err(storage_error(
            name,
            StorageErrorKind::SuspiciousName,
            why.into(),
        ))
    };
    if name.contains('\0') {
        return refuse("a file name cannot contain a NUL byte");
    }
    if name.starts_with(['/', '\\']) || name.as_bytes().get(1) == Some(&b':') {
        return refuse("an absolute path is not allowed; names are relative to the storage");
    }
    if name.ends_with(['/', '\\']) {
        return refuse("the name has no file name");
    }
    let mut parts = Vec::new();
    for part in name.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => return refuse("a '..' component would leave the storage"),
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return refuse("the name has no file name");
    }
    Ok(parts.join("/"))
}

/// Django's `get_valid_filename`: spaces become `_`, and only letters,
/// digits, `-`, `_` and `.` are kept.
///
/// # Errors
///
/// [`StorageErrorKind::SuspiciousName`] when nothing usable is left, or the
/// result is `.` or `..`.
pub fn valid_filename(filename: &str) -> Result<String> {
    let cleaned: String = filename
        .trim()
        .chars()
        .map(|c| if c == ' ' { '_' } else { c })
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    if matches!(cleaned.as_str(), "" | "." | "..") {
        return Err(storage_error(
            filename,
            StorageErrorKind::SuspiciousName,
            "could not derive a file name".into(),
        ));
    }
    Ok(cleaned)
}

/// The name a file uploaded as `filename` gets in a field with `upload_to`
/// (Django's `FileField.generate_filename`): `upload_to` with `%Y`, `%m`,
/// `%d`, `%H`, `%M`, `%S` and `%%` expanded from the current UTC time, then
/// the file's own name cleaned by [`valid_filename`].
///
/// # Errors
///
/// [`StorageErrorKind::SuspiciousName`] for an unknown `%` format, a
/// `filename` or `upload_to` with a `..` component or an absolute path.
pub fn generate_filename(upload_to: &str, filename: &str) -> Result<String> {
    // The file name alone must be safe too: joined to `upload_to`, an
    // absolute one would lose its leading `/`.
    normalize_name(filename)?;
    let dir = expand_date(upload_to, SystemTime::now())?;
    let joined = if dir.is_empty() || dir.ends_with('/') {
        format!("{dir}{filename}")
    } else {
        format!("{dir}/{filename}")
    };
    // Refuse `..` and absolute paths in either part before cleaning the file
    // name (cleaning would hide them).
    let name = normalize_name(&joined)?;
    let (dir, file) = match name.rsplit_once('/') {
        Some((d, f)) => (Some(d), f),
        None => (None, name.as_str()),
    };
    let file = valid_filename(file)?;
    Ok(match dir {
        Some(d) => format!("{d}/{file}"),
        None => file,
    })
}

/// `upload_to` with its strftime formats expanded for `now` (UTC).
fn expand_date(upload_to: &str, now: SystemTime) -> Result<String> {
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    let mut out = String::with_capacity(upload_to.len() + 8);
    let mut chars = upload_to.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('Y') => out.push_str(&format!("{y:04}")),
            Some('m') => out.push_str(&format!("{m:02}")),
            Some('d') => out.push_str(&format!("{d:02}")),
            Some('H') => out.push_str(&format!("{:02}", rem / 3600)),
            Some('M') => out.push_str(&format!("{:02}", rem / 60 % 60)),
            Some('S') => out.push_str(&format!("{:02}", rem % 60)),
            Some('%') => out.push('%'),
            other => {
                let f = other.map_or(String::new(), String::from);
                return Err(storage_error(
                    upload_to,
                    StorageErrorKind::SuspiciousName,
                    format!(
                        "unsupported format '%{f}' in upload_to (use %Y, %m, %d, %H, %M, %S or %%)"
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    // `d` is 1..=31 and `m` 1..=12 by construction.
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

/// `("archive.tar", ".gz")` for `"archive.tar.gz"`; a leading dot is part of
/// the root (`".env"` has no extension), as Python's `os.path.splitext`.
fn split_ext(file: &str) -> (&str, &str) {
    let start = file.len() - file.trim_start_matches('.').len();
    match file[start..].rfind('.') {
        Some(i) => file.split_at(start + i),
        None => (file, ""),
    }
}

/// Seven random letters and digits (Django's `get_random_string(7)`), from
/// the standard library's randomly keyed hasher: names need to be
/// unpredictable enough not to collide, not secret.
fn random_suffix() -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    let mut bits = h.finish();
    let mut out = String::with_capacity(7);
    for _ in 0..7 {
        let i = usize::try_from(bits % 62).unwrap_or(0);
        out.push(char::from(CHARS[i]));
        bits /= 62;
    }
    out
}

/// The name percent-encoded for a URL (Django's `filepath_to_uri`: `/` and
/// `~!*()'` stay as they are).
fn url_path(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/!*()'".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn storage_error(name: &str, kind: StorageErrorKind, reason: String) -> Error {
    Error::Storage {
        name: name.to_string(),
        kind,
        reason,
    }
}

fn io_error(name: &str, what: &str, e: &std::io::Error) -> Error {
    let kind = if e.kind() == std::io::ErrorKind::NotFound {
        StorageErrorKind::NotFound
    } else {
        StorageErrorKind::Io
    };
    storage_error(name, kind, format!("{what}: {e}"))
}

/// `(width, height)` of an image, or why `content` is not one.
fn image_size(name: &str, content: &[u8]) -> Result<(u32, u32)> {
    let refuse = |reason: String| storage_error(name, StorageErrorKind::NotAnImage, reason);
    match imagesize::blob_size(content) {
        Ok(size) => {
            let w = u32::try_from(size.width);
            let h = u32::try_from(size.height);
            match (w, h) {
                (Ok(w), Ok(h)) if w > 0 && h > 0 => Ok((w, h)),
                _ => Err(refuse(format!(
                    "the image has an invalid size {}x{}",
                    size.width, size.height
                ))),
            }
        }
        Err(imagesize::ImageError::NotSupported) => Err(refuse(
            "Upload a valid image. The file you uploaded was either not an image or a corrupted image."
                .into(),
        )),
        Err(imagesize::ImageError::CorruptedImage) => {
            Err(refuse("the image is corrupted: its header cannot be read".into()))
        }
        Err(imagesize::ImageError::IoError(e)) => {
            Err(refuse(format!("the image header cannot be read: {e}")))
        }
    }
}

impl FieldFile {
    /// Stores `content` as `filename` under `upload_to` (a directory prefix
    /// with strftime formats, such as `"photos/%Y/%m/"`; see
    /// [`generate_filename`]) and takes the name the storage used. Save the
    /// model afterwards to store the name in its row (Django's
    /// `save=True`).
    ///
    /// # Errors
    ///
    /// [`Error::Storage`]: an unsafe `upload_to` or `filename`, or the write
    /// failed; the field keeps its name.
    pub fn save(
        &mut self,
        storage: &(impl Storage + ?Sized),
        upload_to: &str,
        filename: &str,
        content: &[u8],
    ) -> Result<()> {
        let name = generate_filename(upload_to, filename)?;
        self.name = storage.save(&name, content)?;
        Ok(())
    }

    /// The URL of the file.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`]: no file in the field, or an unsafe name.
    pub fn url(&self, storage: &(impl Storage + ?Sized)) -> Result<String> {
        storage.url(self.require()?)
    }

    /// A reader of the file's content.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`]: no file in the field, an unsafe name, or no such
    /// file in the storage.
    pub fn open(&self, storage: &(impl Storage + ?Sized)) -> Result<Box<dyn Read + Send>> {
        storage.open(self.require()?)
    }

    /// The whole content of the file.
    ///
    /// # Errors
    ///
    /// As [`FieldFile::open`], or the read failed.
    pub fn read(&self, storage: &(impl Storage + ?Sized)) -> Result<Vec<u8>> {
        let mut reader = self.open(storage)?;
        let mut out = Vec::new();
        reader
            .read_to_end(&mut out)
            .map_err(|e| io_error(&self.name, "cannot read", &e))?;
        Ok(out)
    }

    /// The size of the file in bytes.
    ///
    /// # Errors
    ///
    /// As [`FieldFile::open`].
    pub fn size(&self, storage: &(impl Storage + ?Sized)) -> Result<u64> {
        storage.size(self.require()?)
    }

    /// Deletes the file from the storage and empties the field (Django's
    /// `FieldFile.delete(save=False)`); save the model to store that. An
    /// empty field is left as it is.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`]: an unsafe name, or the file system refused; the
    /// field keeps its name.
    pub fn delete(&mut self, storage: &(impl Storage + ?Sized)) -> Result<()> {
        if self.name.is_empty() {
            return Ok(());
        }
        storage.delete(&self.name)?;
        self.name.clear();
        Ok(())
    }

    fn require(&self) -> Result<&str> {
        if self.name.is_empty() {
            return Err(storage_error(
                "",
                StorageErrorKind::NotFound,
                "the field has no file associated with it".into(),
            ));
        }
        Ok(&self.name)
    }
}

impl ImageFile {
    /// Checks that `content` is an image (PNG, JPEG, GIF, WebP and the other
    /// formats of the `imagesize` crate), records its width and height, and
    /// stores it as [`FieldFile::save`] does.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] with [`StorageErrorKind::NotAnImage`] naming the
    /// file when the content is not an image (nothing is written), or as
    /// [`FieldFile::save`].
    pub fn save(
        &mut self,
        storage: &(impl Storage + ?Sized),
        upload_to: &str,
        filename: &str,
        content: &[u8],
    ) -> Result<()> {
        let size = image_size(filename, content)?;
        self.file.save(storage, upload_to, filename, content)?;
        self.dims = Some(size);
        Ok(())
    }

    /// `(width, height)` in pixels: known after [`ImageFile::save`], else
    /// read from the file's header in the storage (the row stores only the
    /// name, as Django's `ImageField` without `width_field`/`height_field`).
    ///
    /// # Errors
    ///
    /// As [`FieldFile::open`], or [`StorageErrorKind::NotAnImage`] when the
    /// stored file is not an image.
    pub fn dimensions(&self, storage: &(impl Storage + ?Sized)) -> Result<(u32, u32)> {
        if let Some(size) = self.dims {
            return Ok(size);
        }
        let content = self.file.read(storage)?;
        image_size(&self.file.name, &content)
    }

    /// The width in pixels; see [`ImageFile::dimensions`].
    ///
    /// # Errors
    ///
    /// As [`ImageFile::dimensions`].
    pub fn width(&self, storage: &(impl Storage + ?Sized)) -> Result<u32> {
        self.dimensions(storage).map(|(w, _)| w)
    }

    /// The height in pixels; see [`ImageFile::dimensions`].
    ///
    /// # Errors
    ///
    /// As [`ImageFile::dimensions`].
    pub fn height(&self, storage: &(impl Storage + ?Sized)) -> Result<u32> {
        self.dimensions(storage).map(|(_, h)| h)
    }

    /// The URL of the image.
    ///
    /// # Errors
    ///
    /// As [`FieldFile::url`].
    pub fn url(&self, storage: &(impl Storage + ?Sized)) -> Result<String> {
        self.file.url(storage)
    }

    /// A reader of the image's content.
    ///
    /// # Errors
    ///
    /// As [`FieldFile::open`].
    pub fn open(&self, storage: &(impl Storage + ?Sized)) -> Result<Box<dyn Read + Send>> {
        self.file.open(storage)
    }

    /// The whole content of the image.
    ///
    /// # Errors
    ///
    /// As [`FieldFile::read`].
    pub fn read(&self, storage: &(impl Storage + ?Sized)) -> Result<Vec<u8>> {
        self.file.read(storage)
    }

    /// The size of the file in bytes.
    ///
    /// # Errors
    ///
    /// As [`FieldFile::size`].
    pub fn size(&self, storage: &(impl Storage + ?Sized)) -> Result<u64> {
        self.file.size(storage)
    }

    /// Deletes the image from the storage and empties the field.
    ///
    /// # Errors
    ///
    /// As [`FieldFile::delete`].
    pub fn delete(&mut self, storage: &(impl Storage + ?Sized)) -> Result<()> {
        self.file.delete(storage)?;
        self.dims = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_from_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn extensions_split_like_python() {
        assert_eq!(split_ext("a.tar.gz"), ("a.tar", ".gz"));
        assert_eq!(split_ext(".env"), (".env", ""));
        assert_eq!(split_ext("README"), ("README", ""));
    }

    #[test]
    fn upload_to_expands_dates() {
        // 2024-02-29 13:05:09 UTC.
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_709_211_909);
        assert_eq!(
            expand_date("p/%Y/%m/%d/%H%M%S%%", t).ok().as_deref(),
            Some("p/2024/02/29/130509%")
        );
        assert!(expand_date("p/%q", t).is_err());
        assert!(expand_date("p/%", t).is_err());
    }

    #[test]
    fn urls_are_percent_encoded() {
        assert_eq!(url_path("a b/é.png"), "a%20b/%C3%A9.png");
    }
}
