//! Buckets that Distributed Maps read their items from: directories on this machine, or any
//! S3-compatible endpoint (AWS S3, MinIO, moto, …).
//!
//! A bucket named `B` is the directory `B` under the local root when that directory exists;
//! otherwise it is bucket `B` on the S3 endpoint, if one is configured. A key is a path below
//! the bucket. The local root is opened with cap-std, so no key (`../x`, an absolute path, a
//! symbolic link out of the tree) reaches a file outside it.
//!
//! [`BucketTasks`] is the [`TaskInvoker`](crate::engine::TaskInvoker) that serves a Distributed
//! Map's `ItemReader` and `ResultWriter` from an [`ObjectStore`] and hands every other task on.

mod items;
mod local;
mod results;
mod s3;

use std::path::PathBuf;
use std::sync::Arc;

pub(crate) use items::parse_items;
pub use items::{BucketTasks, MAX_LISTED_OBJECTS, MAX_OBJECT_BYTES};
pub use s3::S3Config;

/// Where buckets are found.
#[derive(Debug, Clone, Default)]
pub struct ObjectStoreConfig {
    /// A directory whose subdirectories are buckets: object `K` of bucket `B` is the file
    /// `ROOT/B/K`.
    pub local_root: Option<PathBuf>,
    /// An S3-compatible endpoint, for the buckets that are not local.
    pub s3: Option<S3Config>,
}

/// One object, as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// The key.
    pub key: String,
    /// Bytes.
    pub size: u64,
    /// S3's entity tag, quotes included. Local objects get one made of their size and
    /// modification time, which changes when they do.
    pub etag: String,
    /// Last modified, in seconds since the epoch.
    pub last_modified: i64,
    /// `STANDARD` unless S3 says otherwise.
    pub storage_class: String,
}

/// One page of a listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// The objects, in key order.
    pub objects: Vec<ObjectInfo>,
    /// Where the next page starts, if there is one.
    pub next: Option<String>,
}

/// Why an object could not be read or listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObjectError {
    /// No local directory and no S3 bucket of that name.
    #[error("The specified bucket does not exist: {bucket}{hint}")]
    NoSuchBucket {
        /// The bucket.
        bucket: String,
        /// Where it was looked for, when no S3 endpoint is configured.
        hint: String,
    },
    /// The bucket has no such key.
    #[error("The specified key does not exist: s3://{bucket}/{key}")]
    NoSuchKey {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
    },
    /// The bucket or key cannot name an object (empty, `..`, a directory).
    #[error("{0}")]
    InvalidName(String),
    /// The object is larger than a reader may hold.
    #[error("The object s3://{bucket}/{key} is larger than {limit} bytes, the most an ItemReader reads")]
    TooLarge {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// The limit.
        limit: u64,
    },
    /// S3 refused the request.
    #[error("{message} (Service: S3, Status Code: {status}, Error Code: {code})")]
    Service {
        /// The HTTP status.
        status: u16,
        /// S3's error code (`AccessDenied`, …).
        code: String,
        /// S3's message.
        message: String,
    },
    /// The endpoint could not be reached, or answered something that is not S3.
    #[error("S3 request failed: {0}")]
    Transport(String),
    /// Reading the local tree failed.
    #[error("{0}")]
    Io(String),
}

/// The buckets of one server.
#[derive(Debug, Clone, Default)]
pub struct ObjectStore {
    local: Option<Arc<local::LocalBuckets>>,
    s3: Option<Arc<s3::S3>>,
    /// Shown when a bucket is missing and nothing else could hold it.
    local_root: Option<PathBuf>,
}

impl ObjectStore {
    /// Opens the local root (created if missing) and prepares the S3 client.
    pub fn open(config: &ObjectStoreConfig) -> Result<Self, ObjectError> {
        let local = match &config.local_root {
            Some(root) => Some(Arc::new(local::LocalBuckets::open(root)?)),
            None => None,
        };
        let s3 = match &config.s3 {
            Some(s3) => Some(Arc::new(s3::S3::new(s3)?)),
            None => None,
        };
        Ok(ObjectStore { local, s3, local_root: config.local_root.clone() })
    }

    /// The object's bytes, refusing more than `limit`.
    pub async fn get(&self, bucket: &str, key: &str, limit: u64) -> Result<Vec<u8>, ObjectError> {
        validate_bucket(bucket)?;
        if let Some(local) = self.local_bucket(bucket) {
            let (bucket, key) = (bucket.to_owned(), key.to_owned());
            return blocking(move || local.get(&bucket, &key, limit)).await;
        }
        let s3 = self.s3(bucket)?;
        let (bucket, key) = (bucket.to_owned(), key.to_owned());
        blocking(move || s3.get(&bucket, &key, limit)).await
    }

    /// Writes the object, replacing any of that key.
    pub async fn put(&self, bucket: &str, key: &str, bytes: Vec<u8>) -> Result<(), ObjectError> {
        validate_bucket(bucket)?;
        if let Some(local) = self.local_bucket(bucket) {
            let (bucket, key) = (bucket.to_owned(), key.to_owned());
            return blocking(move || local.put(&bucket, &key, &bytes)).await;
        }
        let s3 = self.s3(bucket)?;
        let (bucket, key) = (bucket.to_owned(), key.to_owned());
        blocking(move || s3.put(&bucket, &key, &bytes)).await
    }

    /// One page of the objects whose keys start with `prefix`, after `continuation`.
    pub async fn list(&self, bucket: &str, prefix: &str, continuation: Option<String>) -> Result<Listing, ObjectError> {
        validate_bucket(bucket)?;
        if let Some(local) = self.local_bucket(bucket) {
            let (bucket, prefix) = (bucket.to_owned(), prefix.to_owned());
            return blocking(move || local.list(&bucket, &prefix)).await;
        }
        let s3 = self.s3(bucket)?;
        let (bucket, prefix) = (bucket.to_owned(), prefix.to_owned());
        blocking(move || s3.list(&bucket, &prefix, continuation.as_deref())).await
    }

    fn local_bucket(&self, bucket: &str) -> Option<Arc<local::LocalBuckets>> {
        self.local.as_ref().filter(|local| local.has(bucket)).map(Arc::clone)
    }

    fn s3(&self, bucket: &str) -> Result<Arc<s3::S3>, ObjectError> {
        self.s3.as_ref().map(Arc::clone).ok_or_else(|| {
            let hint = match &self.local_root {
                Some(root) => format!(
                    " (no directory {bucket} in {}, and no S3 endpoint is configured: see stepwasm serve --s3-endpoint)",
                    root.display()
                ),
                None => " (no bucket directory and no S3 endpoint is configured)".to_owned(),
            };
            ObjectError::NoSuchBucket { bucket: bucket.to_owned(), hint }
        })
    }
}

/// S3's rules, less the ones about dots and dashes: what matters here is that a bucket name is
/// one path segment and one host label.
fn validate_bucket(bucket: &str) -> Result<(), ObjectError> {
    let valid = (1..=63).contains(&bucket.len())
        && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.' || b == b'_')
        && bucket != "."
        && bucket != "..";
    if valid {
        Ok(())
    } else {
        Err(ObjectError::InvalidName(format!(
            "The bucket name '{bucket}' is not valid: 1 to 63 lowercase letters, digits, '.', '-' or '_'"
        )))
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ObjectError> + Send + 'static,
) -> Result<T, ObjectError> {
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|error| Err(ObjectError::Io(error.to_string())))
}
