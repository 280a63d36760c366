//! Blobs too big for the database: the artifacts a trained model's version
//! keeps, and the files users attach to messages. Behind the `object_store` crate, so the same calls reach the
//! local file system (by default, under the data folder) or any
//! S3-compatible store (`OLLIO_BLOB_URL=s3://bucket/prefix`, with the usual
//! `AWS_*` variables: keys, `AWS_REGION`, `AWS_ENDPOINT` and
//! `AWS_ALLOW_HTTP` for a store of one's own).

use std::{path::Path, sync::Arc};

use futures_util::TryStreamExt;
use object_store::{
    aws::{AmazonS3Builder, AmazonS3ConfigKey},
    local::LocalFileSystem,
    path::Path as BlobPath,
    ObjectStore, PutPayload,
};
use ollio_domain::{AttachmentId, VersionId};

/// Bytes the artifacts of one version may hold unless `OLLIO_ARTIFACT_MB`
/// says otherwise.
pub const DEFAULT_ARTIFACT_BYTES: u64 = 200 * 1024 * 1024;
/// Where local blobs live, inside the data folder.
pub const LOCAL_DIR: &str = "blobs";

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("OLLIO_BLOB_URL: {0}")]
    Config(String),
    #[error("the blob store failed: {0}")]
    Store(#[from] object_store::Error),
    #[error("{path} is not a file path a version may keep")]
    BadPath { path: String },
    #[error(
        "the version's artifacts hold {size} bytes; at most {max} may be kept (OLLIO_ARTIFACT_MB)"
    )]
    TooLarge { size: u64, max: u64 },
}

/// A blob store and the prefix every key of Ollio's goes under.
#[derive(Clone)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    prefix: BlobPath,
    /// Where it is, for logs: `file://…` or `s3://bucket/prefix`.
    pub location: String,
}

impl std::fmt::Debug for Blobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blobs")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl Blobs {
    /// The store `url` names (`s3://bucket/prefix`), configured by the
    /// `AWS_*` pairs of `vars`; without a URL, the local folder
    /// `{data_dir}/blobs`.
    pub fn open(
        url: Option<&str>,
        data_dir: &Path,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, BlobError> {
        let Some(url) = url.map(str::trim).filter(|url| !url.is_empty()) else {
            return Self::local(&data_dir.join(LOCAL_DIR));
        };
        let Some(rest) = url.strip_prefix("s3://") else {
            return Err(BlobError::Config(format!(
                "`{url}` is not an s3://bucket/prefix URL (leave it unset for the data folder)"
            )));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(BlobError::Config(format!("`{url}` names no bucket")));
        }
        let mut builder = AmazonS3Builder::new().with_bucket_name(bucket);
        for (name, value) in vars {
            if !name.starts_with("AWS_") {
                continue;
            }
            // The names object_store's own `from_env` takes.
            if let Ok(key) = name.to_ascii_lowercase().parse::<AmazonS3ConfigKey>() {
                builder = builder.with_config(key, value);
            }
        }
        let store = builder
            .build()
            .map_err(|error| BlobError::Config(error.to_string()))?;
        Ok(Self {
            store: Arc::new(store),
            prefix: BlobPath::from(prefix.trim_matches('/')),
            location: url.to_owned(),
        })
    }

    /// Blobs in a folder of this machine.
    pub fn local(dir: &Path) -> Result<Self, BlobError> {
        std::fs::create_dir_all(dir)
            .map_err(|error| BlobError::Config(format!("{}: {error}", dir.display())))?;
        let store = LocalFileSystem::new_with_prefix(dir)?;
        Ok(Self {
            store: Arc::new(store),
            prefix: BlobPath::default(),
            location: format!("file://{}", dir.display()),
        })
    }

    fn key(&self, parts: &[&str]) -> Result<BlobPath, BlobError> {
        let mut key = self.prefix.clone();
        for part in parts {
            for segment in part.split('/') {
                if segment.is_empty() || segment == "." || segment == ".." {
                    return Err(BlobError::BadPath {
                        path: parts.join("/"),
                    });
                }
                key = key.child(segment);
            }
        }
        Ok(key)
    }

    /// Keeps `files` (project paths and bytes) as `version`'s artifacts, in
    /// place of any it had; refused whole when they hold more than `max`.
    pub async fn put_artifacts(
        &self,
        version: &VersionId,
        files: &[(String, Vec<u8>)],
        max: u64,
    ) -> Result<(), BlobError> {
        let size: u64 = files.iter().map(|(_, bytes)| bytes.len() as u64).sum();
        if size > max {
            return Err(BlobError::TooLarge { size, max });
        }
        let keys = files
            .iter()
            .map(|(path, _)| self.key(&["artifacts", version.as_str(), path]))
            .collect::<Result<Vec<_>, _>>()?;
        self.delete_artifacts(version).await?;
        for (key, (_, bytes)) in keys.into_iter().zip(files) {
            self.store
                .put(&key, PutPayload::from(bytes.clone()))
                .await?;
        }
        Ok(())
    }

    /// `version`'s artifacts, by project path, sorted; none when it has none.
    pub async fn artifacts(
        &self,
        version: &VersionId,
    ) -> Result<Vec<(String, Vec<u8>)>, BlobError> {
        let folder = self.key(&["artifacts", version.as_str()])?;
        let listed: Vec<_> = self.store.list(Some(&folder)).try_collect().await?;
        let mut files = Vec::with_capacity(listed.len());
        for meta in listed {
            let Some(path) = meta.location.prefix_match(&folder) else {
                continue;
            };
            let path = path
                .map(|part| part.as_ref().to_owned())
                .collect::<Vec<_>>()
                .join("/");
            let bytes = self.store.get(&meta.location).await?.bytes().await?;
            files.push((path, bytes.to_vec()));
        }
        files.sort();
        Ok(files)
    }

    /// Forgets `version`'s artifacts.
    pub async fn delete_artifacts(&self, version: &VersionId) -> Result<(), BlobError> {
        let folder = self.key(&["artifacts", version.as_str()])?;
        let listed: Vec<_> = self.store.list(Some(&folder)).try_collect().await?;
        for meta in listed {
            self.store.delete(&meta.location).await?;
        }
        Ok(())
    }

    /// Keeps an attached file's bytes.
    pub async fn put_attachment(&self, id: &AttachmentId, bytes: &[u8]) -> Result<(), BlobError> {
        let key = self.key(&["attachments", id.as_str()])?;
        self.store
            .put(&key, PutPayload::from(bytes.to_vec()))
            .await?;
        Ok(())
    }

    /// An attached file's bytes.
    pub async fn attachment(&self, id: &AttachmentId) -> Result<Vec<u8>, BlobError> {
        let key = self.key(&["attachments", id.as_str()])?;
        Ok(self.store.get(&key).await?.bytes().await?.to_vec())
    }

    /// Forgets an attached file's bytes; one already gone is no error.
    pub async fn delete_attachment(&self, id: &AttachmentId) -> Result<(), BlobError> {
        let key = self.key(&["attachments", id.as_str()])?;
        match self.store.delete(&key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }
}
