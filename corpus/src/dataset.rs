//! Dataset discovery: GTZAN in any of its common layouts.
//!
//! Accepted layouts under a root (the first that holds genre folders wins):
//! `genres/<genre>/<genre>.000NN.au` (the original release), `genres_original/<genre>/*.wav`
//! and `Data/genres_original/<genre>/*.wav` (the WAV release), `genres/<genre>/*.wav`,
//! `Data/genres/<genre>/*`, or `<genre>/*` directly under the root.
//!
//! The genre is the folder name. When all ten GTZAN genres are present they are
//! numbered in the canonical order ([`GTZAN_GENRES`]); any other set of folders is
//! sorted by name. Every file's header is checked once (cheaply, see
//! [`crate::audio::probe`]); unreadable files are skipped with one warning line and
//! listed in [`Dataset::skipped`].

use std::path::{Path, PathBuf};

use crate::audio;

/// The ten GTZAN genres in their canonical order (label 0..9).
pub const GTZAN_GENRES: [&str; 10] = [
    "blues",
    "classical",
    "country",
    "disco",
    "hiphop",
    "jazz",
    "metal",
    "pop",
    "reggae",
    "rock",
];

/// Sub-folders of the root searched for genre folders, in order.
const LAYOUTS: [&str; 5] = [
    "genres",
    "genres_original",
    "Data/genres_original",
    "Data/genres",
    "",
];

/// Errors of dataset discovery; each names the path concerned.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The root does not exist or is not a directory.
    #[error("dataset root {0} does not exist or is not a directory")]
    RootMissing(PathBuf),
    /// No folder under the root holds genre folders with audio files.
    #[error(
        "no genre folders with .wav/.au files under {0} (looked in genres/, genres_original/, Data/genres_original/, Data/genres/ and the root itself)"
    )]
    NoGenreFolders(PathBuf),
    /// Genre folders exist but not one file in them could be read.
    #[error("no readable audio file under {path} ({skipped} skipped)")]
    NoReadableFile {
        /// The genres folder.
        path: PathBuf,
        /// How many files were found and skipped.
        skipped: usize,
    },
    /// A directory could not be listed.
    #[error("{path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// One audio file of the dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    /// Index of this track in [`Dataset::tracks`].
    pub id: usize,
    /// Full path of the file.
    pub path: PathBuf,
    /// Genre label, an index into [`Dataset::genres`].
    pub genre: usize,
    /// File stem, e.g. `"blues.00000"`.
    pub name: String,
    /// Sample rate announced by the header.
    pub sample_rate: u32,
    /// Frames announced by the header (samples per channel).
    pub frames: u64,
}

impl Track {
    /// `"<genre>/<stem>"`, the key that identifies a track across layouts
    /// (`.au` and `.wav` copies of one GTZAN track share it).
    pub fn key(&self, genres: &[String]) -> String {
        let genre = genres.get(self.genre).map(String::as_str).unwrap_or("?");
        format!("{genre}/{}", self.name)
    }
}

/// A file that was found but could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// Why it was skipped.
    pub reason: String,
}

/// A discovered dataset.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The root given to [`Dataset::discover`].
    pub root: PathBuf,
    /// The folder holding the genre folders.
    pub genres_dir: PathBuf,
    /// Genre names; a track's `genre` indexes this.
    pub genres: Vec<String>,
    /// Readable tracks, ordered by (genre, name); `tracks[i].id == i`.
    pub tracks: Vec<Track>,
    /// Files that were found but skipped, with the reason.
    pub skipped: Vec<Skipped>,
}

fn list_dir(dir: &Path) -> Result<Vec<PathBuf>, DatasetError> {
    let rd = std::fs::read_dir(dir).map_err(|source| DatasetError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|source| DatasetError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        out.push(entry.path());
    }
    out.sort();
    Ok(out)
}

/// Genre folders (sub-directories holding at least one .wav/.au file) of `dir`,
/// with their audio files.
fn genre_folders(dir: &Path) -> Result<Vec<(String, Vec<PathBuf>)>, DatasetError> {
    let mut out = Vec::new();
    for sub in list_dir(dir)? {
        if !sub.is_dir() {
            continue;
        }
        let Some(name) = sub.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        let files: Vec<PathBuf> = list_dir(&sub)?
            .into_iter()
            .filter(|p| p.is_file() && audio::AudioKind::from_path(p).is_some())
            .collect();
        if !files.is_empty() {
            out.push((name.to_string(), files));
        }
    }
    Ok(out)
}

/// Orders genre names: the canonical GTZAN order when all ten are present,
/// sorted by name otherwise.
fn order_genres(mut names: Vec<String>) -> Vec<String> {
    let all_gtzan = names.len() == GTZAN_GENRES.len()
        && GTZAN_GENRES.iter().all(|g| names.iter().any(|n| n == g));
    if all_gtzan {
        GTZAN_GENRES.iter().map(|g| g.to_string()).collect()
    } else {
        names.sort();
        names
    }
}

impl Dataset {
    /// Finds the genre folders under `root` (see the module docs for the layouts),
    /// checks every audio file's header, and numbers the readable tracks.
    ///
    /// Unreadable files (and files outside [`audio::Limits::process_default`]) are skipped with
    /// one warning line each on stderr; a dataset with no readable file is an error.
    pub fn discover(root: &Path) -> Result<Dataset, DatasetError> {
        Dataset::discover_with(root, &audio::Limits::process_default())
    }

    /// [`Dataset::discover`] with every header checked against `limits`.
    pub fn discover_with(root: &Path, limits: &audio::Limits) -> Result<Dataset, DatasetError> {
        if !root.is_dir() {
            return Err(DatasetError::RootMissing(root.to_path_buf()));
        }
        let mut found = None;
        for layout in LAYOUTS {
            let dir = if layout.is_empty() {
                root.to_path_buf()
            } else {
                root.join(layout)
            };
            if !dir.is_dir() {
                continue;
            }
            let folders = genre_folders(&dir)?;
            if !folders.is_empty() {
                found = Some((dir, folders));
                break;
            }
        }
        let (genres_dir, folders) =
            found.ok_or_else(|| DatasetError::NoGenreFolders(root.to_path_buf()))?;
        let genres = order_genres(folders.iter().map(|(n, _)| n.clone()).collect());

        let mut tracks = Vec::new();
        let mut skipped = Vec::new();
        for (genre, name) in genres.iter().enumerate() {
            let Some((_, files)) = folders.iter().find(|(n, _)| n == name) else {
                continue;
            };
            for path in files {
                match audio::probe_with(path, limits) {
                    Ok(info) => {
                        let stem = path
                            .file_stem()
                            .and_then(|s| s.to_str())
                            .unwrap_or_default()
                            .to_string();
                        tracks.push(Track {
                            id: 0,
                            path: path.clone(),
                            genre,
                            name: stem,
                            sample_rate: info.sample_rate,
                            frames: info.frames,
                        });
                    }
                    Err(e) => {
                        eprintln!("warning: skipping {}: {e}", path.display());
                        skipped.push(Skipped {
                            path: path.clone(),
                            reason: e.to_string(),
                        });
                    }
                }
            }
        }
        if tracks.is_empty() {
            return Err(DatasetError::NoReadableFile {
                path: genres_dir,
                skipped: skipped.len(),
            });
        }
        tracks.sort_by(|a, b| (a.genre, &a.name).cmp(&(b.genre, &b.name)));
        for (i, t) in tracks.iter_mut().enumerate() {
            t.id = i;
        }
        Ok(Dataset {
            root: root.to_path_buf(),
            genres_dir,
            genres,
            tracks,
            skipped,
        })
    }

    /// `"<genre>/<stem>"` of track `id` (see [`Track::key`]).
    pub fn key(&self, id: usize) -> Option<String> {
        self.tracks.get(id).map(|t| t.key(&self.genres))
    }

    /// The track's path relative to [`Dataset::genres_dir`], e.g. `blues/blues.00000.wav`.
    pub fn relative_path(&self, id: usize) -> Option<String> {
        let t = self.tracks.get(id)?;
        let rel = t.path.strip_prefix(&self.genres_dir).unwrap_or(&t.path);
        Some(rel.to_string_lossy().replace('\\', "/"))
    }

    /// The id of the track whose key (`genre/stem`, extension ignored) matches
    /// `entry`, e.g. `"jazz/jazz.00054.wav"` or `"jazz/jazz.00054"`.
    pub fn find(&self, entry: &str) -> Option<usize> {
        let key = track_key_of(entry)?;
        self.tracks.iter().position(|t| t.key(&self.genres) == key)
    }

    /// Number of tracks per genre.
    pub fn counts(&self) -> Vec<usize> {
        let mut c = vec![0; self.genres.len()];
        for t in &self.tracks {
            if let Some(slot) = c.get_mut(t.genre) {
                *slot += 1;
            }
        }
        c
    }

    /// A fingerprint of the dataset's file list and headers (not contents):
    /// blake3 of every track's key, rate and length, in order.
    pub fn fingerprint(&self) -> String {
        let mut h = blake3::Hasher::new();
        for t in &self.tracks {
            h.update(t.key(&self.genres).as_bytes());
            h.update(&t.sample_rate.to_le_bytes());
            h.update(&t.frames.to_le_bytes());
        }
        h.finalize().to_hex()[..16].to_string()
    }
}

/// `"genre/stem"` of a list entry such as `"genre/genre.000NN.wav"` (the last two
/// path components, extension dropped).
pub fn track_key_of(entry: &str) -> Option<String> {
    let entry = entry.trim().replace('\\', "/");
    let mut parts = entry.rsplit('/').filter(|s| !s.is_empty());
    let file = parts.next()?;
    let genre = parts.next()?;
    let stem = match file.rsplit_once('.') {
        Some((stem, ext)) if ["wav", "au", "snd"].contains(&ext.to_ascii_lowercase().as_str()) => {
            stem
        }
        _ => file,
    };
    Some(format!("{genre}/{stem}"))
}
