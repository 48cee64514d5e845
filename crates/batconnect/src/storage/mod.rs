//! Where files live (receipts, uploaded invoice documents): a local directory under
//! `BAT_DATA_DIR` by default, S3-compatible object storage with `BAT_STORAGE_URL=s3://…`.
//! Both go through `object_store`, so every caller sees one put/get/delete by key.
//!
//! Keys are relative paths such as `receipts/RPR-2026-00001.pdf` or `documents/<uuid>`;
//! the service never hands a storage URL to clients, only its own download routes.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::buffered::BufWriter;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::config::Config;

/// A file store; cheap to clone.
#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    location: Arc<str>,
}

impl fmt::Debug for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Storage")
            .field("location", &self.location)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("'{0}' is not a valid storage key")]
    BadKey(String),
    #[error("storage ({location}): {source}")]
    Backend {
        location: String,
        #[source]
        source: object_store::Error,
    },
}

impl Storage {
    /// The store the configuration names (see the module docs).
    pub fn from_config(config: &Config) -> anyhow::Result<Storage> {
        match &config.storage_url {
            None => Storage::local(&config.data_dir.join("files")),
            Some(url) => Storage::s3(url, &config.aws_settings),
        }
    }

    /// Files under `dir` (created if missing).
    pub fn local(dir: &Path) -> anyhow::Result<Storage> {
        std::fs::create_dir_all(dir).map_err(|e| {
            anyhow::anyhow!("cannot create the file directory {}: {e}", dir.display())
        })?;
        let store = LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| anyhow::anyhow!("file directory {}: {e}", dir.display()))?
            .with_automatic_cleanup(true);
        Ok(Storage {
            store: Arc::new(store),
            location: format!("local directory {}", dir.display()).into(),
        })
    }

    /// `s3://bucket[/prefix]`, with the standard AWS settings (credentials, region,
    /// endpoint for S3-compatible servers) given as lower-case `aws_*` names.
    pub fn s3(url: &str, settings: &[(String, String)]) -> anyhow::Result<Storage> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| anyhow::anyhow!("BAT_STORAGE_URL '{url}' must start with s3://"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let mut builder = AmazonS3Builder::new();
        for (name, value) in settings {
            if let Ok(key) = name.parse::<AmazonS3ConfigKey>() {
                builder = builder.with_config(key, value);
            }
        }
        let s3 = builder
            .with_bucket_name(bucket)
            .build()
            .map_err(|e| anyhow::anyhow!("BAT_STORAGE_URL '{url}': {e}"))?;
        let prefix = prefix.trim_matches('/');
        let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(s3)
        } else {
            Arc::new(PrefixStore::new(s3, prefix))
        };
        Ok(Storage {
            store,
            location: format!("s3://{bucket}/{prefix}").into(),
        })
    }

    /// Where the files are, for logs and errors (no credentials).
    pub fn location(&self) -> &str {
        &self.location
    }

    fn path(key: &str) -> Result<ObjectPath, StorageError> {
        let valid = !key.is_empty()
            && key.split('/').all(|part| {
                !part.is_empty()
                    && part != "."
                    && part != ".."
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            });
        if !valid {
            return Err(StorageError::BadKey(key.to_string()));
        }
        ObjectPath::parse(key).map_err(|_| StorageError::BadKey(key.to_string()))
    }

    fn backend(&self, source: object_store::Error) -> StorageError {
        StorageError::Backend {
            location: self.location.to_string(),
            source,
        }
    }

    /// Writes (or replaces) the object at `key`.
    #[tracing::instrument(skip_all, fields(key))]
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        let path = Self::path(key)?;
        self.store
            .put(&path, PutPayload::from_bytes(bytes))
            .await
            .map_err(|e| self.backend(e))?;
        Ok(())
    }

    /// A writer that streams an object to `key` in parts (a multipart upload on S3, a
    /// staged file locally), so a large upload is never held whole in memory. Nothing is
    /// visible at `key` until [`StorageWriter::finish`].
    pub fn writer(&self, key: &str) -> Result<StorageWriter, StorageError> {
        let path = Self::path(key)?;
        Ok(StorageWriter {
            inner: BufWriter::with_capacity(Arc::clone(&self.store), path, WRITE_PART_BYTES),
            location: self.location.clone(),
        })
    }

    /// The object at `key`, or `None` when there is none.
    #[tracing::instrument(skip_all, fields(key))]
    pub async fn get(&self, key: &str) -> Result<Option<Bytes>, StorageError> {
        let path = Self::path(key)?;
        match self.store.get(&path).await {
            Ok(found) => Ok(Some(found.bytes().await.map_err(|e| self.backend(e))?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.backend(e)),
        }
    }

    /// Removes the object at `key`; removing a missing object is not an error.
    #[tracing::instrument(skip_all, fields(key))]
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        let path = Self::path(key)?;
        match self.store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.backend(e)),
        }
    }
}

/// Bytes a writer gathers before it starts a multipart upload (S3's smallest part is
/// 5 MiB); a smaller file is written with one plain put.
const WRITE_PART_BYTES: usize = 5 * 1024 * 1024;

/// An object being written in parts; see [`Storage::writer`].
pub struct StorageWriter {
    inner: BufWriter,
    location: Arc<str>,
}

impl StorageWriter {
    fn backend(&self, source: impl Into<object_store::Error>) -> StorageError {
        StorageError::Backend {
            location: self.location.to_string(),
            source: source.into(),
        }
    }

    pub async fn write(&mut self, chunk: Bytes) -> Result<(), StorageError> {
        self.inner.put(chunk).await.map_err(|e| self.backend(e))
    }

    /// Completes the object; when that fails, a started multipart upload is aborted.
    pub async fn finish(mut self) -> Result<(), StorageError> {
        use tokio::io::AsyncWriteExt;
        if let Err(e) = self.inner.shutdown().await {
            let error = self.backend(object_store::Error::Generic {
                store: "writer",
                source: Box::new(e),
            });
            self.abort().await;
            return Err(error);
        }
        Ok(())
    }

    /// Gives the object up: a started multipart upload is aborted, nothing is left.
    pub async fn abort(mut self) {
        if let Err(e) = self.inner.abort().await {
            tracing::warn!(error = %e, location = %self.location, "could not abort an unfinished upload");
        }
    }
}

impl From<StorageError> for crate::error::AppError {
    fn from(e: StorageError) -> Self {
        crate::error::AppError::Internal(e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_plain_relative_paths() {
        for good in ["receipts/RPR-2026-00001.pdf", "documents/0f3c-aa", "a"] {
            assert!(Storage::path(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a//b",
            "a/./b",
            "a b",
            "a\\b",
            "docs/",
        ] {
            assert!(Storage::path(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn local_storage_round_trip() {
        let dir = std::env::temp_dir().join(format!("bat-storage-{}", uuid::Uuid::new_v4()));
        let storage = Storage::local(&dir).unwrap();
        let key = "receipts/RPR-2026-00001.pdf";
        assert_eq!(storage.get(key).await.unwrap(), None);
        storage
            .put(key, Bytes::from_static(b"%PDF-1"))
            .await
            .unwrap();
        storage
            .put(key, Bytes::from_static(b"%PDF-2"))
            .await
            .unwrap();
        assert_eq!(
            storage.get(key).await.unwrap().as_deref(),
            Some(&b"%PDF-2"[..])
        );
        assert!(dir.join("receipts/RPR-2026-00001.pdf").is_file());
        storage.delete(key).await.unwrap();
        storage.delete(key).await.unwrap();
        assert_eq!(storage.get(key).await.unwrap(), None);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
