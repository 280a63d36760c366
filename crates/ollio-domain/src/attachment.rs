//! Files attached to a message: checked once, on the server and in the
//! browser alike, before anything is kept. A file is a data file (CSV, JSON,
//! TXT, XLSX, Parquet) or an image (PNG, JPEG, WebP, GIF); which one is read
//! from its bytes, never trusted from its name. Data files land in the
//! project's `data/` folder; images too, and go to the model as image input
//! when it takes images (`ollio_agent::attachments` tells the model of them).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::size_text;

/// Files one message may carry.
pub const MAX_FILES: usize = 5;
/// Bytes one attached file may hold.
pub const MAX_BYTES: usize = 20 * 1024 * 1024;
/// The folder of the project attachments land in.
pub const DATA_DIR: &str = "data";

/// What an attached file is, by its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttachmentKind {
    Csv,
    Json,
    Text,
    Xlsx,
    Parquet,
    Png,
    Jpeg,
    Webp,
    Gif,
}

impl AttachmentKind {
    /// Whether the model may see it as an image.
    pub fn is_image(self) -> bool {
        matches!(self, Self::Png | Self::Jpeg | Self::Webp | Self::Gif)
    }

    /// Its name in storage and on the wire (`csv`, `png`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Json => "json",
            Self::Text => "text",
            Self::Xlsx => "xlsx",
            Self::Parquet => "parquet",
            Self::Png => "png",
            Self::Jpeg => "jpeg",
            Self::Webp => "webp",
            Self::Gif => "gif",
        }
    }

    /// The kind [`Self::as_str`] names.
    pub fn parse(raw: &str) -> Option<Self> {
        use AttachmentKind::*;
        [Csv, Json, Text, Xlsx, Parquet, Png, Jpeg, Webp, Gif]
            .into_iter()
            .find(|kind| kind.as_str() == raw)
    }

    /// The media type sent with an image, or kept with a file.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv",
            Self::Json => "application/json",
            Self::Text => "text/plain",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Parquet => "application/vnd.apache.parquet",
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Webp => "image/webp",
            Self::Gif => "image/gif",
        }
    }
}

/// Why an attachment was refused, in words for the person who attached it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttachmentError {
    #[error("Attach at most {MAX_FILES} files to one message.")]
    TooMany,
    #[error("{name} is larger than {max}, the most one file can be.", max = size_text(MAX_BYTES as u64))]
    TooLarge { name: String, size: usize },
    #[error("{name} is empty.")]
    Empty { name: String },
    #[error("{name} is not a file Ollio takes: attach CSV, JSON, TXT, XLSX or Parquet data, or a PNG, JPEG, WebP or GIF image.")]
    WrongType { name: String },
    #[error("{name} is not a usable file name: use letters, digits, spaces, dots, dashes and underscores.")]
    BadName { name: String },
}

/// A file name fit for the project's `data/` folder: one path part, no
/// hidden or reserved names, at most 120 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AttachmentName(String);

impl AttachmentName {
    pub const MAX_CHARS: usize = 120;

    /// Takes the last part of `raw` (browsers may send a path) and refuses
    /// names that could reach outside the folder or hide in it.
    pub fn parse(raw: &str) -> Result<Self, AttachmentError> {
        let bad = || AttachmentError::BadName {
            name: raw.to_owned(),
        };
        let name = raw.rsplit(['/', '\\']).next().unwrap_or_default().trim();
        let allowed =
            |c: char| c.is_alphanumeric() || matches!(c, ' ' | '.' | '-' | '_' | '(' | ')');
        if name.is_empty()
            || name.starts_with('.')
            || name.chars().count() > Self::MAX_CHARS
            || !name.chars().all(allowed)
        {
            return Err(bad());
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its path in the project.
    pub fn path(&self) -> String {
        format!("{DATA_DIR}/{}", self.0)
    }

    fn extension(&self) -> String {
        self.0
            .rsplit_once('.')
            .map(|(_, extension)| extension.to_ascii_lowercase())
            .unwrap_or_default()
    }
}

impl fmt::Display for AttachmentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A checked attachment: its name, what it is, and its size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub name: AttachmentName,
    pub kind: AttachmentKind,
    pub size: usize,
}

/// Checks one file: its name, its size and what its bytes are.
pub fn check(raw_name: &str, bytes: &[u8]) -> Result<Attachment, AttachmentError> {
    let name = AttachmentName::parse(raw_name)?;
    if bytes.is_empty() {
        return Err(AttachmentError::Empty {
            name: name.to_string(),
        });
    }
    if bytes.len() > MAX_BYTES {
        return Err(AttachmentError::TooLarge {
            name: name.to_string(),
            size: bytes.len(),
        });
    }
    let kind = kind_of(&name, bytes).ok_or_else(|| AttachmentError::WrongType {
        name: name.to_string(),
    })?;
    Ok(Attachment {
        name,
        kind,
        size: bytes.len(),
    })
}

/// Checks the files of one message: at most [`MAX_FILES`], each as
/// [`check`] says, and no two with the same name.
pub fn check_all<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> Result<Vec<Attachment>, AttachmentError> {
    let files: Vec<_> = files.into_iter().collect();
    if files.len() > MAX_FILES {
        return Err(AttachmentError::TooMany);
    }
    let mut checked: Vec<Attachment> = Vec::with_capacity(files.len());
    for (name, bytes) in files {
        let attachment = check(name, bytes)?;
        if checked.iter().any(|seen| seen.name == attachment.name) {
            return Err(AttachmentError::BadName {
                name: format!("{} (attached twice)", attachment.name),
            });
        }
        checked.push(attachment);
    }
    Ok(checked)
}

/// What the bytes are. Images and binary tables are known by their
/// signatures; text files must be UTF-8 and are told apart by their name.
fn kind_of(name: &AttachmentName, bytes: &[u8]) -> Option<AttachmentKind> {
    use AttachmentKind::*;
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(Png);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(Jpeg);
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Some(Gif);
    }
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Some(Webp);
    }
    if bytes.len() >= 8 && bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1") {
        return Some(Parquet);
    }
    let extension = name.extension();
    // An XLSX file is a zip with an entry naming its content types: first
    // (as Excel writes it) or anywhere, and always in the central
    // directory at the end (as openpyxl writes it).
    if bytes.starts_with(b"PK\x03\x04") {
        let names = |part: &[u8]| {
            part.windows(19)
                .any(|window| window == b"[Content_Types].xml")
        };
        let head = &bytes[..bytes.len().min(4096)];
        let tail = &bytes[bytes.len().saturating_sub(64 * 1024)..];
        return (extension == "xlsx" && (names(head) || names(tail))).then_some(Xlsx);
    }
    let text = std::str::from_utf8(bytes).ok()?;
    if text.contains('\0') {
        return None;
    }
    match extension.as_str() {
        "csv" | "tsv" => Some(Csv),
        "json" | "jsonl" | "ndjson" => Some(Json),
        "txt" | "md" | "" => Some(Text),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn kinds_come_from_the_bytes_not_the_name() {
        assert_eq!(check("photo.jpg", PNG).unwrap().kind, AttachmentKind::Png);
        assert_eq!(
            check("a.gif", b"GIF89a\x01\x00").unwrap().kind,
            AttachmentKind::Gif
        );
        assert_eq!(
            check("a.webp", b"RIFF\x10\0\0\0WEBPVP8 ").unwrap().kind,
            AttachmentKind::Webp
        );
        assert_eq!(
            check("t.parquet", b"PAR1....PAR1").unwrap().kind,
            AttachmentKind::Parquet
        );
        // A program renamed to look like data is refused.
        let refused = check("data.csv", b"\x7fELF\x02\x01\x01\0\0").unwrap_err();
        assert_eq!(
            refused,
            AttachmentError::WrongType {
                name: "data.csv".into()
            }
        );
        // So is a zip that is not a spreadsheet, and a PNG named .exe is a PNG.
        assert!(check("sheet.xlsx", b"PK\x03\x04plain zip").is_err());
        assert_eq!(check("a.exe", PNG).unwrap().kind, AttachmentKind::Png);
        let xlsx = [b"PK\x03\x04".as_slice(), b"....[Content_Types].xml"].concat();
        assert_eq!(
            check("sheet.xlsx", &xlsx).unwrap().kind,
            AttachmentKind::Xlsx
        );
        // openpyxl writes the content types last: the central directory at
        // the end names them.
        let late = [
            b"PK\x03\x04".as_slice(),
            &[b'x'; 10_000],
            b"PK\x01\x02[Content_Types].xml",
        ]
        .concat();
        assert_eq!(
            check("sheet.xlsx", &late).unwrap().kind,
            AttachmentKind::Xlsx
        );
    }

    #[test]
    fn text_files_are_utf8_and_named_for_what_they_are() {
        assert_eq!(
            check("sales.csv", b"a,b\n1,2\n").unwrap().kind,
            AttachmentKind::Csv
        );
        assert_eq!(
            check("rows.json", b"[{\"a\": 1}]").unwrap().kind,
            AttachmentKind::Json
        );
        assert_eq!(
            check("notes.txt", "café".as_bytes()).unwrap().kind,
            AttachmentKind::Text
        );
        assert!(check("script.py", b"print(1)").is_err());
        assert!(check("latin.csv", b"caf\xe9").is_err());
    }

    #[test]
    fn sizes_counts_and_names_have_limits() {
        let big = vec![b'a'; MAX_BYTES + 1];
        let error = check("big.txt", &big).unwrap_err();
        assert!(matches!(error, AttachmentError::TooLarge { .. }));
        assert_eq!(
            error.to_string(),
            "big.txt is larger than 20.0 MB, the most one file can be."
        );
        assert!(check("exact.txt", &big[..MAX_BYTES]).is_ok());
        assert!(matches!(
            check("empty.csv", b"").unwrap_err(),
            AttachmentError::Empty { .. }
        ));

        let six: Vec<(String, &[u8])> = (0..6)
            .map(|i| (format!("f{i}.txt"), b"x".as_slice()))
            .collect();
        let files = six.iter().map(|(name, bytes)| (name.as_str(), *bytes));
        assert_eq!(check_all(files).unwrap_err(), AttachmentError::TooMany);
        let five = six[..5].iter().map(|(name, bytes)| (name.as_str(), *bytes));
        assert_eq!(check_all(five).unwrap().len(), 5);
        let twice = [("a.txt", b"x".as_slice()), ("a.txt", b"y".as_slice())];
        assert!(check_all(twice).is_err());

        for bad in ["", ".env", "..", "a/..", "x\0y.txt", "a;rm.txt"] {
            assert!(AttachmentName::parse(bad).is_err(), "{bad:?} was taken");
        }
        let from_path = AttachmentName::parse("C:\\Users\\ada\\sales (1).csv").unwrap();
        assert_eq!(from_path.path(), "data/sales (1).csv");
    }
}
