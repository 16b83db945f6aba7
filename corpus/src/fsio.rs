//! Files that are never left half-written: every result, cache entry, checkpoint and model the
//! trainer writes goes through [`write_atomic`].

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// Writing a file failed; names the file.
#[derive(Debug, thiserror::Error)]
#[error("writing {} ({bytes} bytes; is the disk full?): {source}", path.display())]
pub struct WriteError {
    /// The file that was to be written.
    pub path: PathBuf,
    /// Its size.
    pub bytes: usize,
    /// Why it failed.
    #[source]
    pub source: std::io::Error,
}

/// Writes `bytes` to `path` atomically: the parent folder is created if needed, the bytes go to
/// a temporary file (`.tmp-*`) in the same folder, are synced to disk, and the file is renamed
/// over `path`. On any error the temporary file is removed and `path` is untouched, so a crash
/// or a full disk never leaves a partial file under the final name. The result is an ordinary
/// `0644` file on Unix.
///
/// # Errors
/// [`WriteError`] naming `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let err = |source| WriteError {
        path: path.to_path_buf(),
        bytes: bytes.len(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(err)?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // NamedTempFile is created 0600; results are ordinary files.
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(err)?;
    }
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

/// The SHA-256 of `bytes` as lowercase hex, as `sha256sum` prints it (teacher files,
/// checkpoints).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// [`write_atomic`] of `value` as pretty-printed JSON.
///
/// # Errors
/// Serialisation or [`WriteError`].
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    Ok(write_atomic(path, &serde_json::to_vec_pretty(value)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_creates_folders_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b/c.txt");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        // no temporary file is left beside it
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("c.txt")]);
    }

    #[test]
    fn failure_names_the_file_and_leaves_it_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.json");
        write_atomic(&p, b"old").unwrap();
        // a file where the parent folder should be
        let bad = p.join("child.txt");
        let e = write_atomic(&bad, b"new").unwrap_err();
        assert!(e.to_string().contains("child.txt"), "{e}");
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
    }
}
