//! A message's attached files in its turn: written into the project's
//! `data/` folder before the model starts, described to it (names, sizes,
//! a table's header and first rows), and its images given to a model that
//! takes images. A model that does not is told nothing of their pixels,
//! and the user is told the image was saved but not seen.

use base64::Engine as _;

use super::{
    chat::Image,
    engine::Stop,
    table_preview,
    tools::{in_sandbox, EventSink},
};
use ollio_domain::{attachment::Attachment, size_text, MessageId, TurnEvent, UserId};
use ollio_sandbox::Envd;
use ollio_store::{blobs::Blobs, Store, StoredAttachment};

/// What the turn's first message gains from its attachments.
#[derive(Debug, Default)]
pub(crate) struct Attached {
    /// Appended to the user's message: what was attached, and where it is.
    pub description: Option<String>,
    /// For a model that takes images.
    pub images: Vec<Image>,
    /// Images the model was not shown, by name.
    pub unseen: Vec<String>,
}

/// Writes `message`'s files into the sandbox and says what the model gets
/// of them.
pub(crate) async fn bring(
    store: &Store,
    blobs: Option<&Blobs>,
    owner: &UserId,
    message: &MessageId,
    envd: &Envd,
    takes_images: bool,
    sink: &EventSink,
) -> Result<Attached, Stop> {
    let files = store.message_attachments(owner, message).await?;
    if files.is_empty() {
        return Ok(Attached::default());
    }
    let Some(blobs) = blobs else {
        return Err(Stop::Fail(
            "The attached files cannot be read: this server keeps no files (no blob store).".into(),
            true,
        ));
    };
    let mut read: Vec<(StoredAttachment, Vec<u8>)> = Vec::with_capacity(files.len());
    for file in files {
        let bytes = blobs.attachment(&file.id).await.map_err(|error| {
            tracing::warn!(%error, attachment = %file.id, "an attached file could not be read");
            Stop::Retry(format!("reading the attached file {}", file.file.name))
        })?;
        read.push((file, bytes));
    }
    let upload: Vec<(String, Vec<u8>)> = read
        .iter()
        .map(|(file, bytes)| (in_sandbox(&file.file.name.path()), bytes.clone()))
        .collect();
    envd.write_files(&upload).await?;

    let described: Vec<_> = read
        .iter()
        .map(|(file, bytes)| (file.file.clone(), bytes.as_slice()))
        .collect();
    let mut attached = Attached {
        description: Some(describe(&described)),
        ..Attached::default()
    };
    for (file, bytes) in &read {
        if !file.file.kind.is_image() {
            continue;
        }
        if takes_images {
            attached.images.push(Image {
                media_type: file.file.kind.media_type().to_owned(),
                base64: base64::engine::general_purpose::STANDARD.encode(bytes),
            });
        } else {
            attached.unseen.push(file.file.name.to_string());
        }
    }
    let _ = sink.send(TurnEvent::AttachmentsSaved {
        paths: read.iter().map(|(file, _)| file.file.name.path()).collect(),
        unseen: attached.unseen.clone(),
    });
    Ok(attached)
}

/// The lines that tell the model what was attached: each file's path, type
/// and size and, for a table, its header and first rows.
pub(crate) fn describe(attachments: &[(Attachment, &[u8])]) -> String {
    let mut out = String::from("The user attached these files, saved in the project:\n");
    for (attachment, bytes) in attachments {
        out.push_str(&format!(
            "- {} ({}, {})\n",
            attachment.name.path(),
            attachment.kind.media_type(),
            size_text(attachment.size as u64)
        ));
        if let Some(table) = table_preview::preview(attachment.kind, bytes) {
            out.push_str(&format!("  header: {}\n", table.header));
            for row in &table.rows {
                out.push_str(&format!("  row: {row}\n"));
            }
            if let Some(rest) = table.rest {
                out.push_str(&format!("  {rest}\n"));
            }
        }
    }
    out
}

/// The note the answer ends with when images went unseen, so the user
/// knows after the turn too.
pub(crate) fn unseen_note(unseen: &[String], model: &str) -> Option<String> {
    if unseen.is_empty() {
        return None;
    }
    Some(format!(
        "Note: {} saved in `data/` but not seen: the model {model} does not take images.",
        match unseen {
            [one] => format!("{one} was"),
            many => format!("{} were", many.join(", ")),
        }
    ))
}

/// How an earlier user message reads in the history: its text and the
/// paths of the files it carried.
pub(crate) fn with_paths(content: &str, files: &[&StoredAttachment]) -> String {
    if files.is_empty() {
        return content.to_owned();
    }
    let paths: Vec<String> = files.iter().map(|file| file.file.name.path()).collect();
    format!("{content}\n\n(Attached: {})", paths.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ollio_domain::attachment::check;

    #[test]
    fn the_model_is_told_names_sizes_and_a_table_s_first_rows() {
        let png: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        let csv = b"city,price\nOslo,3\nBergen,2\nTromso,4\nBodo,1\nAlta,5\nMolde,6\nHamar,7\n";
        let parquet: &[u8] = include_bytes!("../tests/fixtures/homes.parquet");
        let text = describe(&[
            (check("homes.csv", csv).unwrap(), csv.as_slice()),
            (check("plot.png", png).unwrap(), png),
            (check("homes.parquet", parquet).unwrap(), parquet),
        ]);
        assert!(text.contains("- data/homes.csv (text/csv, 66 B)"), "{text}");
        assert!(text.contains("  header: city,price\n"), "{text}");
        assert!(text.contains("  row: Oslo,3\n"), "{text}");
        assert!(text.contains("  row: Alta,5\n"), "{text}");
        assert!(!text.contains("Molde"), "{text}");
        assert!(text.contains("  … and 2 more rows\n"), "{text}");
        assert!(
            text.contains("- data/plot.png (image/png, 16 B)\n- data/homes.parquet"),
            "{text}"
        );
        assert!(
            text.contains("  header: city,price,rooms\n  3 rows\n"),
            "{text}"
        );
    }

    #[test]
    fn unseen_images_are_named_in_a_note() {
        assert_eq!(unseen_note(&[], "ollama:x"), None);
        assert_eq!(
            unseen_note(&["a.png".into(), "b.gif".into()], "ollama:x").unwrap(),
            "Note: a.png, b.gif were saved in `data/` but not seen: the model ollama:x does not take images."
        );
    }
}
