//! `--shard i/n` of `reproduce` and `cv`: which runs of a grid one process trains.

use std::fmt;
use std::str::FromStr;

use anyhow::bail;

/// `--shard i/n`: run every n-th run of the grid, starting at run i (0-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This shard, `0..count`.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl Shard {
    /// Whether the run at `index` of the grid order belongs to this shard.
    pub fn contains(self, index: usize) -> bool {
        index % self.count == self.index
    }
}

impl FromStr for Shard {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Self> {
        let parse = || -> Option<(usize, usize)> {
            let (i, n) = s.split_once('/')?;
            Some((i.trim().parse().ok()?, n.trim().parse().ok()?))
        };
        match parse() {
            Some((index, count)) if count >= 1 && index < count => Ok(Self { index, count }),
            _ => bail!(
                "--shard {s:?}: expected I/N with 0 <= I < N (e.g. 0/4; SLURM: $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT)"
            ),
        }
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}
