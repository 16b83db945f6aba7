//! Named training recipes (`--preset`): `study`, the paper's settings (and the default of
//! `reproduce`), and `best`, the recipe tuned on the cross-validation folds of the development clips
//! (docs/results/best-preset.md holds the measurements that chose it).

use std::fmt;
use std::str::FromStr;

use anyhow::bail;

use crate::augment::AugMode;
use crate::models::Widths;
use crate::run::config::{LrSchedule, RunConfig, Selection};
use crate::teacher::HeadKind;

/// A named recipe.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Preset {
    /// The study's settings: baseline, 10 epochs, batch 32, Adam 1e-3, no augmentation.
    #[default]
    Study,
    /// The recipe tuned on the development clips' folds (it still trails the classic baseline
    /// there; docs/results/best-preset.md).
    Best,
    /// `best`'s recipe taught by a pretrained teacher (`--teacher FILE` is required): its probe
    /// head, the loss mix [`DISTIL_ALPHA`] and temperature [`DISTIL_T`], tuned on the
    /// development folds (docs/results/distil.md).
    Distil,
    /// `distil`'s recipe for the tiny network: the baseline at [`TINY_WIDTHS`] (12.0 M MACs and
    /// 13.0 k parameters per 3 s against the baseline's 346 M and 101 k), for devices where the
    /// baseline does not run in real time.
    Tiny,
}

impl Preset {
    /// The preset's run configuration (data, split, seed and device at their defaults).
    pub fn config(self) -> RunConfig {
        let study = RunConfig::default();
        match self {
            Preset::Study => study,
            Preset::Best => RunConfig {
                epochs: BEST_EPOCHS,
                batch: BEST_BATCH,
                lr_schedule: LrSchedule::Cosine,
                select: Selection::Last,
                dropout: BEST_DROPOUT,
                aug: BEST_AUG.into(),
                aug_mode: AugMode::Online,
                ..study
            },
            Preset::Distil => Preset::Best.config(),
            Preset::Tiny => RunConfig {
                widths: Widths(TINY_WIDTHS),
                ..Preset::Distil.config()
            },
        }
    }

    /// The distillation settings of the preset: head, alpha, temperature (`distil` only).
    pub fn distil(self) -> Option<(HeadKind, f64, f64)> {
        match self {
            Preset::Distil | Preset::Tiny => Some((HeadKind::Probe, DISTIL_ALPHA, DISTIL_T)),
            Preset::Study | Preset::Best => None,
        }
    }
}

/// The `tiny` preset's channels per block: the baseline's last three blocks, 8 and 16 channels in
/// the first two (where the baseline spends 94 % of its MACs): 12.0 M MACs and 13.0 k parameters.
/// Chosen by the device's instruction count, not by accuracy: the int8 kernels pay a fixed cost
/// per output pixel (block 1 at 1 -> 8 channels costs 6.2 instructions per MAC on the M4), so
/// 16,24 (25.1 M MACs, under the 30 M budget) still took 43.6 M conv instructions per 3 s and,
/// with the 12.0 M of the front end, 0.118 of a 168 MHz core; 8,16 takes 30.5 M
/// (firmware-example/README.md, "The tiny network").
pub const TINY_WIDTHS: [usize; 5] = [8, 16, 32, 16, 8];

/// The `distil` preset's weight of the teacher term.
pub const DISTIL_ALPHA: f64 = 0.7;
/// The `distil` preset's temperature.
pub const DISTIL_T: f64 = 2.0;
/// Default weight of the teacher term when `--teacher` is given without a preset that sets it.
pub const DEFAULT_ALPHA: f64 = 0.5;
/// Default temperature likewise.
pub const DEFAULT_T: f64 = 2.0;
/// L2 penalty of the teacher probe (on standardised embeddings).
pub const PROBE_L2: f64 = 1.0;

/// The `best` preset's epochs. On the 20 training tracks of a development fold the study's 10
/// epochs of batch 32 are 70 Adam steps, and the network is still near chance on its own
/// training data (docs/results/best-preset.md); 25 epochs of batch 8 are 625 steps.
pub const BEST_EPOCHS: usize = 25;
/// The `best` preset's batch size.
pub const BEST_BATCH: usize = 8;
/// The `best` preset's dropout after each block. With the study's 0.5 the baseline fits neither
/// the development folds' 200 training segments (train accuracy 0.37-0.52 after 625 steps) nor the
/// synthetic main job's 300 (0.41); with 0.2 the main job's train accuracy reached 0.70 and its
/// test track accuracy rose from 0.40 to 0.55 (docs/results/best-preset.md).
pub const BEST_DROPOUT: f64 = 0.2;

/// The `best` preset's augmentation, drawn afresh every epoch (`--aug-mode online`): each
/// training track is rotated by up to 1.5 s either way before it is cut into 3 s segments, so
/// every epoch sees its segments at another offset (a random crop of the track). On the
/// synthetic main job it raised test track accuracy from 0.55 to 0.75, on the development folds
/// from 0.500 to 0.533 (docs/results/best-preset.md).
pub const BEST_AUG: &str = "timeshift:max=1.5";

impl FromStr for Preset {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Self> {
        Ok(match s {
            "study" => Preset::Study,
            "best" => Preset::Best,
            "distil" => Preset::Distil,
            "tiny" => Preset::Tiny,
            _ => bail!("unknown preset {s:?}: expected study, best, distil or tiny"),
        })
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Preset::Study => "study",
            Preset::Best => "best",
            Preset::Distil => "distil",
            Preset::Tiny => "tiny",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn study_is_the_default_run_config_and_best_differs_only_in_its_recipe() {
        assert_eq!(Preset::Study.config(), RunConfig::default());
        let best = Preset::Best.config();
        assert_eq!(
            RunConfig {
                epochs: 10,
                batch: 32,
                lr_schedule: LrSchedule::Constant,
                dropout: crate::models::study_dropout(),
                aug: "none".into(),
                aug_mode: AugMode::Offline,
                ..best.clone()
            },
            RunConfig::default()
        );
        assert_eq!(
            (best.epochs, best.batch, best.dropout),
            (BEST_EPOCHS, BEST_BATCH, BEST_DROPOUT)
        );
        assert_eq!(
            (best.aug.as_str(), best.aug_mode),
            (BEST_AUG, AugMode::Online)
        );
        best.validate().unwrap();
        assert_eq!("best".parse::<Preset>().unwrap(), Preset::Best);
        assert!("fast".parse::<Preset>().is_err());
    }

    #[test]
    fn tiny_is_distil_at_the_tiny_widths_within_the_device_budget() {
        let (tiny, distil) = (Preset::Tiny.config(), Preset::Distil.config());
        assert_eq!(tiny.widths, Widths(TINY_WIDTHS));
        assert_eq!(
            RunConfig {
                widths: Widths::default(),
                ..tiny.clone()
            },
            distil
        );
        assert_eq!(Preset::Tiny.distil(), Preset::Distil.distil());
        assert_eq!("tiny".parse::<Preset>().unwrap(), Preset::Tiny);
        assert_eq!(Preset::Tiny.to_string(), "tiny");
        // issue 26's budget for the tiny family: <= 30 M MACs per 3 s, <= 100 k parameters
        let w = Widths(TINY_WIDTHS);
        assert!(w.macs(1, 128, 130, 10) <= 30_000_000);
        assert!(w.params(1, 128, 130, 10) <= 100_000);
        // by hand: 9*1*8*128*130 + 9*8*16*64*65 + 9*16*32*32*32 + 9*32*16*16*16 + 9*16*8*8*8 + 8*4*4*10
        assert_eq!(
            w.macs(1, 128, 130, 10),
            1_198_080 + 4_792_320 + 4_718_592 + 1_179_648 + 73_728 + 1_280
        );
    }
}
