//! The `--aug` grammar and [`AugSpec`].
//!
//! ```text
//! spec   := "none" | stage ("," stage)*
//! stage  := NAME [":" param ("," param)*]
//! param  := KEY "=" VALUE | FLAG
//! ```
//!
//! The comma separates both stages and parameters. A token is read as:
//! * `name:...` (has a `:`): a new stage, whose first parameter follows the colon;
//! * `key=value` (has a `=`, no `:`): one more parameter of the previous stage;
//! * a bare word that is a stage name: a new stage with default parameters;
//! * any other bare word: a flag of the previous stage (only `continuous`, for `pitch`).
//!
//! No flag is spelt like a stage, so every token has one reading:
//! `noise:min=0.001,max=0.015,pitch:range=4,continuous,mixup` is noise with
//! `min` and `max`, pitch with `range` and the `continuous` flag, and mixup
//! with its default alpha. Each stage may appear once; `none` stands alone.
//!
//! Stages and parameters (defaults in brackets):
//! * `noise:sigma=S` [0.001] or `noise:min=A,max=B`: Gaussian noise, fixed or per-clip uniform sigma;
//! * `pitch:range=R` [4] (integer steps in `[-R, R]`), `pitch:range=R,continuous`
//!   (real steps in `[-R, R]`), or `pitch:steps=N` (always `N`);
//! * `timeshift:max=SECONDS` [0.5] `,fill=circular|zero` [circular];
//! * `specaugment:time=T` [20] `,freq=F` [16] `,masks=M` [2] `,value=mean|zero` [mean];
//! * `mixup:alpha=A` [0.2].

use std::fmt;
use std::str::FromStr;

pub use super::grammar::{AugSpecError, PitchSteps, STAGES};
use super::grammar::{
    canonical_stage, parse_mixup, parse_noise, parse_pitch, parse_specaugment, parse_timeshift,
    tokenize,
};
use super::mixup::Mixup;
use super::noise::NoiseLevel;
use super::specaugment::{MaskValue, SpecAugment};
use super::timeshift::{ShiftFill, TimeShift};

/// A parsed `--aug` stack. Whatever the order written, stages run in a fixed
/// order: waveform stages `pitch`, then `timeshift`, then `noise` (so the
/// noise level is exactly the one requested) before the front end; then the
/// spectrogram stage `specaugment` on each log-mel segment; then the batch
/// stage `mixup` on the normalised batch. `Display` writes the canonical form
/// (this order, every parameter explicit), which parses back to the same value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AugSpec {
    /// Pitch shift (waveform).
    pub pitch: Option<PitchSteps>,
    /// Time shift (waveform).
    pub timeshift: Option<TimeShift>,
    /// Additive noise (waveform).
    pub noise: Option<NoiseLevel>,
    /// Time and frequency masking (spectrogram).
    pub specaugment: Option<SpecAugment>,
    /// mixup (batch).
    pub mixup: Option<Mixup>,
}

impl FromStr for AugSpec {
    type Err = AugSpecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().is_empty() {
            return Err(AugSpecError::Empty);
        }
        let stages = tokenize(s)?;
        let mut spec = AugSpec::default();
        let mut seen: Vec<&'static str> = Vec::new();
        for (name, params) in stages {
            let Some(name) = canonical_stage(name) else {
                return Err(AugSpecError::UnknownStage {
                    name: name.to_string(),
                });
            };
            if seen.contains(&name) {
                return Err(AugSpecError::Duplicate(name));
            }
            seen.push(name);
            match name {
                "none" => {
                    if !params.is_empty() {
                        let (k, v) = params[0];
                        return Err(AugSpecError::UnknownParam {
                            stage: "none",
                            param: v.map_or_else(|| k.to_string(), |v| format!("{k}={v}")),
                            valid: "(none)",
                        });
                    }
                }
                "noise" => spec.noise = Some(parse_noise(params)?),
                "pitch" => spec.pitch = Some(parse_pitch(params)?),
                "timeshift" => spec.timeshift = Some(parse_timeshift(params)?),
                "specaugment" => spec.specaugment = Some(parse_specaugment(params)?),
                "mixup" => spec.mixup = Some(parse_mixup(params)?),
                _ => unreachable!("canonical_stage returns a listed name"),
            }
        }
        if seen.contains(&"none") && seen.len() > 1 {
            return Err(AugSpecError::NoneWithOthers);
        }
        Ok(spec)
    }
}

impl AugSpec {
    /// No augmentation at all.
    pub fn is_none(&self) -> bool {
        *self == AugSpec::default()
    }

    /// Whether any waveform stage (pitch, timeshift, noise) is present.
    pub fn has_waveform_stages(&self) -> bool {
        self.pitch.is_some() || self.timeshift.is_some() || self.noise.is_some()
    }

    /// Whether the spectrogram stage (specaugment) is present.
    pub fn has_spectrogram_stages(&self) -> bool {
        self.specaugment.is_some()
    }

    /// Whether the batch stage (mixup) is present.
    pub fn has_batch_stages(&self) -> bool {
        self.mixup.is_some()
    }

    /// The waveform stages alone, in canonical form (`""` when there are none).
    pub fn waveform_string(&self) -> String {
        let only = AugSpec {
            pitch: self.pitch,
            timeshift: self.timeshift,
            noise: self.noise,
            specaugment: None,
            mixup: None,
        };
        if only.is_none() {
            String::new()
        } else {
            only.to_string()
        }
    }
}

impl fmt::Display for AugSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        if let Some(p) = self.pitch {
            parts.push(match p {
                PitchSteps::Fixed(s) => format!("pitch:steps={s}"),
                PitchSteps::Integer(r) => format!("pitch:range={r}"),
                PitchSteps::Continuous(r) => format!("pitch:range={r},continuous"),
            });
        }
        if let Some(t) = self.timeshift {
            let fill = match t.fill {
                ShiftFill::Circular => "circular",
                ShiftFill::Zero => "zero",
            };
            parts.push(format!("timeshift:max={},fill={fill}", t.max_seconds));
        }
        if let Some(n) = self.noise {
            parts.push(match n {
                NoiseLevel::Fixed(s) => format!("noise:sigma={s}"),
                NoiseLevel::Uniform { min, max } => format!("noise:min={min},max={max}"),
            });
        }
        if let Some(s) = self.specaugment {
            let value = match s.value {
                MaskValue::Mean => "mean",
                MaskValue::Zero => "zero",
            };
            parts.push(format!(
                "specaugment:time={},freq={},masks={},value={value}",
                s.time, s.freq, s.masks
            ));
        }
        if let Some(m) = self.mixup {
            parts.push(format!("mixup:alpha={}", m.alpha));
        }
        if parts.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&parts.join(","))
        }
    }
}
