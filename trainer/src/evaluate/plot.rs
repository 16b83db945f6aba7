//! Figures of `trainer report`, drawn with plotters as PNG and SVG: confusion matrices (genre
//! names on both axes, counts in the cells, colour by the row-normalised fraction, as in the
//! study's figures) and learning curves (train/validation loss and accuracy per epoch).
//!
//! Text uses the `sans-serif` family through fontconfig (DejaVu Sans from fonts-dejavu-core,
//! installed by `scripts/setup`). Every file is written atomically.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::base::fsio::write_atomic;
use crate::run::history::EpochRow;

pub(crate) fn draw_err<E: std::fmt::Display>(what: &Path) -> impl FnOnce(E) -> anyhow::Error + '_ {
    move |e| anyhow::anyhow!("drawing {}: {e}", what.display())
}

/// Render `draw` to `path` as PNG (through a temporary `.png` beside it, then renamed).
pub(crate) fn write_png(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(DrawingArea<BitMapBackend<'_>, Shift>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let tmp: PathBuf = path.with_extension("partial.png");
    {
        let root = BitMapBackend::new(&tmp, size).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err(path))?;
        draw(root.clone())?;
        root.present().map_err(draw_err(path))?;
    }
    fs::rename(&tmp, path).with_context(|| format!("renaming into {}", path.display()))
}

/// Render `draw` to `path` as SVG.
fn write_svg(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(DrawingArea<SVGBackend<'_>, Shift>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, size).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err(path))?;
        draw(root.clone())?;
        root.present().map_err(draw_err(path))?;
    }
    Ok(write_atomic(path, s.as_bytes())?)
}

/// A confusion matrix to draw.
#[derive(Clone, Debug)]
pub struct Confusion<'a> {
    /// Title line.
    pub title: String,
    /// Class names, index = class id.
    pub genres: &'a [String],
    /// Counts, rows = true class, columns = predicted class.
    pub counts: &'a [Vec<usize>],
}

const CELL: u32 = 76;
const LEFT: u32 = 150;
const TOP: u32 = 80;
const BOTTOM: u32 = 84;
const RIGHT: u32 = 140;

impl Confusion<'_> {
    fn n(&self) -> usize {
        self.genres.len()
    }

    /// Pixel size of the figure.
    pub fn size(&self) -> (u32, u32) {
        let side = CELL * self.n() as u32;
        (LEFT + side + RIGHT, TOP + side + BOTTOM)
    }

    /// Write the figure as PNG.
    pub fn png(&self, path: &Path) -> anyhow::Result<()> {
        write_png(path, self.size(), |root| self.draw(&root, path))
    }

    /// Write the figure as SVG.
    pub fn svg(&self, path: &Path) -> anyhow::Result<()> {
        write_svg(path, self.size(), |root| self.draw(&root, path))
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        path: &Path,
    ) -> anyhow::Result<()> {
        let err = || draw_err(path);
        let n = self.n();
        anyhow::ensure!(
            n > 0 && self.counts.len() == n && self.counts.iter().all(|r| r.len() == n),
            "{}: confusion matrix is not {n}x{n} like the genre list",
            path.display()
        );
        let side = (CELL as usize * n) as i32;
        let (x0, y0, cell) = (LEFT as i32, TOP as i32, CELL as i32);
        let total: usize = self.counts.iter().flatten().sum();
        let correct: usize = (0..n).map(|i| self.counts[i][i]).sum();

        let title = ("sans-serif", 22).into_font().style(FontStyle::Bold);
        let center_top = Pos::new(HPos::Center, VPos::Top);
        root.draw_text(
            &self.title,
            &title.color(&BLACK).pos(center_top),
            (x0 + side / 2, 14),
        )
        .map_err(err())?;
        let sub = format!(
            "{total} examples, {correct} correct ({:.1}%); colour: fraction of the row",
            100.0 * correct as f64 / total.max(1) as f64
        );
        root.draw_text(
            &sub,
            &("sans-serif", 15)
                .into_font()
                .color(&BLACK.mix(0.75))
                .pos(center_top),
            (x0 + side / 2, 46),
        )
        .map_err(err())?;

        let count_font = ("sans-serif", 20).into_font();
        let frac_font = ("sans-serif", 13).into_font();
        for (r, row) in self.counts.iter().enumerate() {
            let row_total: usize = row.iter().sum();
            for (c, &k) in row.iter().enumerate() {
                let f = if row_total == 0 {
                    0.0
                } else {
                    k as f64 / row_total as f64
                };
                let (cx, cy) = (x0 + c as i32 * cell, y0 + r as i32 * cell);
                root.draw(&Rectangle::new(
                    [(cx, cy), (cx + cell, cy + cell)],
                    blues(f).filled(),
                ))
                .map_err(err())?;
                let ink = if f > 0.55 { WHITE } else { BLACK };
                let centre = Pos::new(HPos::Center, VPos::Center);
                if k == 0 {
                    // zeros stay readable but recede, so the errors stand out
                    root.draw_text(
                        "0",
                        &count_font.color(&BLACK.mix(0.3)).pos(centre),
                        (cx + cell / 2, cy + cell / 2),
                    )
                    .map_err(err())?;
                    continue;
                }
                root.draw_text(
                    &k.to_string(),
                    &count_font.color(&ink).pos(centre),
                    (cx + cell / 2, cy + cell / 2 - 8),
                )
                .map_err(err())?;
                {
                    root.draw_text(
                        &format!("{:.0}%", 100.0 * f),
                        &frac_font.color(&ink.mix(0.85)).pos(centre),
                        (cx + cell / 2, cy + cell / 2 + 14),
                    )
                    .map_err(err())?;
                }
            }
        }
        // grid lines and frame
        let line = BLACK.mix(0.25);
        for i in 0..=n as i32 {
            let p = i * cell;
            root.draw(&PathElement::new(
                vec![(x0, y0 + p), (x0 + side, y0 + p)],
                line.stroke_width(1),
            ))
            .map_err(err())?;
            root.draw(&PathElement::new(
                vec![(x0 + p, y0), (x0 + p, y0 + side)],
                line.stroke_width(1),
            ))
            .map_err(err())?;
        }

        // genre names: true genre (rows) on the left, predicted (columns) below
        let label = ("sans-serif", 16).into_font();
        for (i, g) in self.genres.iter().enumerate() {
            let mid = i as i32 * cell + cell / 2;
            root.draw_text(
                g,
                &label.color(&BLACK).pos(Pos::new(HPos::Right, VPos::Center)),
                (x0 - 10, y0 + mid),
            )
            .map_err(err())?;
            root.draw_text(
                g,
                &label.color(&BLACK).pos(Pos::new(HPos::Center, VPos::Top)),
                (x0 + mid, y0 + side + 8),
            )
            .map_err(err())?;
        }
        let axis = ("sans-serif", 18).into_font().style(FontStyle::Bold);
        root.draw_text(
            "predicted genre",
            &axis.color(&BLACK).pos(Pos::new(HPos::Center, VPos::Top)),
            (x0 + side / 2, y0 + side + 40),
        )
        .map_err(err())?;
        root.draw_text(
            "true genre",
            &axis
                .transform(FontTransform::Rotate270)
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Top)),
            (16, y0 + side / 2),
        )
        .map_err(err())?;

        // colour bar
        let (bx, bw) = (x0 + side + 36, 22);
        let steps = 100;
        for s in 0..steps {
            let f = 1.0 - s as f64 / (steps - 1) as f64;
            let ya = y0 + s * side / steps;
            let yb = y0 + (s + 1) * side / steps;
            root.draw(&Rectangle::new(
                [(bx, ya), (bx + bw, yb)],
                blues(f).filled(),
            ))
            .map_err(err())?;
        }
        root.draw(&Rectangle::new(
            [(bx, y0), (bx + bw, y0 + side)],
            BLACK.mix(0.5).stroke_width(1),
        ))
        .map_err(err())?;
        let tick = ("sans-serif", 14).into_font();
        for t in [0.0, 0.25, 0.5, 0.75, 1.0] {
            let y = y0 + ((1.0 - t) * side as f64) as i32;
            root.draw(&PathElement::new(
                vec![(bx + bw, y), (bx + bw + 5, y)],
                BLACK,
            ))
            .map_err(err())?;
            root.draw_text(
                &format!("{t:.2}"),
                &tick.color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center)),
                (bx + bw + 8, y),
            )
            .map_err(err())?;
        }
        Ok(())
    }
}

/// A white-to-dark-blue colour ramp (like matplotlib's `Blues`) at `f` in [0, 1].
pub fn blues(f: f64) -> RGBColor {
    const STOPS: [(f64, [f64; 3]); 4] = [
        (0.0, [247.0, 251.0, 255.0]),
        (0.35, [158.0, 202.0, 225.0]),
        (0.7, [49.0, 130.0, 189.0]),
        (1.0, [8.0, 48.0, 107.0]),
    ];
    let f = if f.is_finite() {
        f.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let k = STOPS.windows(2).position(|w| f <= w[1].0).unwrap_or(2);
    let ((a, ca), (b, cb)) = (STOPS[k], STOPS[k + 1]);
    let t = (f - a) / (b - a);
    let ch = |i: usize| (ca[i] + t * (cb[i] - ca[i])).round() as u8;
    RGBColor(ch(0), ch(1), ch(2))
}

/// Learning curves of one run: loss and accuracy per epoch, training and validation (the test split has no curve).
#[derive(Clone, Debug)]
pub struct Curves<'a> {
    /// Title line.
    pub title: String,
    /// Rows of `epochs.csv`.
    pub rows: &'a [EpochRow],
}

const CURVES_SIZE: (u32, u32) = (1200, 520);
const TRAIN_COLOUR: RGBColor = RGBColor(31, 119, 180);
const VALID_COLOUR: RGBColor = RGBColor(214, 39, 40);

impl Curves<'_> {
    /// Write the figure as PNG.
    pub fn png(&self, path: &Path) -> anyhow::Result<()> {
        write_png(path, CURVES_SIZE, |root| self.draw(&root, path))
    }

    /// Write the figure as SVG.
    pub fn svg(&self, path: &Path) -> anyhow::Result<()> {
        write_svg(path, CURVES_SIZE, |root| self.draw(&root, path))
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        path: &Path,
    ) -> anyhow::Result<()> {
        let err = || draw_err(path);
        anyhow::ensure!(
            !self.rows.is_empty(),
            "{}: no epochs to plot",
            path.display()
        );
        let root = root
            .titled(
                &self.title,
                ("sans-serif", 22).into_font().style(FontStyle::Bold),
            )
            .map_err(err())?;
        let panels = root.split_evenly((1, 2));
        let last = self.rows.iter().map(|r| r.epoch).max().unwrap_or(1) as f64;
        let x_range = 0.5..last + 0.5;
        type Get = fn(&EpochRow) -> f64;
        let specs: [(&str, Get, Get); 2] = [
            (
                "loss (cross-entropy)",
                |r| r.train_loss,
                |r| r.valid_loss.unwrap_or(f64::NAN),
            ),
            (
                "accuracy (segments)",
                |r| r.train_accuracy,
                |r| r.valid_accuracy.unwrap_or(f64::NAN),
            ),
        ];
        // The test split has no curve: it is read once, after training.
        let has_valid = self.rows.iter().any(|r| r.valid_loss.is_some());
        for (panel, (name, train, valid)) in panels.iter().zip(specs) {
            let values = self.rows.iter().flat_map(|r| [train(r), valid(r)]);
            let (lo, hi) = if name.starts_with("accuracy") {
                (0.0, 1.0)
            } else {
                let hi = values.filter(|v| v.is_finite()).fold(0f64, f64::max);
                // headroom for the legend in the upper right
                (0.0, if hi > 0.0 { hi * 1.3 } else { 1.0 })
            };
            let mut chart = ChartBuilder::on(panel)
                .margin(18)
                .x_label_area_size(48)
                .y_label_area_size(64)
                .caption(name, ("sans-serif", 18))
                .build_cartesian_2d(x_range.clone(), lo..hi)
                .map_err(err())?;
            let n_epochs = self.rows.len();
            chart
                .configure_mesh()
                .x_desc("epoch")
                .x_labels(n_epochs.min(12) + 1)
                .x_label_formatter(&|x| {
                    if (x - x.round()).abs() < 1e-6 && *x >= 1.0 {
                        format!("{}", x.round() as i64)
                    } else {
                        String::new()
                    }
                })
                .y_desc(if name.starts_with("loss") {
                    "loss"
                } else {
                    "accuracy"
                })
                .label_style(("sans-serif", 15))
                .axis_desc_style(("sans-serif", 16))
                .light_line_style(BLACK.mix(0.05))
                .bold_line_style(BLACK.mix(0.15))
                .draw()
                .map_err(err())?;
            let curves = [
                ("train", TRAIN_COLOUR, train),
                ("validation", VALID_COLOUR, valid),
            ];
            for (label, colour, get) in curves.into_iter().take(if has_valid { 2 } else { 1 }) {
                let pts: Vec<(f64, f64)> = self
                    .rows
                    .iter()
                    .map(|r| (r.epoch as f64, get(r)))
                    .filter(|p| p.1.is_finite())
                    .collect();
                chart
                    .draw_series(LineSeries::new(pts.clone(), colour.stroke_width(3)))
                    .map_err(err())?
                    .label(label)
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(3))
                    });
                chart
                    .draw_series(pts.iter().map(|&p| Circle::new(p, 4, colour.filled())))
                    .map_err(err())?;
            }
            chart
                .configure_series_labels()
                .position(legend_position(name, self.rows))
                .label_font(("sans-serif", 16))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .draw()
                .map_err(err())?;
        }
        Ok(())
    }
}

/// Where the legend covers the least: loss curves fall, so upper right (the axis has headroom
/// there); accuracy curves rise, so lower right unless the last accuracies are low.
fn legend_position(panel: &str, rows: &[EpochRow]) -> SeriesLabelPosition {
    let last = rows.last().map_or(0.0, |r| {
        r.train_accuracy.min(r.valid_accuracy.unwrap_or(1.0))
    });
    if panel.starts_with("loss") || last < 0.4 {
        SeriesLabelPosition::UpperRight
    } else {
        SeriesLabelPosition::LowerRight
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_ramp_ends_and_is_monotone_in_darkness() {
        assert_eq!(blues(0.0), RGBColor(247, 251, 255));
        assert_eq!(blues(1.0), RGBColor(8, 48, 107));
        assert_eq!(blues(f64::NAN), blues(0.0));
        let lum = |c: RGBColor| 0.299 * c.0 as f64 + 0.587 * c.1 as f64 + 0.114 * c.2 as f64;
        let mut prev = f64::INFINITY;
        for i in 0..=100 {
            let l = lum(blues(i as f64 / 100.0));
            assert!(l <= prev + 1e-9, "ramp gets lighter at {i}%");
            prev = l;
        }
    }
}
