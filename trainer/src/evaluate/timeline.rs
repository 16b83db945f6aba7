//! Continuous genre classification of a song on the host (`trainer classify --stream`): the
//! device's streaming [`Classifier`] over the song in microphone-sized chunks, a label every hop,
//! and the timeline figure (`--plot`): the smoothed posterior of every genre over time with the
//! decision strip underneath.

use std::path::Path;

use anyhow::Context;
use infer_core::classifier::{Classifier, ClassifierConfig, Decision, Mode};
use infer_core::model::{Model, Precision};
use plotters::prelude::*;

use crate::evaluate::plot::{draw_err, write_png};

/// Samples per chunk pushed into the classifier: a microphone DMA half-buffer.
pub const CHUNK: usize = 1024;

/// One reported hop.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelineHop {
    /// Seconds from the song's start to the end of the hop's window (when its label is known).
    pub end_seconds: f64,
    /// The smoothed posterior.
    pub posterior: Vec<f32>,
    /// The decided genre, `None` when undecided.
    pub decision: Option<usize>,
    /// This hop's own top class (unsmoothed).
    pub top1: usize,
}

/// A song's genre timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Timeline {
    /// The model's classes.
    pub genres: Vec<String>,
    /// Every hop, in order.
    pub hops: Vec<TimelineHop>,
    /// Seconds between hops.
    pub hop_seconds: f64,
}

impl Timeline {
    /// The genre most hops decided (ties: the first), `None` if none decided.
    pub fn majority(&self) -> Option<usize> {
        let mut votes = vec![0usize; self.genres.len()];
        for h in &self.hops {
            if let Some(g) = h.decision.filter(|&g| g < votes.len()) {
                votes[g] += 1;
            }
        }
        let best = (0..votes.len()).max_by(|&a, &b| votes[a].cmp(&votes[b]).then(b.cmp(&a)))?;
        (votes[best] > 0).then_some(best)
    }
}

fn run<A: infer_core::executor::Act>(
    model: &Model<'_>,
    cfg: ClassifierConfig,
    samples: &[f32],
    path: &Path,
) -> anyhow::Result<Vec<TimelineHop>> {
    let sr = f64::from(model.frontend().sample_rate);
    let seg = f64::from(model.input().segment_samples);
    let mut c: Box<Classifier<'_, A>> = Box::new(
        Classifier::new(model, cfg).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
    );
    let mut hops = Vec::new();
    for chunk in samples.chunks(CHUNK) {
        c.push_f32(chunk, |h| {
            hops.push(TimelineHop {
                end_seconds: (h.start_sample as f64 + seg) / sr,
                posterior: h.posterior.to_vec(),
                decision: match h.decision {
                    Decision::Genre(g) => Some(g),
                    Decision::Undecided => None,
                },
                top1: h.top1(),
            });
        })
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    }
    Ok(hops)
}

/// Classifies `audio` continuously with the model file `model_path` (f32 or int8): every
/// `hop_frames` log-mel frames a label, smoothed over `smoothing` hops, undecided below
/// `threshold`.
///
/// # Errors
/// An invalid model, a hop or smoothing the model cannot stream with (infer-core's typed
/// errors, named with the file), the audio's read or decode errors.
pub fn stream_file(
    model_path: &Path,
    audio: &Path,
    hop_frames: u32,
    smoothing: usize,
    threshold: f32,
) -> anyhow::Result<Timeline> {
    let bytes =
        std::fs::read(model_path).with_context(|| format!("reading {}", model_path.display()))?;
    let model =
        Model::from_bytes(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", model_path.display()))?;
    // the decoder's errors name the file
    let samples = crate::base::audio::load_mono(audio, model.frontend().sample_rate)?;
    let cfg = ClassifierConfig {
        mode: Mode::Continuous { hop_frames },
        smoothing,
        threshold,
    };
    let hops = match model.precision() {
        Precision::Int8 => run::<i8>(&model, cfg, &samples, model_path)?,
        Precision::F32 => run::<f32>(&model, cfg, &samples, model_path)?,
    };
    Ok(Timeline {
        genres: model.classes().iter().map(|c| c.to_string()).collect(),
        hops,
        hop_seconds: f64::from(hop_frames) * f64::from(model.frontend().hop_length)
            / f64::from(model.frontend().sample_rate),
    })
}

/// Ten distinguishable colours (matplotlib's tab10).
const TAB10: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Draws the timeline as a PNG: the smoothed posterior of every genre over time (top) and the
/// decision of each hop as a coloured strip (bottom; grey when undecided).
///
/// # Errors
/// No hops to draw; drawing or writing the file.
pub fn plot(t: &Timeline, title: &str, path: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(
        !t.hops.is_empty(),
        "{}: no hops to plot (the song is shorter than one window)",
        path.display()
    );
    let err = || draw_err(path);
    let colour = |g: usize| TAB10[g % TAB10.len()];
    let x_end = t.hops.last().map_or(1.0, |h| h.end_seconds) + t.hop_seconds;
    write_png(path, (1200, 640), |root| {
        let root = root
            .titled(title, ("sans-serif", 22).into_font().style(FontStyle::Bold))
            .map_err(err())?;
        let (top, bottom) = root.split_vertically(500);
        let mut chart = ChartBuilder::on(&top)
            .margin(14)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..x_end, 0f64..1.0)
            .map_err(err())?;
        chart
            .configure_mesh()
            .x_desc("time (s), at the end of each window")
            .y_desc("smoothed posterior")
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 16))
            .light_line_style(BLACK.mix(0.05))
            .draw()
            .map_err(err())?;
        for (g, name) in t.genres.iter().enumerate() {
            let pts: Vec<(f64, f64)> = t
                .hops
                .iter()
                .map(|h| {
                    (
                        h.end_seconds,
                        f64::from(h.posterior.get(g).copied().unwrap_or(0.0)),
                    )
                })
                .collect();
            let c = colour(g);
            chart
                .draw_series(LineSeries::new(pts, c.stroke_width(2)))
                .map_err(err())?
                .label(name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(3))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font(("sans-serif", 14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .draw()
            .map_err(err())?;
        let mut strip = ChartBuilder::on(&bottom)
            .margin(14)
            .x_label_area_size(24)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..x_end, 0f64..1.0)
            .map_err(err())?;
        strip
            .configure_mesh()
            .disable_y_mesh()
            .disable_y_axis()
            .x_desc("decision")
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(err())?;
        strip
            .draw_series(t.hops.iter().map(|h| {
                let c = h.decision.map_or(RGBColor(200, 200, 200), colour);
                Rectangle::new(
                    [(h.end_seconds - t.hop_seconds, 0.0), (h.end_seconds, 1.0)],
                    c.filled(),
                )
            }))
            .map_err(err())?;
        Ok(())
    })
}
