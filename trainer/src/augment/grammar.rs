//! The tokens and parameters of the `--aug` grammar (see [`super::spec`]): splitting a spec
//! into stages, and each stage's parameters into its typed settings; the grammar's own types
//! (the stage names, the pitch setting, the parse error) live here, below the spec that
//! assembles them.

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

pub(super) fn canonical_stage(name: &str) -> Option<&'static str> {
    STAGE_NAMES.iter().copied().find(|s| *s == name)
}

pub(super) fn tokenize(spec: &str) -> Result<Vec<RawStage<'_>>, AugSpecError> {
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

pub(super) fn parse_noise(items: Vec<(&str, Option<&str>)>) -> Result<NoiseLevel, AugSpecError> {
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

pub(super) fn parse_pitch(items: Vec<(&str, Option<&str>)>) -> Result<PitchSteps, AugSpecError> {
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

pub(super) fn parse_timeshift(items: Vec<(&str, Option<&str>)>) -> Result<TimeShift, AugSpecError> {
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

pub(super) fn parse_specaugment(
    items: Vec<(&str, Option<&str>)>,
) -> Result<SpecAugment, AugSpecError> {
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

pub(super) fn parse_mixup(items: Vec<(&str, Option<&str>)>) -> Result<Mixup, AugSpecError> {
    let p = Params::new("mixup", "alpha=A", &["alpha"], &[], items)?;
    let alpha = p
        .float("alpha", 0.0, true)?
        .unwrap_or(Mixup::default().alpha);
    Ok(Mixup { alpha })
}
