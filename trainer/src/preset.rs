//! Named training recipes (`--preset`): `study`, the paper's settings (and the default of
//! `reproduce`), and `best`, the recipe tuned on validation folds of the development clips
//! (docs/results/best-preset.md holds the measurements that chose it).

use std::fmt;
use std::str::FromStr;

use anyhow::bail;

use crate::config::{LrSchedule, RunConfig, Selection};

/// A named recipe.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Preset {
    /// The study's settings: baseline, 10 epochs, batch 32, Adam 1e-3, no augmentation.
    #[default]
    Study,
    /// The recipe that beat the classic baseline on the development clips' folds.
    Best,
}

impl Preset {
    /// The preset's run configuration (data, split, seed and device at their defaults).
    pub fn config(self) -> RunConfig {
        let study = RunConfig::default();
        match self {
            Preset::Study => study,
            Preset::Best => RunConfig {
                aug: BEST_AUG.into(),
                epochs: BEST_EPOCHS,
                lr_schedule: LrSchedule::Cosine,
                select: Selection::Last,
                ..study
            },
        }
    }
}

/// The `best` preset's augmentation stack.
pub const BEST_AUG: &str = "noise:sigma=0.001,pitch:range=4";
/// The `best` preset's epochs.
pub const BEST_EPOCHS: usize = 20;

impl FromStr for Preset {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Self> {
        Ok(match s {
            "study" => Preset::Study,
            "best" => Preset::Best,
            _ => bail!("unknown preset {s:?}: expected study or best"),
        })
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Preset::Study => "study",
            Preset::Best => "best",
        })
    }
}
