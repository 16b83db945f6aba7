//! One optimisation step: the batch augmentation seam, the loss (hard labels, optionally mixed
//! with a teacher's tempered posterior) and Adam.

use anyhow::{Context, ensure};
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::loss::cross_entropy_with_logits;
use rand::RngExt;
use rand::rngs::Xoshiro256PlusPlus;
use rand::seq::SliceRandom;

use crate::augment::AugSpec;
use crate::models::Model;
use crate::run::config::{Distil, Normalisation, RunConfig};
use crate::run::examples::{Examples, batch_input};

/// Augmentation seam (docs/architecture.md): waveform transforms run in the data module before
/// the front end, spectrogram stages on each example after it, batch stages (mixup) here on the
/// normalised batch and its one-hot targets. With `--aug none` this leaves the batch unchanged.
pub fn apply_batch_stages(
    spec: &AugSpec,
    inputs: &mut [f32],
    targets: &mut [f32],
    batch: usize,
    n_mels: usize,
    rng: &mut Xoshiro256PlusPlus,
) {
    // SpecAugment fills with the segment mean (or zero); the mean commutes with the affine
    // normalisation, so masking the normalised example equals masking before normalising.
    if spec.has_spectrogram_stages() && batch > 0 {
        let per = inputs.len() / batch;
        let frames = per / n_mels.max(1);
        for x in inputs.chunks_exact_mut(per) {
            spec.apply_spectrogram(x, n_mels, frames, rng);
        }
    }
    spec.apply_batch(inputs, targets, batch, rng);
}

/// One optimisation step on a batch: forward, soft-target cross-entropy, backward, Adam.
///
/// `x`: `[b, 1, n_mels, frames]` on an autodiff device; `y`: `[b, classes]` target
/// probabilities (one-hot, or mixed by mixup). Returns the updated model, the batch loss and the
/// arg-max class of each example.
pub fn train_step(
    model: Model,
    optim: &mut ModuleOptimizer,
    x: Tensor<4>,
    y: Tensor<2>,
    lr: f64,
) -> (Model, f64, Vec<i64>) {
    train_step_distil(model, optim, x, y, None, lr)
}

/// The teacher's part of a distillation step: its tempered posterior of each example and the
/// loss mix.
#[derive(Debug)]
pub struct SoftTargets {
    /// `[b, classes]`: `softmax(teacher / T)`, mixed by mixup like the labels.
    pub probs: Tensor<2>,
    /// Weight of the teacher term.
    pub alpha: f64,
    /// Temperature.
    pub temperature: f64,
}

/// [`train_step`] with an optional teacher: the loss is
/// `(1 - alpha) * CE(logits, y) + alpha * T^2 * CE(logits / T, probs)` (Hinton et al. 2015; the
/// second term is the KL divergence to the teacher up to the teacher's entropy, a constant).
pub fn train_step_distil(
    model: Model,
    optim: &mut ModuleOptimizer,
    x: Tensor<4>,
    y: Tensor<2>,
    soft: Option<SoftTargets>,
    lr: f64,
) -> (Model, f64, Vec<i64>) {
    let logits = model.forward(x); // [b, classes]
    let pred = logits
        .clone()
        .argmax(1)
        .into_data()
        .convert::<i64>()
        .try_into_vec::<i64>()
        .unwrap_or_default();
    let loss = distil_loss(logits, y, soft); // [1]
    let loss_v = loss.clone().into_scalar::<f32>() as f64;
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    (optim.step(lr, model, grads), loss_v, pred)
}

/// The optimiser of every run: Adam with PyTorch's defaults (betas 0.9/0.999, eps 1e-8).
pub fn optimizer() -> ModuleOptimizer {
    AdamConfig::new().with_epsilon(1e-8).init()
}

/// The loss of a batch: `CE(logits, y)` without a teacher; with one,
/// `(1 - alpha) * CE(logits, y) + alpha * T^2 * CE(logits / T, probs)`. CE is the mean over the
/// batch of `-sum_c target_c * log_softmax(logits)_c`.
pub fn distil_loss(logits: Tensor<2>, y: Tensor<2>, soft: Option<SoftTargets>) -> Tensor<1> {
    match soft {
        None => cross_entropy_with_logits(logits, y),
        Some(s) => {
            let hard = cross_entropy_with_logits(logits.clone(), y).mul_scalar(1.0 - s.alpha);
            let t = s.temperature;
            let kd = cross_entropy_with_logits(logits.div_scalar(t), s.probs)
                .mul_scalar(s.alpha * t * t);
            hard + kd
        }
    }
}

/// What every step of an epoch shares.
pub(crate) struct Step<'a> {
    pub(crate) cfg: &'a RunConfig,
    pub(crate) spec: &'a AugSpec,
    pub(crate) norm: Normalisation,
    /// Frames of the model input.
    pub(crate) frames: usize,
    pub(crate) n_classes: usize,
    /// This epoch's learning rate.
    pub(crate) lr: f64,
    pub(crate) device: &'a Device,
    /// With a teacher: its tempered posterior of each training example, and the loss mix.
    pub(crate) soft: Option<(&'a [Vec<f32>], &'a Distil)>,
}

/// Mean training loss and accuracy of an epoch.
pub(crate) struct EpochFit {
    pub(crate) loss: f64,
    pub(crate) accuracy: f64,
}

/// One epoch over `train` in an order shuffled by `rng`: random crops, batch augmentation stages,
/// one Adam step per batch. `on_step(loss, seen)` reports each step.
pub(crate) fn train_epoch(
    s: &Step<'_>,
    mut model: Model,
    optim: &mut ModuleOptimizer,
    train: &Examples,
    rng: &mut Xoshiro256PlusPlus,
    on_step: impl Fn(f64, usize),
) -> anyhow::Result<(Model, EpochFit)> {
    let (frames, n_classes, m) = (s.frames, s.n_classes, train.n_mels);
    let mut order: Vec<usize> = (0..train.len()).collect();
    order.shuffle(rng);
    let (mut loss_sum, mut correct, mut seen, mut labelled) = (0f64, 0usize, 0usize, 0usize);
    for idx in order.chunks(s.cfg.batch) {
        if idx.len() < 2 {
            continue; // BatchNorm cannot normalise a batch of one
        }
        let offsets: Vec<usize> = idx
            .iter()
            .map(|&i| {
                let spare = train.frames(i).saturating_sub(frames);
                if spare > 0 {
                    rng.random_range(0..=spare)
                } else {
                    0
                }
            })
            .collect();
        let b = idx.len();
        let mut x = batch_input(train, idx, &offsets, frames, s.norm)?;
        // Targets `[b, classes]`, and with a teacher its posterior beside them (`[b, 2 classes]`),
        // so that mixup mixes both with the same weight and partner.
        let width = if s.soft.is_some() {
            2 * n_classes
        } else {
            n_classes
        };
        let mut y = vec![0f32; b * width];
        for (k, &i) in idx.iter().enumerate() {
            // an unlabelled example (`--unlabelled`) has no hard target: a zero row
            if train.labels[i] < n_classes {
                y[k * width + train.labels[i]] = 1.0;
            }
            if let Some((soft, _)) = s.soft {
                let p = soft
                    .get(i)
                    .with_context(|| format!("no teacher target for example {i}"))?;
                ensure!(
                    p.len() == n_classes,
                    "teacher target of {} classes",
                    p.len()
                );
                y[k * width + n_classes..(k + 1) * width].copy_from_slice(p);
            }
        }
        apply_batch_stages(s.spec, &mut x, &mut y, b, m, rng);
        let xt = Tensor::<4>::from_data(TensorData::new(x, [b, 1, m, frames]), s.device);
        let (next, loss_v, pred) = match s.soft {
            None => {
                let yt = Tensor::<2>::from_data(TensorData::new(y, [b, n_classes]), s.device);
                train_step(model, optim, xt, yt, s.lr)
            }
            Some((_, d)) => {
                let (hard, teach): (Vec<f32>, Vec<f32>) = {
                    let (mut h, mut t) = (Vec::with_capacity(b * n_classes), Vec::new());
                    for row in y.chunks_exact(width) {
                        h.extend_from_slice(&row[..n_classes]);
                        t.extend_from_slice(&row[n_classes..]);
                    }
                    (h, t)
                };
                let yt = Tensor::<2>::from_data(TensorData::new(hard, [b, n_classes]), s.device);
                let pt = Tensor::<2>::from_data(TensorData::new(teach, [b, n_classes]), s.device);
                let soft = SoftTargets {
                    probs: pt,
                    alpha: d.alpha,
                    temperature: d.temperature,
                };
                train_step_distil(model, optim, xt, yt, Some(soft), s.lr)
            }
        };
        model = next;
        ensure!(loss_v.is_finite(), "training diverged: loss {loss_v}");
        loss_sum += loss_v * b as f64;
        seen += b;
        correct += idx
            .iter()
            .zip(&pred)
            .filter(|(i, p)| train.labels[**i] as i64 == **p)
            .count();
        labelled += idx.iter().filter(|&&i| train.labels[i] < n_classes).count();
        on_step(loss_v, seen);
    }
    Ok((
        model,
        EpochFit {
            loss: loss_sum / seen.max(1) as f64,
            accuracy: correct as f64 / labelled.max(1) as f64,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The loss against a hand calculation in f64.
    #[test]
    fn distillation_loss_matches_a_hand_calculation() {
        let dev = Device::flex();
        let logits = [[1.0f64, -0.5, 2.0], [0.2, 0.1, -1.0]];
        let y = [[0.0f64, 0.0, 1.0], [0.7, 0.3, 0.0]]; // the second row mixed, as by mixup
        let p = [[0.2f64, 0.1, 0.7], [0.5, 0.4, 0.1]];
        let (alpha, t) = (0.7f64, 2.0f64);
        let log_softmax = |z: &[f64], t: f64| -> Vec<f64> {
            let m = z.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b / t));
            let s: f64 = z.iter().map(|&v| (v / t - m).exp()).sum();
            z.iter().map(|&v| v / t - m - s.ln()).collect()
        };
        let ce = |t: f64, targets: &[[f64; 3]; 2]| -> f64 {
            logits
                .iter()
                .zip(targets)
                .map(|(z, q)| {
                    -log_softmax(z, t)
                        .iter()
                        .zip(q)
                        .map(|(a, b)| a * b)
                        .sum::<f64>()
                })
                .sum::<f64>()
                / 2.0
        };
        let want = (1.0 - alpha) * ce(1.0, &y) + alpha * t * t * ce(t, &p);
        let tensor = |a: &[[f64; 3]; 2]| {
            let v: Vec<f32> = a.iter().flatten().map(|&x| x as f32).collect();
            Tensor::<2>::from_data(TensorData::new(v, [2, 3]), &dev)
        };
        let got = distil_loss(
            tensor(&logits),
            tensor(&y),
            Some(SoftTargets {
                probs: tensor(&p),
                alpha,
                temperature: t,
            }),
        )
        .into_scalar::<f32>() as f64;
        assert!((got - want).abs() < 1e-5, "loss {got}, by hand {want}");
        let plain = distil_loss(tensor(&logits), tensor(&y), None).into_scalar::<f32>() as f64;
        assert!((plain - ce(1.0, &y)).abs() < 1e-5, "{plain}");
    }
}
