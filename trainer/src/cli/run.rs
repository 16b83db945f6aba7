//! `trainer run`: train one model.

use std::path::PathBuf;

/// The track confusion matrix `trainer run` draws into the run directory.
pub const CONFUSION_PNG: &str = "confusion_tracks.png";

use crate::evaluate::plot::Confusion;
use crate::run::config::{DataSource, RunConfig};
use crate::run::loader::data_root;
use crate::study::classic_fold::ClassicData;
use crate::study::train;

const EXAMPLES: &str = "\
Examples:
  trainer run --model baseline --synthetic --out runs/smoke
  trainer run --model baseline --posenc coord --data ../shared/data/gtzan --epochs 10 --seed 0 --out runs/coord-s0
  trainer run --model resnet18 --data /data/gtzan --device wgpu --batch 32 --lr 1e-3 --out runs/resnet
  trainer run --model baseline --aug mixup --synthetic --out runs/mixup
  trainer run --model baseline --aug noise:sigma=0.001,pitch:range=4 --aug-copies 1 --synthetic --out runs/stack
  trainer run --model baseline --synthetic --out runs/smoke --resume   # continue an interrupted run
  trainer run --preset best --data ../shared/data/gtzan-dev --out runs/best
  trainer run --model baseline --split random:0.2 --select best-valid --synthetic --out runs/sel";

/// Arguments of `trainer run`.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    pub train: super::TrainArgs,
    #[command(flatten)]
    pub data: super::DataArgs,
    /// Split: random (70/30), random:VALID (plus a validation fraction of the training part),
    /// fault-filtered or kfold:K:FOLD.
    #[arg(long, default_value = "random")]
    pub split: String,
    /// Run directory.
    #[arg(long)]
    pub out: PathBuf,
    /// Continue an interrupted run in `--out` from its last complete checkpoint.
    #[arg(long)]
    pub resume: bool,
}

impl Args {
    /// The run configuration these arguments describe.
    pub fn config(&self) -> anyhow::Result<RunConfig> {
        self.train.config(self.data.source()?, self.split.clone())
    }
}

/// Entry point: train, then summarise the result against chance and the classic baseline on
/// the same tracks, draw the track confusion matrix, and suggest what to run next.
pub fn run(args: Args) -> anyhow::Result<()> {
    let cfg = args.config()?;
    let m = train::run(&cfg, &args.out, args.resume)?;
    let out = &args.out;
    if cfg.split == "all" {
        let o = out.display();
        println!(
            "\n{}: {} epochs in {:.1} min on every track (--split all: no test split, no test figures; \
             estimate the recipe's accuracy with trainer cv)\nnext: trainer export --run {o} --int8 --calibrate 200 --out {o}/model-int8.postcard",
            m.model,
            m.epochs,
            m.seconds / 60.0
        );
        return Ok(());
    }
    let png = out.join(CONFUSION_PNG);
    Confusion {
        title: format!("{}: test tracks ({} epochs)", m.model, m.epochs),
        genres: &m.genres,
        counts: &m.confusion_tracks,
    }
    .png(&png)?;
    // The classic baseline (MFCC mean/std + RBF SVM) on exactly this run's training and test
    // tracks; the toy source has no audio.
    // A failure here does not undo the trained run: it is reported and skipped.
    let classic = match data_root(&cfg.data)? {
        Some(root) => match ClassicData::open(&root).and_then(|mut d| d.evaluate_fold(out)) {
            Ok(c) => Some(c),
            Err(e) => {
                eprintln!("classic baseline skipped: {e:#}");
                None
            }
        },
        None => None,
    };
    let tracks: usize = m.confusion_tracks.iter().flatten().sum();
    let right: usize = (0..m.genres.len()).map(|g| m.confusion_tracks[g][g]).sum();
    let chance = 1.0 / m.genres.len().max(1) as f64;
    println!(
        "\n{}: track accuracy {:.3} ({right} of {tracks} test tracks), segment accuracy {:.3}; \
         chance {chance:.3} ({:.1}x chance)",
        m.model,
        m.track_accuracy,
        m.segment_accuracy,
        m.track_accuracy / chance
    );
    if let Some(c) = &classic {
        let verdict = if m.track_accuracy > c.track_accuracy {
            "the CNN is ahead"
        } else if m.track_accuracy < c.track_accuracy {
            "the classic baseline is ahead"
        } else {
            "a tie"
        };
        // Say what data the comparison is on: the default synthetic set is not music.
        let on = match &cfg.data {
            DataSource::Synthetic => {
                " (on the project's synthetic audio; on the 30 real GTZAN development clips the \
                 classic baseline leads, docs/results/best-preset.md)"
            }
            _ => "",
        };
        println!(
            "classic baseline (MFCC + SVM) on the same tracks: track accuracy {:.3}: {verdict}{on}",
            c.track_accuracy
        );
    }
    println!(
        "{} epochs in {:.1} min; metrics {}, track confusion matrix {}",
        m.epochs,
        m.seconds / 60.0,
        out.join("metrics.json").display(),
        png.display()
    );
    let o = out.display();
    println!(
        "next: trainer export --run {o} --int8 --calibrate 200 --out {o}/model-int8.postcard\n      \
         trainer cv --k 5 --preset best --data /path/to/gtzan --out runs/cv   (cross-validated, beside the classic baseline)"
    );
    Ok(())
}
