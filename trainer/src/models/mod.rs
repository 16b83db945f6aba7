//! The study's networks as Burn modules: [`baseline::Baseline`] (with optional positional
//! encodings, [`posenc`]), [`arbitrary::Arbitrary`] and [`resnet::ResNet18`], behind one
//! [`Model`] enum built from a serde [`ModelConfig`] (saved next to every checkpoint).
//! [`plain`] exposes the baseline's weights as plain arrays for export; [`backend`] picks the
//! Burn device they run on (`--device`).
//!
//! Imports: nothing of the trainer's.

pub mod arbitrary;
pub mod backend;
pub mod baseline;
pub mod plain;
pub mod posenc;
pub mod resnet;

use std::fmt;
use std::str::FromStr;

use burn::module::{ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

pub use baseline::Widths;
pub use posenc::PosEnc;

/// Which network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Cheng et al.'s baseline CNN on 3 s segments.
    #[default]
    Baseline,
    /// Won et al.'s tutorial CNN on a 29 s crop of its own front end.
    Arbitrary,
    /// ResNet-18 from scratch on 3 s segments.
    Resnet18,
}

impl ModelKind {
    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Baseline => "baseline",
            Self::Arbitrary => "arbitrary",
            Self::Resnet18 => "resnet18",
        }
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ModelKind {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Self> {
        match s {
            "baseline" => Ok(Self::Baseline),
            "arbitrary" => Ok(Self::Arbitrary),
            "resnet18" => Ok(Self::Resnet18),
            _ => anyhow::bail!("unknown model {s:?}: expected baseline, arbitrary or resnet18"),
        }
    }
}

/// Everything needed to rebuild a network's structure (weights come from a checkpoint).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Which network.
    pub kind: ModelKind,
    /// Positional encoding (baseline only).
    pub posenc: PosEnc,
    /// Output classes.
    pub n_classes: usize,
    /// Mel bands of the input.
    pub n_mels: usize,
    /// Frames of the input.
    pub frames: usize,
    /// Dropout probability after each block of the baseline (absent in files written before the
    /// option existed, and whenever it is the study's 0.5).
    #[serde(default = "study_dropout", skip_serializing_if = "is_study_dropout")]
    pub dropout: f64,
    /// Channels of the baseline's five blocks (absent in files written before the option
    /// existed, and whenever they are the study's).
    #[serde(default, skip_serializing_if = "Widths::is_study")]
    pub widths: Widths,
}

/// The segment models' front end at `sample_rate`: `FrontendConfig::DEFAULT` (librosa's
/// defaults) at 22050 Hz, `FrontendConfig::RATE16K` at 16000 Hz; `None` for any other rate.
pub fn frontend_at(sample_rate: u32) -> Option<infer_core::config::FrontendConfig> {
    use infer_core::config::FrontendConfig;
    [FrontendConfig::DEFAULT, FrontendConfig::RATE16K]
        .into_iter()
        .find(|f| f.sample_rate == sample_rate)
}

/// The study's sample rate, `FrontendConfig::DEFAULT`'s 22050 Hz (serde default).
pub fn study_sample_rate() -> u32 {
    infer_core::config::FrontendConfig::DEFAULT.sample_rate
}

/// Whether `r` is the study's sample rate (serde: then it is not written).
pub fn is_study_sample_rate(r: &u32) -> bool {
    *r == study_sample_rate()
}

/// The study's dropout, [`baseline::DROPOUT`] (serde default).
pub fn study_dropout() -> f64 {
    baseline::DROPOUT
}

/// Whether `p` is the study's dropout (serde: then it is not written).
pub fn is_study_dropout(p: &f64) -> bool {
    *p == baseline::DROPOUT
}

impl ModelConfig {
    /// Check the combination is buildable.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.n_classes >= 2,
            "a classifier needs at least 2 classes, got {}",
            self.n_classes
        );
        if self.posenc != PosEnc::None && self.kind != ModelKind::Baseline {
            anyhow::bail!(
                "--posenc {} applies to the baseline only, not {}",
                self.posenc,
                self.kind
            );
        }
        anyhow::ensure!(
            (0.0..1.0).contains(&self.dropout),
            "dropout must be in [0, 1), got {}",
            self.dropout
        );
        if self.kind != ModelKind::Baseline && !is_study_dropout(&self.dropout) {
            anyhow::bail!(
                "--dropout applies to the baseline only; {} keeps its published dropout",
                self.kind
            );
        }
        if self.kind != ModelKind::Baseline && !self.widths.is_study() {
            anyhow::bail!(
                "--widths applies to the baseline only; {} keeps its published widths",
                self.kind
            );
        }
        let min = match self.kind {
            ModelKind::Baseline => 32,
            ModelKind::Arbitrary => 0,
            ModelKind::Resnet18 => 1,
        };
        anyhow::ensure!(
            self.n_mels >= min && self.frames >= min,
            "{} needs inputs of at least {min}x{min}, got {}x{}",
            self.kind,
            self.n_mels,
            self.frames
        );
        if self.kind == ModelKind::Arbitrary {
            let (h, w) = arbitrary::POOLS
                .iter()
                .fold((self.n_mels, self.frames), |(h, w), k| (h / k[0], w / k[1]));
            anyhow::ensure!(
                h >= 1 && w >= 1,
                "arbitrary needs inputs of at least 108 mel bands x 720 frames, got {}x{} (its pools leave {h}x{w})",
                self.n_mels,
                self.frames
            );
        }
        Ok(())
    }

    /// A freshly initialised network (seed the device first for reproducible weights).
    pub fn init(&self, device: &Device) -> Model {
        match self.kind {
            ModelKind::Baseline => Model::Baseline(baseline::Baseline::new(
                self.n_classes,
                self.n_mels,
                self.frames,
                self.posenc,
                self.dropout,
                self.widths,
                device,
            )),
            ModelKind::Arbitrary => {
                Model::Arbitrary(arbitrary::Arbitrary::new(self.n_classes, device))
            }
            ModelKind::Resnet18 => Model::Resnet18(resnet::ResNet18::new(self.n_classes, device)),
        }
    }
}

/// One of the study's networks.
// The variants are Burn modules that hold their parameters behind handles; one value exists per
// run, so the size difference between variants costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Model {
    /// See [`baseline::Baseline`].
    Baseline(baseline::Baseline),
    /// See [`arbitrary::Arbitrary`].
    Arbitrary(arbitrary::Arbitrary),
    /// See [`resnet::ResNet18`].
    Resnet18(resnet::ResNet18),
}

impl Model {
    /// Logits: `[batch, 1, n_mels, frames]` (normalised log-mel) -> `[batch, classes]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        match self {
            Self::Baseline(m) => m.forward(x),
            Self::Arbitrary(m) => m.forward(x),
            Self::Resnet18(m) => m.forward(x),
        }
    }
}

/// One float parameter (or BatchNorm running statistic) read out of a module.
#[derive(Clone, Debug)]
pub struct NamedTensor {
    /// Module path with '.' separators, e.g. `convs.0.weight` (Burn names: BatchNorm's
    /// `gamma`/`beta`, Linear weights `[in, out]`).
    pub path: String,
    /// Shape as Burn stores it.
    pub shape: Vec<usize>,
    /// Row-major values.
    pub data: Vec<f32>,
}

/// Every float tensor of a module, in visiting order (reads via [`ModuleVisitor::visit_float`]).
pub fn named_tensors<M: Module>(module: &M) -> Vec<NamedTensor> {
    #[derive(Default)]
    struct Collect {
        path: Vec<String>,
        out: Vec<NamedTensor>,
    }
    impl ModuleVisitor for Collect {
        fn enter_module(&mut self, name: &str, _container: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let t = param.val();
            let shape = t.dims().to_vec();
            let data = t
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .unwrap_or_default();
            self.out.push(NamedTensor {
                path: self.path.join("."),
                shape,
                data,
            });
        }
    }
    let mut c = Collect::default();
    module.visit(&mut c);
    c.out
}

/// Replace every float tensor of a module by `f(path, shape)` (same shape, same parameter id).
///
/// Used to load weights produced elsewhere (reference fixtures). `f` returns row-major values
/// in Burn's layout for that path.
pub fn map_tensors<M: Module>(module: M, f: &mut dyn FnMut(&str, &[usize]) -> Vec<f32>) -> M {
    struct Map<'a> {
        path: Vec<String>,
        f: &'a mut dyn FnMut(&str, &[usize]) -> Vec<f32>,
    }
    impl ModuleMapper for Map<'_> {
        fn enter_module(&mut self, name: &str, _container: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container: &str) {
            self.path.pop();
        }
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let path = self.path.join(".");
            let f = &mut self.f;
            param.map(|t| {
                let shape: [usize; D] = t.dims();
                let device = t.device();
                let data = f(&path, &shape);
                Tensor::from_data(TensorData::new(data, shape), &device)
            })
        }
    }
    module.map(&mut Map {
        path: Vec::new(),
        f,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(kind: ModelKind, dropout: f64) -> ModelConfig {
        ModelConfig {
            kind,
            posenc: PosEnc::None,
            n_classes: 10,
            n_mels: 128,
            frames: 130,
            dropout,
            widths: Widths::default(),
        }
    }

    #[test]
    fn dropout_is_the_baselines_own_and_a_probability() {
        assert!(cfg(ModelKind::Baseline, 0.2).validate().is_ok());
        assert!(cfg(ModelKind::Baseline, 0.0).validate().is_ok());
        for bad in [1.0, -0.1, f64::NAN] {
            let e = cfg(ModelKind::Baseline, bad).validate().unwrap_err();
            assert!(e.to_string().contains("dropout must be in [0, 1)"), "{e}");
        }
        let e = cfg(ModelKind::Resnet18, 0.2).validate().unwrap_err();
        assert!(e.to_string().contains("baseline only"), "{e}");
        assert!(
            cfg(ModelKind::Resnet18, baseline::DROPOUT)
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn the_studys_dropout_is_not_written_and_old_files_read_as_the_study() {
        let json = serde_json::to_string(&cfg(ModelKind::Baseline, baseline::DROPOUT)).unwrap();
        assert!(!json.contains("dropout"), "{json}");
        let back: ModelConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back.dropout, baseline::DROPOUT);
        let json = serde_json::to_string(&cfg(ModelKind::Baseline, 0.2)).unwrap();
        assert!(json.contains("\"dropout\":0.2"), "{json}");
    }
}
