//! Dataset discovery on a folder tree built from the input: genre folders and files with odd
//! names (control characters, invalid UTF-8, leading dots, 255-byte names, odd extensions) in
//! any of the accepted layouts, holding arbitrary bytes or a valid header followed by arbitrary
//! bytes. Discovery must return a dataset or a typed error, never panic; what it returns must be
//! consistent.
#![no_main]

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use tinygenre_corpus::dataset::{Dataset, track_key_of};

#[derive(Arbitrary, Debug)]
struct Entry {
    genre: Vec<u8>,
    stem: Vec<u8>,
    ext: u8,
    header: u8,
    content: Vec<u8>,
}

#[derive(Arbitrary, Debug)]
struct Tree {
    layout: u8,
    entries: Vec<Entry>,
    list_entry: String,
}

const LAYOUTS: [&str; 6] = [
    "genres",
    "genres_original",
    "Data/genres_original",
    "Data/genres",
    "",
    "Data",
];
const EXTS: [&str; 8] = ["wav", "au", "snd", "WAV", "Au", "txt", "", "wav.au"];

/// A file-name component from fuzz bytes: no `/` or NUL (the only bytes a Unix name cannot
/// hold), at most 255 bytes, never empty, `.` or `..`.
fn name(b: &[u8]) -> PathBuf {
    let mut v: Vec<u8> = b.iter().copied().filter(|&c| c != b'/' && c != 0).collect();
    v.truncate(255);
    if v.is_empty() || v == b"." || v == b".." {
        v = b"x".to_vec();
    }
    PathBuf::from(OsStr::from_bytes(&v))
}

/// A 16-bit mono WAV header at 22 050 Hz promising `n` data bytes.
fn wav_header(n: u32) -> Vec<u8> {
    let mut b = b"RIFF".to_vec();
    b.extend_from_slice(&n.wrapping_add(36).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00");
    b.extend_from_slice(&22_050u32.to_le_bytes());
    b.extend_from_slice(&44_100u32.to_le_bytes());
    b.extend_from_slice(b"\x02\x00\x10\x00data");
    b.extend_from_slice(&n.to_le_bytes());
    b
}

/// A 16-bit mono `.au` header at 22 050 Hz promising `n` data bytes.
fn au_header(n: u32) -> Vec<u8> {
    let mut b = b".snd".to_vec();
    for w in [24, n, 3, 22_050, 1] {
        b.extend_from_slice(&w.to_be_bytes());
    }
    b
}

fn build(root: &Path, t: &Tree) {
    let base = root.join(LAYOUTS[usize::from(t.layout) % LAYOUTS.len()]);
    for e in t.entries.iter().take(64) {
        let dir = base.join(name(&e.genre));
        if std::fs::create_dir_all(&dir).is_err() {
            continue;
        }
        let mut file = name(&e.stem).into_os_string();
        let ext = EXTS[usize::from(e.ext) % EXTS.len()];
        if !ext.is_empty() {
            file.push(".");
            file.push(ext);
        }
        let n = e.content.len() as u32;
        let mut bytes = match e.header % 4 {
            1 => wav_header(n),
            2 => au_header(n),
            _ => Vec::new(),
        };
        bytes.extend_from_slice(&e.content);
        // a name one byte too long for the system is skipped, like any file that cannot be made
        let _ = std::fs::write(dir.join(file), bytes);
    }
}

fuzz_target!(|t: Tree| {
    let _ = track_key_of(&t.list_entry);
    let tmp = tempfile::Builder::new()
        .prefix("discover-")
        .tempdir_in(if Path::new("/dev/shm").is_dir() {
            "/dev/shm"
        } else {
            "/tmp"
        })
        .expect("temporary folder");
    build(tmp.path(), &t);
    let Ok(ds) = Dataset::discover(tmp.path()) else {
        return;
    };
    assert!(!ds.tracks.is_empty());
    assert_eq!(ds.counts().iter().sum::<usize>(), ds.tracks.len());
    for (i, track) in ds.tracks.iter().enumerate() {
        assert_eq!(track.id, i);
        assert!(track.genre < ds.genres.len());
        let key = ds.key(i).expect("key");
        let rel = ds.relative_path(i).expect("relative path");
        let _ = track_key_of(&rel);
        let _ = ds.find(&key);
    }
    let _ = ds.fingerprint();
    let _ = ds.find(&t.list_entry);
});
