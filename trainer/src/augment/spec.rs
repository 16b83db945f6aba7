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

use super::mixup::Mixup;
use super::noise::NoiseLevel;
use super::specaugment::{MaskValue, SpecAugment};
use super::timeshift::{ShiftFill, TimeShift};

/// The stage names, in the order they run.
pub const STAGES: &str = "none, pitch, timeshift, noise, specaugment, mixup";

/// How the pitch shift is chosen for each clip.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PitchSteps {
    /// Always this many semitones (`pitch:steps=N`).
    Fixed(f32),
    /// An integer number of semitones uniform in `[-range, range]` (`pitch:range=R`).
    Integer(u32),
    /// A real number of semitones uniform in `[-range, range]` (`pitch:range=R,continuous`).
    Continuous(f32),
}

impl Default for PitchSteps {
    fn default() -> Self {
        PitchSteps::Integer(4)
    }
}

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

/// Why an `--aug` string was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AugSpecError {
    /// Nothing to parse.
    #[error("empty augmentation spec (write `none` for no augmentation)")]
    Empty,
    /// `a,,b`, a trailing comma, or `name:` with nothing after the colon.
    #[error(
        "empty item in augmentation spec `{spec}` (doubled or trailing comma, or nothing after a colon?)"
    )]
    EmptyItem {
        /// The whole spec.
        spec: String,
    },
    /// Not a stage name.
    #[error("unknown augmentation `{name}`; valid: {STAGES}")]
    UnknownStage {
        /// The name given.
        name: String,
    },
    /// A parameter with no stage before it.
    #[error(
        "parameter `{param}` comes before any augmentation; write it as `stage:{param}` (stages: {STAGES})"
    )]
    ParamWithoutStage {
        /// The token.
        param: String,
    },
    /// Not a parameter (or flag) of this stage.
    #[error("unknown parameter `{param}` for `{stage}`; valid: {valid}")]
    UnknownParam {
        /// The stage.
        stage: &'static str,
        /// The parameter given.
        param: String,
        /// The stage's parameters.
        valid: &'static str,
    },
    /// A value that does not parse or is out of range.
    #[error("bad value `{value}` for `{stage}:{param}`: {reason}")]
    BadValue {
        /// The stage.
        stage: &'static str,
        /// The parameter.
        param: String,
        /// The value given.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// A stage given twice.
    #[error("augmentation `{0}` is given more than once")]
    Duplicate(&'static str),
    /// `none` with other stages.
    #[error("`none` cannot be combined with other augmentations")]
    NoneWithOthers,
    /// Parameters that exclude each other, or a parameter given twice.
    #[error("`{stage}`: {reason}")]
    Conflict {
        /// The stage.
        stage: &'static str,
        /// What conflicts.
        reason: String,
    },
}

/// One stage as written: its name and its `(key, value)` parameters (flags
/// have no value).
type RawStage<'a> = (&'a str, Vec<(&'a str, Option<&'a str>)>);

const STAGE_NAMES: [&str; 6] = [
    "none",
    "noise",
    "pitch",
    "timeshift",
    "specaugment",
    "mixup",
];

fn canonical_stage(name: &str) -> Option<&'static str> {
    STAGE_NAMES.iter().copied().find(|s| *s == name)
}

fn tokenize(spec: &str) -> Result<Vec<RawStage<'_>>, AugSpecError> {
    let empty = || AugSpecError::EmptyItem {
        spec: spec.to_string(),
    };
    let mut stages: Vec<RawStage<'_>> = Vec::new();
    for token in spec.split(',').map(str::trim) {
        if token.is_empty() {
            return Err(empty());
        }
        if let Some((name, first)) = token.split_once(':') {
            let (name, first) = (name.trim(), first.trim());
            if name.is_empty() || first.is_empty() {
                return Err(empty());
            }
            stages.push((name, vec![split_param(first)]));
        } else if token.contains('=') {
            match stages.last_mut() {
                Some((_, params)) => params.push(split_param(token)),
                None => {
                    return Err(AugSpecError::ParamWithoutStage {
                        param: token.to_string(),
                    });
                }
            }
        } else if canonical_stage(token).is_some() {
            stages.push((token, Vec::new()));
        } else {
            match stages.last_mut() {
                Some((_, params)) => params.push((token, None)),
                None => {
                    return Err(AugSpecError::UnknownStage {
                        name: token.to_string(),
                    });
                }
            }
        }
    }
    Ok(stages)
}

fn split_param(p: &str) -> (&str, Option<&str>) {
    match p.split_once('=') {
        Some((k, v)) => (k.trim(), Some(v.trim())),
        None => (p, None),
    }
}

/// Parameters of one stage, checked against the stage's valid set, each at
/// most once.
struct Params<'a> {
    stage: &'static str,
    items: Vec<(&'a str, Option<&'a str>)>,
}

impl<'a> Params<'a> {
    fn new(
        stage: &'static str,
        valid: &'static str,
        keys: &[&str],
        flags: &[&str],
        items: Vec<(&'a str, Option<&'a str>)>,
    ) -> Result<Self, AugSpecError> {
        for (i, (k, v)) in items.iter().enumerate() {
            let known = match v {
                Some(_) => keys.contains(k),
                None => flags.contains(k),
            };
            if !known {
                return Err(AugSpecError::UnknownParam {
                    stage,
                    param: match v {
                        Some(v) => format!("{k}={v}"),
                        None => k.to_string(),
                    },
                    valid,
                });
            }
            if items[..i].iter().any(|(k2, _)| k2 == k) {
                return Err(AugSpecError::Conflict {
                    stage,
                    reason: format!("`{k}` is given more than once"),
                });
            }
        }
        Ok(Params { stage, items })
    }

    fn raw(&self, key: &str) -> Option<&'a str> {
        self.items
            .iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| *v)
    }

    fn flag(&self, key: &str) -> bool {
        self.items.iter().any(|(k, v)| *k == key && v.is_none())
    }

    fn bad(&self, key: &str, value: &str, reason: impl Into<String>) -> AugSpecError {
        AugSpecError::BadValue {
            stage: self.stage,
            param: key.to_string(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    /// A finite float `>= min` (or `> min` when `strict`).
    fn float(&self, key: &str, min: f32, strict: bool) -> Result<Option<f32>, AugSpecError> {
        let Some(v) = self.raw(key) else {
            return Ok(None);
        };
        let x: f32 = v.parse().map_err(|_| self.bad(key, v, "not a number"))?;
        if !x.is_finite() {
            return Err(self.bad(key, v, "not a finite number"));
        }
        if x < min || (strict && x == min) {
            let op = if strict { ">" } else { ">=" };
            return Err(self.bad(key, v, format!("must be {op} {min}")));
        }
        Ok(Some(x))
    }

    fn finite(&self, key: &str) -> Result<Option<f32>, AugSpecError> {
        self.float(key, f32::NEG_INFINITY, false)
    }

    fn uint(&self, key: &str) -> Result<Option<usize>, AugSpecError> {
        let Some(v) = self.raw(key) else {
            return Ok(None);
        };
        v.parse()
            .map(Some)
            .map_err(|_| self.bad(key, v, "not a non-negative integer"))
    }

    fn conflict(&self, reason: &str) -> AugSpecError {
        AugSpecError::Conflict {
            stage: self.stage,
            reason: reason.to_string(),
        }
    }
}

fn parse_noise(items: Vec<(&str, Option<&str>)>) -> Result<NoiseLevel, AugSpecError> {
    let p = Params::new(
        "noise",
        "sigma=S, or min=A,max=B",
        &["sigma", "min", "max"],
        &[],
        items,
    )?;
    let sigma = p.float("sigma", 0.0, false)?;
    let min = p.float("min", 0.0, false)?;
    let max = p.float("max", 0.0, false)?;
    match (sigma, min, max) {
        (Some(s), None, None) => Ok(NoiseLevel::Fixed(s)),
        (None, None, None) => Ok(NoiseLevel::DEFAULT),
        (None, Some(min), Some(max)) if min <= max => Ok(NoiseLevel::Uniform { min, max }),
        (None, Some(_), Some(_)) => Err(p.conflict("`min` must not exceed `max`")),
        (Some(_), _, _) => Err(p.conflict("give either `sigma` or `min` and `max`, not both")),
        (None, _, _) => Err(p.conflict("`min` and `max` go together")),
    }
}

fn parse_pitch(items: Vec<(&str, Option<&str>)>) -> Result<PitchSteps, AugSpecError> {
    let p = Params::new(
        "pitch",
        "steps=N, or range=R with optional flag continuous",
        &["steps", "range"],
        &["continuous"],
        items,
    )?;
    let steps = p.finite("steps")?;
    let range = p.float("range", 0.0, false)?;
    let continuous = p.flag("continuous");
    match (steps, range) {
        (Some(_), Some(_)) => Err(p.conflict("give either `steps` or `range`, not both")),
        (Some(_), None) if continuous => {
            Err(p.conflict("`continuous` goes with `range`, not `steps`"))
        }
        (Some(s), None) => Ok(PitchSteps::Fixed(s)),
        (None, r) => {
            let r = r.unwrap_or(4.0);
            if continuous {
                Ok(PitchSteps::Continuous(r))
            } else if r.fract() == 0.0 {
                Ok(PitchSteps::Integer(r as u32))
            } else {
                let v = p.raw("range").unwrap_or_default();
                Err(p.bad(
                    "range",
                    v,
                    "must be an integer unless `continuous` is given",
                ))
            }
        }
    }
}

fn parse_timeshift(items: Vec<(&str, Option<&str>)>) -> Result<TimeShift, AugSpecError> {
    let p = Params::new(
        "timeshift",
        "max=SECONDS, fill=circular|zero",
        &["max", "fill"],
        &[],
        items,
    )?;
    let mut t = TimeShift::default();
    if let Some(m) = p.float("max", 0.0, false)? {
        t.max_seconds = m;
    }
    if let Some(f) = p.raw("fill") {
        t.fill = match f {
            "circular" => ShiftFill::Circular,
            "zero" => ShiftFill::Zero,
            _ => return Err(p.bad("fill", f, "valid: circular, zero")),
        };
    }
    Ok(t)
}

fn parse_specaugment(items: Vec<(&str, Option<&str>)>) -> Result<SpecAugment, AugSpecError> {
    let p = Params::new(
        "specaugment",
        "time=FRAMES, freq=BANDS, masks=N, value=mean|zero",
        &["time", "freq", "masks", "value"],
        &[],
        items,
    )?;
    let mut s = SpecAugment::default();
    if let Some(v) = p.uint("time")? {
        s.time = v;
    }
    if let Some(v) = p.uint("freq")? {
        s.freq = v;
    }
    if let Some(v) = p.uint("masks")? {
        s.masks = v;
    }
    if let Some(v) = p.raw("value") {
        s.value = match v {
            "mean" => MaskValue::Mean,
            "zero" => MaskValue::Zero,
            _ => return Err(p.bad("value", v, "valid: mean, zero")),
        };
    }
    Ok(s)
}

fn parse_mixup(items: Vec<(&str, Option<&str>)>) -> Result<Mixup, AugSpecError> {
    let p = Params::new("mixup", "alpha=A", &["alpha"], &[], items)?;
    let alpha = p
        .float("alpha", 0.0, true)?
        .unwrap_or(Mixup::default().alpha);
    Ok(Mixup { alpha })
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
