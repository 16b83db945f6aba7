//! Genre heads: what turns a teacher's outputs into logits over the dataset's genres.
//!
//! - **Zero-shot**: a map from each genre to one of the teacher's classes; the genre's logit is
//!   that class's logit. The default map names the AudioSet classes of the ten GTZAN genres.
//! - **Probe**: multinomial logistic regression (L2) on the teacher's embedding, standardised
//!   with the training mean and deviation, fitted on the training tracks' segments only (never
//!   on validation or test), with linfa-logistic.

use serde::{Deserialize, Serialize};

use super::{TeacherInfo, TeacherOutput};

/// Which head (`--teacher-head`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum HeadKind {
    /// A map from genres to teacher classes.
    ZeroShot,
    /// Logistic regression on the embedding, fitted on the training tracks.
    #[default]
    Probe,
}

/// The AudioSet class of each GTZAN genre folder name (lower case).
pub fn default_zero_shot_map(genre: &str) -> Option<&'static str> {
    Some(match genre.to_ascii_lowercase().as_str() {
        "blues" => "Blues",
        "classical" => "Classical music",
        "country" => "Country",
        "disco" => "Disco",
        "hiphop" | "hip-hop" | "hip_hop" => "Hip hop music",
        "jazz" => "Jazz",
        "metal" => "Heavy metal",
        "pop" => "Pop music",
        "reggae" => "Reggae",
        "rock" => "Rock music",
        _ => return None,
    })
}

/// Parses `--teacher-map genre=Class,genre=Class` (class names as the teacher spells them).
///
/// # Errors
/// An entry without `=`.
pub fn parse_map(s: &str) -> Result<Vec<(String, String)>, String> {
    s.split(',')
        .filter(|e| !e.trim().is_empty())
        .map(|e| {
            let (g, c) = e
                .split_once('=')
                .ok_or_else(|| format!("--teacher-map entry `{e}` is not genre=Class"))?;
            Ok((g.trim().to_string(), c.trim().to_string()))
        })
        .collect()
}

/// A fitted genre head.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum GenreHead {
    /// Teacher class index of each genre.
    ZeroShot {
        /// `classes[g]`: the teacher class of genre `g`.
        classes: Vec<usize>,
    },
    /// Logistic regression on the standardised embedding.
    Probe {
        /// Mean of each embedding dimension over the training segments.
        mean: Vec<f32>,
        /// Standard deviation of each dimension (floored at 1e-6).
        std: Vec<f32>,
        /// `weights[g][d]`.
        weights: Vec<Vec<f32>>,
        /// `bias[g]`.
        bias: Vec<f32>,
    },
}

impl GenreHead {
    /// The zero-shot head for `genres`: each genre's class from `map` (or the default GTZAN map
    /// when `map` does not name it), looked up among the teacher's classes.
    ///
    /// # Errors
    /// A genre with no class, or a class the teacher does not have (named, with the teacher's
    /// close matches).
    pub fn zero_shot(
        info: &TeacherInfo,
        genres: &[String],
        map: &[(String, String)],
    ) -> Result<GenreHead, String> {
        for (g, _) in map {
            if !genres.iter().any(|x| x == g) {
                return Err(format!(
                    "--teacher-map names genre `{g}`, which is not one of the dataset's genres {genres:?}"
                ));
            }
        }
        let mut classes = Vec::with_capacity(genres.len());
        for g in genres {
            let name = map
                .iter()
                .find(|(k, _)| k == g)
                .map(|(_, c)| c.as_str())
                .or_else(|| default_zero_shot_map(g))
                .ok_or_else(|| {
                    format!("no teacher class for genre `{g}`: pass --teacher-map {g}=<class>")
                })?;
            let idx = info
                .class_names
                .iter()
                .position(|c| c == name)
                .ok_or_else(|| {
                    let close: Vec<&String> = info
                        .class_names
                        .iter()
                        .filter(|c| {
                            c.to_lowercase()
                                .contains(&name.to_lowercase().chars().take(4).collect::<String>())
                        })
                        .take(5)
                        .collect();
                    format!(
                        "class `{name}` (for genre `{g}`) is not one of the teacher's {} classes (close: {close:?})",
                        info.class_names.len()
                    )
                })?;
            classes.push(idx);
        }
        Ok(GenreHead::ZeroShot { classes })
    }

    /// Fits the probe on training segments: `embeddings[i]` with genre `labels[i]`, over
    /// `n_genres` genres; `l2` is the penalty (linfa's `alpha`).
    ///
    /// # Errors
    /// Fewer than two genres among the labels, embeddings of different sizes, or a solver
    /// failure.
    pub fn fit_probe(
        embeddings: &[Vec<f32>],
        labels: &[usize],
        n_genres: usize,
        l2: f64,
    ) -> Result<GenreHead, String> {
        use linfa::prelude::*;
        use linfa_logistic::MultiLogisticRegression;
        use ndarray_linfa::{Array1, Array2};

        let n = embeddings.len();
        let d = embeddings.first().map_or(0, Vec::len);
        if n == 0 || d == 0 || embeddings.iter().any(|e| e.len() != d) {
            return Err(format!(
                "probe: {n} training embeddings of inconsistent or zero size"
            ));
        }
        if labels.len() != n || labels.iter().any(|&l| l >= n_genres) {
            return Err("probe: labels do not match the embeddings".into());
        }
        let mut mean = vec![0f64; d];
        for e in embeddings {
            for (m, v) in mean.iter_mut().zip(e) {
                *m += f64::from(*v) / n as f64;
            }
        }
        let mut var = vec![0f64; d];
        for e in embeddings {
            for ((s, v), m) in var.iter_mut().zip(e).zip(&mean) {
                *s += (f64::from(*v) - m).powi(2) / n as f64;
            }
        }
        let std: Vec<f64> = var.iter().map(|v| v.sqrt().max(1e-6)).collect();
        let x = Array2::from_shape_fn((n, d), |(i, j)| {
            (f64::from(embeddings[i][j]) - mean[j]) / std[j]
        });
        let y = Array1::from_iter(labels.iter().copied());
        let ds = Dataset::new(x, y);
        let fit = MultiLogisticRegression::default()
            .alpha(l2)
            .max_iterations(200)
            .fit(&ds)
            .map_err(|e| format!("probe: logistic regression failed: {e}"))?;
        let params = fit.params(); // [d, present classes]
        let icpt = fit.intercept();
        let mut weights = vec![vec![0f32; d]; n_genres];
        // A genre absent from the training labels can never be predicted.
        let mut bias = vec![-1e4f32; n_genres];
        for (col, &g) in fit.classes().iter().enumerate() {
            for (j, w) in weights[g].iter_mut().enumerate() {
                *w = params[[j, col]] as f32;
            }
            bias[g] = icpt[col] as f32;
        }
        Ok(GenreHead::Probe {
            mean: mean.iter().map(|&m| m as f32).collect(),
            std: std.iter().map(|&s| s as f32).collect(),
            weights,
            bias,
        })
    }

    /// Number of genres.
    pub fn n_genres(&self) -> usize {
        match self {
            GenreHead::ZeroShot { classes } => classes.len(),
            GenreHead::Probe { bias, .. } => bias.len(),
        }
    }

    /// Checks the head against the teacher's output sizes.
    ///
    /// # Errors
    /// A class index or an embedding size the teacher does not have.
    pub fn check(&self, info: &TeacherInfo) -> Result<(), String> {
        match self {
            GenreHead::ZeroShot { classes } => {
                match classes.iter().find(|&&c| c >= info.class_names.len()) {
                    Some(c) => Err(format!(
                        "zero-shot class index {c} is beyond the teacher's {} classes",
                        info.class_names.len()
                    )),
                    None => Ok(()),
                }
            }
            GenreHead::Probe { mean, .. } if mean.len() != info.embedding_dim => Err(format!(
                "the probe was fitted on a {}-d embedding; the teacher gives {}",
                mean.len(),
                info.embedding_dim
            )),
            GenreHead::Probe { .. } => Ok(()),
        }
    }

    /// Genre logits of one teacher output.
    pub fn genre_logits(&self, out: &TeacherOutput) -> Vec<f32> {
        match self {
            GenreHead::ZeroShot { classes } => classes
                .iter()
                .map(|&c| out.logits.get(c).copied().unwrap_or(f32::NEG_INFINITY))
                .collect(),
            GenreHead::Probe {
                mean,
                std,
                weights,
                bias,
            } => weights
                .iter()
                .zip(bias)
                .map(|(w, b)| {
                    b + w
                        .iter()
                        .zip(&out.embedding)
                        .zip(mean.iter().zip(std))
                        .map(|((w, e), (m, s))| w * (e - m) / s)
                        .sum::<f32>()
                })
                .collect(),
        }
    }
}

/// `softmax(logits / t)`.
pub fn softmax_t(logits: &[f32], t: f32) -> Vec<f32> {
    let t = if t > 0.0 { t } else { 1.0 };
    let scaled: Vec<f32> = logits.iter().map(|&l| l / t).collect();
    crate::base::metrics::softmax(&scaled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(names: &[&str], d: usize) -> TeacherInfo {
        TeacherInfo {
            name: "t".into(),
            sample_rate: 16000,
            window_samples: 16000,
            class_names: names.iter().map(|s| s.to_string()).collect(),
            embedding_dim: d,
            source_sha256: "none".into(),
            file_sha256: "x".into(),
        }
    }

    #[test]
    fn zero_shot_maps_gtzan_names_and_refuses_unknown_classes() {
        let i = info(&["Speech", "Rock music", "Blues"], 4);
        let genres = vec!["blues".to_string(), "rock".to_string()];
        let h = GenreHead::zero_shot(&i, &genres, &[]).unwrap();
        assert_eq!(
            h,
            GenreHead::ZeroShot {
                classes: vec![2, 1]
            }
        );
        let out = TeacherOutput {
            logits: vec![0.5, 2.0, -1.0],
            embedding: vec![0.0; 4],
        };
        assert_eq!(h.genre_logits(&out), vec![-1.0, 2.0]);
        let e = GenreHead::zero_shot(&i, &["jazz".to_string()], &[]).unwrap_err();
        assert!(e.contains("`Jazz`"), "{e}");
        let e = GenreHead::zero_shot(&i, &genres, &[("blues".into(), "Bluez".into())]).unwrap_err();
        assert!(e.contains("Bluez"), "{e}");
        let e = GenreHead::zero_shot(&i, &["noise".to_string()], &[]).unwrap_err();
        assert!(e.contains("--teacher-map noise="), "{e}");
    }

    #[test]
    fn probe_separates_separable_embeddings() {
        // Two genres, embedding dimension 0 tells them apart; dimension 1 is noise.
        let mut emb = Vec::new();
        let mut lab = Vec::new();
        for i in 0..40 {
            let g = i % 2;
            emb.push(vec![
                if g == 0 { -1.0 } else { 1.0 } + 0.1 * (i as f32).sin(),
                (i as f32 * 0.37).cos(),
            ]);
            lab.push(g);
        }
        let h = GenreHead::fit_probe(&emb, &lab, 3, 0.01).unwrap();
        let mut correct = 0;
        for (e, &l) in emb.iter().zip(&lab) {
            let z = h.genre_logits(&TeacherOutput {
                logits: vec![],
                embedding: e.clone(),
            });
            let arg = (0..3).max_by(|&a, &b| z[a].total_cmp(&z[b])).unwrap();
            correct += usize::from(arg == l);
        }
        assert_eq!(correct, 40);
        assert!(h.check(&info(&["a"], 2)).is_ok());
        assert!(h.check(&info(&["a"], 3)).is_err());
    }

    #[test]
    fn softmax_with_temperature() {
        let p = softmax_t(&[0.0, (2f32).ln()], 1.0);
        assert!((p[0] - 1.0 / 3.0).abs() < 1e-6 && (p[1] - 2.0 / 3.0).abs() < 1e-6);
        let q = softmax_t(&[0.0, 2.0 * (2f32).ln()], 2.0);
        assert!((q[1] - 2.0 / 3.0).abs() < 1e-6);
    }
}
