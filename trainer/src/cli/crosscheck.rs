//! `trainer crosscheck`: the firmware under QEMU against infer-core on the host.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::base::audio;
use crate::base::dataset::{Dataset, GTZAN_GENRES};
use crate::data::synth;
use crate::ship::crosscheck::testmodel::{self, TestModelSpec};
use crate::ship::crosscheck::{self, LabeledClip, Options, StreamOptions, to_i16};

const EXAMPLES: &str = "\
Examples:
  trainer crosscheck --model models/baseline-synth-int8.postcard --synthetic --clips 100
  trainer crosscheck --model models/baseline-synth-int8.postcard --data /data/gtzan-dev --out report.json
  trainer crosscheck --test-model small --synthetic --clips 10 --seconds 3
  trainer crosscheck --stream --model models/genre-int8.postcard --data /data/gtzan-dev --clips 10
  trainer crosscheck --stream --model models/genre-int8.postcard --synthetic --clips 2 --seconds 6";

/// Which deterministic test model to build (no training needed).
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum TestModel {
    /// The baseline's shape (128, 64, 32, 16, 8 channels).
    Baseline,
    /// Narrow channels (16, 16, 16, 16, 8): about 23x fewer MACs.
    Small,
}

/// Arguments of `trainer crosscheck`.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
#[command(group(clap::ArgGroup::new("net").required(true).args(["model", "test_model"])))]
#[command(group(clap::ArgGroup::new("clipsrc").required(true).args(["data", "synthetic"])))]
pub struct Args {
    /// The int8 model (.postcard) to embed in the firmware and run on the host.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Its float twin, run on the host only (for `float_track_accuracy`). Default: the
    /// model's path with `int8` replaced by `f32`, when that file exists.
    #[arg(long)]
    pub float_model: Option<PathBuf>,
    /// Instead of --model: a deterministic seeded model with calibrated quantisation (and its
    /// float twin), written into the work directory.
    #[arg(long, value_enum)]
    pub test_model: Option<TestModel>,
    /// A GTZAN-layout dataset (genre folders) to take clips from.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Synthetic clips from `synth::render_clip` (genres in turn, deterministic seeds).
    #[arg(long)]
    pub synthetic: bool,
    /// Number of clips (dataset: the first N tracks in order; default all of them).
    #[arg(long)]
    pub clips: Option<usize>,
    /// Length of each synthetic clip in seconds (whole 3 s segments are checked; default 3, with
    /// --stream 8).
    #[arg(long)]
    pub seconds: Option<f32>,
    /// Dataset clips: keep at most this many seconds from the start of each (the firmware
    /// takes at most 60 s).
    #[arg(long, default_value_t = 60.0)]
    pub max_seconds: f32,
    /// Seed of the synthetic clips.
    #[arg(long, default_value_t = 77)]
    pub seed: u64,
    /// Keep the clips and the device output here (default: a temporary directory).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// QEMU time limit in seconds (default: 60 + 30 per segment).
    #[arg(long)]
    pub timeout: Option<u64>,
    /// Write the report as JSON here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continuous mode: the firmware's `live` binary (1024-sample chunks at --clock-hz) against
    /// the host's `Classifier`, hop by hop; the schedule (duty cycle, latency, overruns) is
    /// replayed from the firmware's per-chunk costs.
    #[arg(long)]
    pub stream: bool,
    /// With --stream: the stated core clock in Hz.
    #[arg(long, default_value_t = 168_000_000, requires = "stream")]
    pub clock_hz: u64,
    /// Segment mode: build the firmware without its `winograd` feature (block 2 through the
    /// direct tile kernel, as the live firmware runs it).
    #[arg(long, conflicts_with = "stream")]
    pub direct: bool,
    /// With --stream: frames the queue between front end and CNN holds (1..=32).
    #[arg(long, default_value_t = 8, requires = "stream")]
    pub queue_frames: u32,
}

/// Entry point.
pub fn run(args: Args) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let work_dir = args
        .work_dir
        .clone()
        .unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&work_dir)
        .with_context(|| format!("creating {}", work_dir.display()))?;

    let (model, float_model) = match (args.test_model, &args.model) {
        (Some(which), _) => {
            let spec = match which {
                TestModel::Baseline => TestModelSpec::BASELINE,
                TestModel::Small => TestModelSpec::SMALL,
            };
            let m = testmodel::build(spec)?;
            let q = work_dir.join("test-int8.postcard");
            let f = work_dir.join("test-f32.postcard");
            crate::base::fsio::write_atomic(&q, &m.int8.encode()?)?;
            crate::base::fsio::write_atomic(&f, &m.float.encode()?)?;
            (q, Some(f))
        }
        (None, Some(m)) => {
            let float = args.float_model.clone().or_else(|| {
                let name = m.file_name()?.to_str()?;
                let twin = m.with_file_name(name.replace("int8", "f32"));
                (name.contains("int8") && twin.is_file()).then_some(twin)
            });
            (m.clone(), float)
        }
        (None, None) => bail!("give --model or --test-model"),
    };
    let (classes, rate): (Vec<String>, u32) = {
        let bytes =
            std::fs::read(&model).with_context(|| format!("reading model {}", model.display()))?;
        let m = infer_core::model::Model::from_bytes(&bytes)
            .with_context(|| format!("{}: not a valid model", model.display()))?;
        let classes = m.classes().iter().map(|c| c.to_string()).collect();
        (classes, m.frontend().sample_rate)
    };
    // The segment firmware reads 3 s of 22050 Hz audio; live mode runs at the model's own rate.
    if !args.stream && rate != crosscheck::SAMPLE_RATE as u32 {
        bail!(
            "{}: a {rate} Hz model; the segment firmware runs 22050 Hz models (use --stream)",
            model.display()
        );
    }
    let class_of = |genre: &str| classes.iter().position(|c| c == genre);

    let clips = if args.synthetic {
        let n = args.clips.unwrap_or(10);
        let seconds = args.seconds.unwrap_or(if args.stream { 8.0 } else { 3.0 });
        (0..n)
            .map(|i| {
                let g = i % GTZAN_GENRES.len();
                let x = synth::render_clip(g, seconds, args.seed.wrapping_add(i as u64));
                let x = if rate == synth::SAMPLE_RATE {
                    x
                } else {
                    audio::resample(&x, synth::SAMPLE_RATE, rate).map_err(anyhow::Error::msg)?
                };
                Ok(LabeledClip {
                    name: format!("synthetic.{}.{i:04}", GTZAN_GENRES[g]),
                    genre: class_of(GTZAN_GENRES[g]),
                    samples: to_i16(&x),
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?
    } else {
        let root = args.data.as_ref().context("--data or --synthetic")?;
        let ds = Dataset::discover(root)
            .with_context(|| format!("reading the dataset at {}", root.display()))?;
        let n = args.clips.unwrap_or(ds.tracks.len()).min(ds.tracks.len());
        let mut clips = Vec::with_capacity(n);
        for t in ds.tracks.iter().take(n) {
            let x = audio::load_mono(&t.path, rate)
                .with_context(|| format!("loading {}", t.path.display()))?;
            let mut samples = to_i16(&x);
            let keep = (args.max_seconds.max(0.0) * rate as f32) as usize;
            let limit = if args.stream {
                crosscheck::stream::MAX_LIVE_SAMPLES
            } else {
                crosscheck::MAX_CLIP_SAMPLES
            };
            samples.truncate(keep.min(limit));
            clips.push(LabeledClip {
                name: t.name.clone(),
                genre: class_of(&ds.genres[t.genre]),
                samples,
            });
        }
        clips
    };
    if clips.is_empty() {
        bail!("no clips to cross-check");
    }

    if args.stream {
        return run_stream(&args, &clips, model, work_dir);
    }
    let opts = Options {
        model: Some(model),
        float_model,
        work_dir: Some(work_dir),
        timeout: args.timeout.map(Duration::from_secs),
        winograd: !args.direct,
        ..Options::default()
    };
    let report = crosscheck::run(&clips, &opts)?;
    eprint!("{}", report.summary());
    let json = serde_json::to_string_pretty(&report)?;
    match &args.out {
        Some(p) => crate::base::fsio::write_atomic(p, json.as_bytes())?,
        None => println!("{json}"),
    }
    if report.bit_identical_pct.is_some_and(|p| p < 100.0) {
        bail!(
            "device and host int8 outputs differ on {:.2} % of segments",
            100.0 - report.bit_identical_pct.unwrap_or(0.0)
        );
    }
    Ok(())
}

/// `--stream`: the live firmware against the host's `Classifier`.
fn run_stream(
    args: &Args,
    clips: &[LabeledClip],
    model: PathBuf,
    work_dir: PathBuf,
) -> anyhow::Result<()> {
    let opts = StreamOptions {
        work_dir: Some(work_dir),
        clock_hz: args.clock_hz,
        queue_frames: args.queue_frames,
        timeout: args.timeout.map(Duration::from_secs),
        ..StreamOptions::new(model)
    };
    let report = crosscheck::run_stream(clips, &opts)?;
    eprint!("{}", report.summary());
    let json = serde_json::to_string_pretty(&report)?;
    match &args.out {
        Some(p) => crate::base::fsio::write_atomic(p, json.as_bytes())?,
        None => println!("{json}"),
    }
    if !report.identical() {
        bail!(
            "device and host differ on {} of {} hops and {} of {} track decisions",
            report.hops - report.bit_identical_hops,
            report.hops,
            report.clips - report.same_track_clips,
            report.clips
        );
    }
    Ok(())
}
