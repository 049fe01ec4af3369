//! Buckets as directories: `ROOT/BUCKET/KEY`.

use std::io::{ErrorKind, Read};
use std::path::Path;
use std::time::UNIX_EPOCH;

use cap_std::ambient_authority;
use cap_std::fs::Dir;

use super::{Listing, ObjectError, ObjectInfo};

/// The local root, opened once. Every path below it is resolved by cap-std inside it.
#[derive(Debug)]
pub(super) struct LocalBuckets {
    root: Dir,
}

impl LocalBuckets {
    pub(super) fn open(root: &Path) -> Result<Self, ObjectError> {
        std::fs::create_dir_all(root).map_err(|error| io(&format!("creating {}", root.display()), &error))?;
        let root = Dir::open_ambient_dir(root, ambient_authority())
            .map_err(|error| io(&format!("opening {}", root.display()), &error))?;
        Ok(LocalBuckets { root })
    }

    pub(super) fn has(&self, bucket: &str) -> bool {
        self.root.is_dir(bucket)
    }

    pub(super) fn get(&self, bucket: &str, key: &str, limit: u64) -> Result<Vec<u8>, ObjectError> {
        let no_such_key = || ObjectError::NoSuchKey { bucket: bucket.to_owned(), key: key.to_owned() };
        if key.is_empty() || key.ends_with('/') {
            return Err(no_such_key());
        }
        let dir = self.bucket(bucket)?;
        let file = match dir.open(key) {
            Ok(file) => file,
            Err(error) if error.kind() == ErrorKind::NotFound => return Err(no_such_key()),
            // cap-std refuses a key that would leave the bucket; to the workflow it names nothing.
            Err(error) if error.kind() == ErrorKind::PermissionDenied || escapes(&error) => return Err(no_such_key()),
            Err(error) => return Err(io(&format!("opening s3://{bucket}/{key}"), &error)),
        };
        let metadata = file.metadata().map_err(|error| io(&format!("reading s3://{bucket}/{key}"), &error))?;
        if !metadata.is_file() {
            return Err(no_such_key());
        }
        let too_large = || ObjectError::TooLarge { bucket: bucket.to_owned(), key: key.to_owned(), limit };
        if metadata.len() > limit {
            return Err(too_large());
        }
        let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
        // The file may grow between the size check and the read.
        file.take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|error| io(&format!("reading s3://{bucket}/{key}"), &error))?;
        if bytes.len() as u64 > limit {
            return Err(too_large());
        }
        Ok(bytes)
    }

    /// Writes the object, creating the directories its key names; a key that would leave the
    /// bucket is refused.
    pub(super) fn put(&self, bucket: &str, key: &str, bytes: &[u8]) -> Result<(), ObjectError> {
        let invalid = || ObjectError::InvalidName(format!("The key '{key}' cannot name an object in bucket {bucket}"));
        if key.is_empty() || key.ends_with('/') {
            return Err(invalid());
        }
        let dir = self.bucket(bucket)?;
        let written = match key.rsplit_once('/') {
            Some((parent, _)) => dir.create_dir_all(parent).and_then(|()| dir.write(key, bytes)),
            None => dir.write(key, bytes),
        };
        written.map_err(|error| match error.kind() {
            ErrorKind::PermissionDenied => invalid(),
            _ if escapes(&error) => invalid(),
            _ => io(&format!("writing s3://{bucket}/{key}"), &error),
        })
    }

    /// Every file under the bucket whose key starts with `prefix`, in key order, on one page.
    /// Symbolic links are not followed.
    pub(super) fn list(&self, bucket: &str, prefix: &str) -> Result<Listing, ObjectError> {
        let dir = self.bucket(bucket)?;
        let mut objects = Vec::new();
        walk(&dir, "", prefix, &mut objects).map_err(|error| io(&format!("listing s3://{bucket}/{prefix}"), &error))?;
        objects.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(Listing { objects, next: None })
    }

    fn bucket(&self, bucket: &str) -> Result<Dir, ObjectError> {
        self.root.open_dir(bucket).map_err(|error| match error.kind() {
            ErrorKind::NotFound => ObjectError::NoSuchBucket { bucket: bucket.to_owned(), hint: String::new() },
            _ => io(&format!("opening bucket {bucket}"), &error),
        })
    }
}

fn walk(dir: &Dir, at: &str, prefix: &str, out: &mut Vec<ObjectInfo>) -> std::io::Result<()> {
    for entry in dir.entries()? {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue; // S3 keys are UTF-8; a file whose name is not cannot be an object.
        };
        let key = format!("{at}{name}");
        let kind = entry.file_type()?;
        if kind.is_dir() {
            let below = format!("{key}/");
            // Only descend where a key with the prefix can be.
            if below.starts_with(prefix) || prefix.starts_with(&below) {
                walk(&entry.open_dir()?, &below, prefix, out)?;
            }
        } else if kind.is_file() && key.starts_with(prefix) {
            let metadata = entry.metadata()?;
            let modified = metadata.modified().map(|m| m.into_std()).unwrap_or(UNIX_EPOCH);
            let since_epoch = modified.duration_since(UNIX_EPOCH).unwrap_or_default();
            out.push(ObjectInfo {
                etag: format!("\"{:x}-{:x}\"", metadata.len(), since_epoch.as_nanos()),
                key,
                size: metadata.len(),
                last_modified: i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX),
                storage_class: "STANDARD".to_owned(),
            });
        }
    }
    Ok(())
}

/// cap-std reports a path that would leave its directory with an error of its own kind.
fn escapes(error: &std::io::Error) -> bool {
    error.to_string().contains("outside of the filesystem")
}

fn io(what: &str, error: &std::io::Error) -> ObjectError {
    ObjectError::Io(format!("{what}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stay_inside_their_bucket() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("in/nested")).unwrap();
        std::fs::write(root.path().join("in/nested/a.csv"), "x\n1\n").unwrap();
        std::fs::write(root.path().join("in/b.json"), "[]").unwrap();
        std::fs::write(root.path().join("secret"), "no").unwrap();
        let buckets = LocalBuckets::open(root.path()).unwrap();
        assert!(buckets.has("in") && !buckets.has("out"));
        assert_eq!(buckets.get("in", "nested/a.csv", 100).unwrap(), b"x\n1\n");
        for key in ["../secret", "/etc/passwd", "nested", "nested/", "missing"] {
            assert!(
                matches!(buckets.get("in", key, 100), Err(ObjectError::NoSuchKey { .. })),
                "{key}: {:?}",
                buckets.get("in", key, 100)
            );
        }
        assert!(matches!(buckets.get("in", "b.json", 1), Err(ObjectError::TooLarge { limit: 1, .. })));
        let keys = |prefix| -> Vec<String> {
            buckets.list("in", prefix).unwrap().objects.into_iter().map(|o| o.key).collect()
        };
        assert_eq!(keys(""), ["b.json", "nested/a.csv"]);
        assert_eq!(keys("nested/"), ["nested/a.csv"]);
        assert_eq!(keys("nes"), ["nested/a.csv"]);
        assert!(keys("zzz").is_empty());
    }
}
