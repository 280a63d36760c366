//! What the model is told of an attached table before it reads it: the
//! header and the first rows of a CSV, a JSON array of objects or an XLSX
//! file's first sheet, and a Parquet file's columns and row count (its rows
//! are compressed column chunks; the footer says the rest). Read here, in
//! the server, with bounds: a file that is not what it says gives no
//! preview, never an error.

use std::io::Read;

use ollio_domain::attachment::AttachmentKind;

/// Rows shown after the header.
pub const ROWS: usize = 5;
/// Characters of one shown line.
const LINE: usize = 200;
/// Bytes of an XLSX sheet read once decompressed (a zip bomb stops here).
const SHEET_BYTES: u64 = 8 << 20;

/// A table's first lines, as the model is told them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    pub header: String,
    pub rows: Vec<String>,
    /// "… and 12 more rows", "1,204 rows": what is known of the rest.
    pub rest: Option<String>,
}

/// The preview of `bytes` as `kind`, when it is a table that has one.
pub fn preview(kind: AttachmentKind, bytes: &[u8]) -> Option<Preview> {
    match kind {
        AttachmentKind::Csv => csv(bytes),
        AttachmentKind::Json => json(bytes),
        AttachmentKind::Xlsx => xlsx(bytes),
        AttachmentKind::Parquet => parquet(bytes),
        _ => None,
    }
}

/// The lines as they are shown: each cut to [`LINE`] characters.
pub fn cut(line: &str) -> String {
    if line.chars().count() <= LINE {
        return line.to_owned();
    }
    let kept: String = line.chars().take(LINE).collect();
    format!("{kept}…")
}

fn more_rows(more: usize) -> Option<String> {
    (more > 0).then(|| format!("… and {more} more rows"))
}

fn csv(bytes: &[u8]) -> Option<Preview> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines = text.lines().filter(|line| !line.trim().is_empty());
    let header = cut(lines.next()?);
    let rows = lines.by_ref().take(ROWS).map(cut).collect();
    Some(Preview {
        header,
        rows,
        rest: more_rows(lines.count()),
    })
}

/// A JSON array of objects: the first object's keys, then each row as
/// compact JSON.
fn json(bytes: &[u8]) -> Option<Preview> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let items = value.as_array()?;
    let first = items.first()?.as_object()?;
    let header = cut(&first.keys().cloned().collect::<Vec<_>>().join(","));
    let rows = items
        .iter()
        .take(ROWS)
        .map(|row| cut(&row.to_string()))
        .collect();
    Some(Preview {
        header,
        rows,
        rest: more_rows(items.len().saturating_sub(ROWS)),
    })
}

/// An XLSX file's first sheet: its shared strings, then its rows' cells
/// (shared strings, inline strings and plain values), comma-separated.
fn xlsx(bytes: &[u8]) -> Option<Preview> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).ok()?;
    let read = |archive: &mut zip::ZipArchive<_>, name: &str| -> Option<String> {
        let entry = archive.by_name(name).ok()?;
        let mut text = String::new();
        entry.take(SHEET_BYTES).read_to_string(&mut text).ok()?;
        Some(text)
    };
    let shared: Vec<String> = read(&mut archive, "xl/sharedStrings.xml")
        .map(|xml| {
            elements(&xml, "si")
                .map(|item| elements(item, "t").map(inner_text).collect())
                .collect()
        })
        .unwrap_or_default();
    let mut sheets: Vec<String> = archive
        .file_names()
        .filter(|name| name.starts_with("xl/worksheets/sheet") && name.ends_with(".xml"))
        .map(str::to_owned)
        .collect();
    // sheet1.xml before sheet10.xml.
    sheets.sort_by_key(|name| (name.len(), name.clone()));
    let sheet = read(&mut archive, sheets.first()?)?;
    let mut lines = elements(&sheet, "row").map(|row| {
        elements(row, "c")
            .map(|cell| cell_text(cell, &shared))
            .collect::<Vec<_>>()
            .join(",")
    });
    let header = cut(&lines.next()?);
    let rows = lines.by_ref().take(ROWS).map(|line| cut(&line)).collect();
    Some(Preview {
        header,
        rows,
        rest: more_rows(lines.count()),
    })
}

/// The contents of each `<tag …>…</tag>` in `xml` (an empty `<tag/>` gives
/// an empty string), in order; nesting of the same tag is not expected.
fn elements<'a>(xml: &'a str, tag: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut rest = xml;
    std::iter::from_fn(move || loop {
        let start = rest.find(&open)?;
        let after = &rest[start + open.len()..];
        // `<t` must not match `<tableParts`: the tag name ends here.
        if !after.starts_with(['>', ' ', '/', '\t', '\n', '\r']) {
            rest = after;
            continue;
        }
        let head_end = after.find('>')?;
        if after[..head_end].ends_with('/') {
            rest = &after[head_end + 1..];
            return Some(&after[..0]);
        }
        let body = &after[head_end + 1..];
        let end = body.find(&close)?;
        rest = &body[end + close.len()..];
        // The element's head stays in front of its body for `cell_text`.
        return Some(&after[..head_end + 1 + end]);
    })
}

/// The text inside an element as [`elements`] gives it: after its head.
fn inner_text(element: &str) -> String {
    let body = element.split_once('>').map_or("", |(_, body)| body);
    unescape(body)
}

/// One cell's value: `t="s"` is an index into the shared strings,
/// `t="inlineStr"` holds its text, anything else its `<v>` as written.
fn cell_text(cell: &str, shared: &[String]) -> String {
    let head = cell.split_once('>').map_or(cell, |(head, _)| head);
    let kind = head
        .split_once(" t=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(kind, _)| kind);
    match kind {
        Some("inlineStr") => elements(cell, "t").map(inner_text).collect(),
        Some("s") => elements(cell, "v")
            .next()
            .and_then(|value| inner_text(value).trim().parse::<usize>().ok())
            .and_then(|index| shared.get(index).cloned())
            .unwrap_or_default(),
        _ => elements(cell, "v")
            .next()
            .map(inner_text)
            .unwrap_or_default(),
    }
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// A Parquet file's leaf columns and row count, from its footer (Thrift's
/// compact protocol: `FileMetaData` field 2 is the schema, 3 the rows).
fn parquet(bytes: &[u8]) -> Option<Preview> {
    let footer_at = bytes.len().checked_sub(8)?;
    let length = u32::from_le_bytes(bytes[footer_at..footer_at + 4].try_into().ok()?) as usize;
    let start = footer_at.checked_sub(length)?;
    let mut reader = Thrift {
        bytes: &bytes[start..footer_at],
        at: 0,
    };
    let mut columns: Vec<String> = Vec::new();
    let mut rows: Option<i64> = None;
    reader.fields(0, |reader, id, kind| match (id, kind) {
        (2, LIST) => {
            let (count, element) = reader.list_header()?;
            for index in 0..count {
                if element != STRUCT {
                    reader.skip(element, 1)?;
                    continue;
                }
                let (mut name, mut children) = (None, 0i64);
                reader.fields(1, |reader, id, kind| match (id, kind) {
                    (4, BINARY) => {
                        name = Some(String::from_utf8_lossy(reader.binary()?).into_owned());
                        Some(())
                    }
                    (5, I32) => {
                        children = reader.varint_signed()?;
                        Some(())
                    }
                    _ => reader.skip(kind, 1),
                })?;
                // The first element is the schema's root; groups hold
                // the leaves, which are the columns.
                if index > 0 && children == 0 {
                    columns.extend(name);
                }
            }
            Some(())
        }
        (3, I64) => {
            rows = Some(reader.varint_signed()?);
            Some(())
        }
        _ => reader.skip(kind, 0),
    })?;
    if columns.is_empty() {
        return None;
    }
    Some(Preview {
        header: cut(&columns.join(",")),
        rows: Vec::new(),
        rest: rows.map(|rows| format!("{} rows", ollio_domain::number_text(rows as f64))),
    })
}

const BOOL_TRUE: u8 = 1;
const BOOL_FALSE: u8 = 2;
const BYTE: u8 = 3;
const I16: u8 = 4;
const I32: u8 = 5;
const I64: u8 = 6;
const DOUBLE: u8 = 7;
const BINARY: u8 = 8;
const LIST: u8 = 9;
const SET: u8 = 10;
const MAP: u8 = 11;
const STRUCT: u8 = 12;
/// How deep structs may nest before the footer is taken as corrupt.
const MAX_DEPTH: usize = 16;

/// A reader of Thrift's compact protocol, over a footer's bytes.
struct Thrift<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Thrift<'_> {
    fn byte(&mut self) -> Option<u8> {
        let byte = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(byte)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    fn varint_signed(&mut self) -> Option<i64> {
        let raw = self.varint()?;
        Some((raw >> 1) as i64 ^ -((raw & 1) as i64))
    }

    fn binary(&mut self) -> Option<&[u8]> {
        let length = usize::try_from(self.varint()?).ok()?;
        let end = self.at.checked_add(length)?;
        let value = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(value)
    }

    fn list_header(&mut self) -> Option<(usize, u8)> {
        let byte = self.byte()?;
        let count = match byte >> 4 {
            15 => usize::try_from(self.varint()?).ok()?,
            short => usize::from(short),
        };
        // Each element takes a byte at least: a count past the end is corrupt.
        (count <= self.bytes.len() - self.at).then_some((count, byte & 0x0f))
    }

    /// Reads a struct's fields until its stop, handing each field's id and
    /// type to `field`, which reads (or skips) its value.
    fn fields(
        &mut self,
        depth: usize,
        mut field: impl FnMut(&mut Self, i16, u8) -> Option<()>,
    ) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut last = 0i16;
        loop {
            let byte = self.byte()?;
            if byte == 0 {
                return Some(());
            }
            let id = match byte >> 4 {
                0 => i16::try_from(self.varint_signed()?).ok()?,
                delta => last.checked_add(i16::from(delta))?,
            };
            last = id;
            field(self, id, byte & 0x0f)?;
        }
    }

    /// Passes over one value of type `kind`.
    fn skip(&mut self, kind: u8, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match kind {
            // A struct field's booleans are in the type itself.
            BOOL_TRUE | BOOL_FALSE => Some(()),
            BYTE => self.byte().map(drop),
            I16 | I32 | I64 => self.varint().map(drop),
            DOUBLE => {
                self.at = self
                    .at
                    .checked_add(8)
                    .filter(|end| *end <= self.bytes.len())?;
                Some(())
            }
            BINARY => self.binary().map(drop),
            LIST | SET => {
                let (count, element) = self.list_header()?;
                for _ in 0..count {
                    match element {
                        // In a list, each boolean is a byte.
                        BOOL_TRUE | BOOL_FALSE => self.byte().map(drop)?,
                        other => self.skip(other, depth + 1)?,
                    }
                }
                Some(())
            }
            MAP => {
                let count = usize::try_from(self.varint()?).ok()?;
                if count == 0 {
                    return Some(());
                }
                let types = self.byte()?;
                for _ in 0..count {
                    self.skip(types >> 4, depth + 1)?;
                    self.skip(types & 0x0f, depth + 1)?;
                }
                Some(())
            }
            STRUCT => self.fields(depth + 1, |reader, _, kind| reader.skip(kind, depth + 1)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    const PARQUET: &[u8] = include_bytes!("../tests/fixtures/homes.parquet");
    const XLSX: &[u8] = include_bytes!("../tests/fixtures/homes.xlsx");

    #[test]
    fn a_csv_shows_its_header_and_first_rows() {
        let csv = b"city,price\nOslo,3\nBergen,2\nTromso,4\nBodo,1\nAlta,5\nMolde,6\nHamar,7\n";
        let shown = preview(AttachmentKind::Csv, csv).unwrap();
        assert_eq!(shown.header, "city,price");
        assert_eq!(
            shown.rows,
            ["Oslo,3", "Bergen,2", "Tromso,4", "Bodo,1", "Alta,5"]
        );
        assert_eq!(shown.rest.as_deref(), Some("… and 2 more rows"));
        let long = format!("{}\n", "a".repeat(300));
        let shown = preview(AttachmentKind::Csv, long.as_bytes()).unwrap();
        assert_eq!(shown.header.chars().count(), LINE + 1);
        assert_eq!(shown.rest, None);
    }

    #[test]
    fn a_json_array_of_objects_is_a_table() {
        let rows: Vec<_> = (0..7)
            .map(|i| serde_json::json!({"city": format!("c{i}"), "price": i}))
            .collect();
        let bytes = serde_json::to_vec(&rows).unwrap();
        let shown = preview(AttachmentKind::Json, &bytes).unwrap();
        assert_eq!(shown.header, "city,price");
        assert_eq!(shown.rows[0], r#"{"city":"c0","price":0}"#);
        assert_eq!(shown.rows.len(), ROWS);
        assert_eq!(shown.rest.as_deref(), Some("… and 2 more rows"));
        assert_eq!(
            preview(AttachmentKind::Json, br#"{"not": "a table"}"#),
            None
        );
        assert_eq!(preview(AttachmentKind::Json, b"[1, 2]"), None);
    }

    #[test]
    fn an_xlsx_sheet_shows_its_cells_inline_or_shared() {
        // openpyxl's: inline strings, written last in the zip.
        let shown = preview(AttachmentKind::Xlsx, XLSX).unwrap();
        assert_eq!(shown.header, "city,price,rooms");
        assert_eq!(
            shown.rows,
            ["Oslo,3.5,3", "Bergen,2,2", "Tromsø & co,4.25,4"]
        );
        assert_eq!(shown.rest, None);

        // Excel's: shared strings, by index.
        let mut bytes = Vec::new();
        {
            let mut zip = zip::ZipWriter::new(std::io::Cursor::new(&mut bytes));
            let options = zip::write::SimpleFileOptions::default();
            for (name, body) in [
                ("[Content_Types].xml", "<Types/>"),
                (
                    "xl/sharedStrings.xml",
                    r#"<sst><si><t>name</t></si><si><r><t>fa</t></r><r><t xml:space="preserve">vourite &lt;3</t></r></si><si><t>Ada</t></si></sst>"#,
                ),
                (
                    "xl/worksheets/sheet1.xml",
                    r#"<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row><row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2"/><c r="C2"><v>7</v></c></row></sheetData></worksheet>"#,
                ),
            ] {
                zip.start_file(name, options).unwrap();
                zip.write_all(body.as_bytes()).unwrap();
            }
            zip.finish().unwrap();
        }
        let shown = preview(AttachmentKind::Xlsx, &bytes).unwrap();
        assert_eq!(shown.header, "name,favourite <3");
        assert_eq!(shown.rows, ["Ada,,7"]);
        // Not a workbook after all: no preview, no error.
        assert_eq!(preview(AttachmentKind::Xlsx, b"PK\x03\x04 broken"), None);
    }

    #[test]
    fn a_parquet_footer_names_its_columns_and_rows() {
        let shown = preview(AttachmentKind::Parquet, PARQUET).unwrap();
        assert_eq!(shown.header, "city,price,rooms");
        assert!(shown.rows.is_empty());
        assert_eq!(shown.rest.as_deref(), Some("3 rows"));
        // A cut or forged footer gives no preview, however it is cut.
        for end in 0..PARQUET.len() {
            let mut cut = PARQUET[..end].to_vec();
            cut.extend_from_slice(&PARQUET[PARQUET.len() - 8..]);
            let _ = preview(AttachmentKind::Parquet, &cut);
        }
        let mut forged = b"PAR1".to_vec();
        forged.extend_from_slice(&[0x19, 0xfc, 0xff, 0xff, 0xff, 0x0f]);
        forged.extend_from_slice(&(6u32).to_le_bytes());
        forged.extend_from_slice(b"PAR1");
        assert_eq!(preview(AttachmentKind::Parquet, &forged), None);
    }
}
