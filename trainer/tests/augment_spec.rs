//! The `--aug` grammar: examples from the issue, the comma rule, canonical
//! round trips, and the errors for bad input.

use trainer::augment::{
    AugMode, AugSpec, AugSpecError, MaskValue, Mixup, NoiseLevel, PitchSteps, ShiftFill,
    SpecAugment, TimeShift,
};

fn parse(s: &str) -> AugSpec {
    s.parse().unwrap_or_else(|e| panic!("`{s}`: {e}"))
}

fn err(s: &str) -> String {
    match s.parse::<AugSpec>() {
        Ok(v) => panic!("`{s}` parsed as {v:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn issue_examples_parse() {
    assert!(parse("none").is_none());
    assert_eq!(
        parse("noise:sigma=0.001").noise,
        Some(NoiseLevel::Fixed(0.001))
    );
    assert_eq!(
        parse("noise:min=0.001,max=0.015").noise,
        Some(NoiseLevel::Uniform {
            min: 0.001,
            max: 0.015
        })
    );
    assert_eq!(parse("pitch:range=4").pitch, Some(PitchSteps::Integer(4)));
    assert_eq!(parse("pitch:steps=2").pitch, Some(PitchSteps::Fixed(2.0)));
    assert_eq!(
        parse("pitch:steps=-1.5").pitch,
        Some(PitchSteps::Fixed(-1.5))
    );
    assert_eq!(
        parse("pitch:range=4,continuous").pitch,
        Some(PitchSteps::Continuous(4.0))
    );
    assert_eq!(parse("mixup:alpha=0.2").mixup, Some(Mixup { alpha: 0.2 }));
    assert_eq!(
        parse("specaugment:time=20,freq=16,masks=2").specaugment,
        Some(SpecAugment {
            time: 20,
            freq: 16,
            masks: 2,
            value: MaskValue::Mean
        })
    );
    assert_eq!(
        parse("timeshift:max=0.5").timeshift,
        Some(TimeShift {
            max_seconds: 0.5,
            fill: ShiftFill::Circular
        })
    );
}

#[test]
fn defaults_without_parameters() {
    let s = parse("noise,pitch,timeshift,specaugment,mixup");
    assert_eq!(s.noise, Some(NoiseLevel::Fixed(0.001)));
    assert_eq!(s.pitch, Some(PitchSteps::Integer(4)));
    assert_eq!(
        s.timeshift,
        Some(TimeShift {
            max_seconds: 0.5,
            fill: ShiftFill::Circular
        })
    );
    assert_eq!(
        s.specaugment,
        Some(SpecAugment {
            time: 20,
            freq: 16,
            masks: 2,
            value: MaskValue::Mean
        })
    );
    assert_eq!(s.mixup, Some(Mixup { alpha: 0.2 }));
}

#[test]
fn key_value_tokens_continue_the_previous_stage() {
    // `max=0.015` belongs to noise, `range=4` and `continuous` to pitch, and
    // the bare stage name `mixup` starts a stage of its own.
    let s = parse("noise:min=0.001,max=0.015,pitch:range=4,continuous,mixup");
    assert_eq!(
        s.noise,
        Some(NoiseLevel::Uniform {
            min: 0.001,
            max: 0.015
        })
    );
    assert_eq!(s.pitch, Some(PitchSteps::Continuous(4.0)));
    assert_eq!(s.mixup, Some(Mixup { alpha: 0.2 }));
    assert_eq!(s.timeshift, None);
    // Whitespace around tokens is ignored.
    let t =
        parse(" specaugment:time=10 , freq=8 ,masks=1, value=zero , timeshift:max=0.25,fill=zero");
    assert_eq!(
        t.specaugment,
        Some(SpecAugment {
            time: 10,
            freq: 8,
            masks: 1,
            value: MaskValue::Zero
        })
    );
    assert_eq!(
        t.timeshift,
        Some(TimeShift {
            max_seconds: 0.25,
            fill: ShiftFill::Zero
        })
    );
}

#[test]
fn canonical_form_is_ordered_and_round_trips() {
    let s = parse(
        "mixup:alpha=0.4,noise:min=0.001,max=0.015,specaugment,pitch:steps=2,timeshift:max=0.1",
    );
    let text = s.to_string();
    assert_eq!(
        text,
        "pitch:steps=2,timeshift:max=0.1,fill=circular,noise:min=0.001,max=0.015,\
         specaugment:time=20,freq=16,masks=2,value=mean,mixup:alpha=0.4"
    );
    assert_eq!(parse(&text), s);
    assert_eq!(parse("none").to_string(), "none");
    assert_eq!(
        parse("pitch:range=2.5,continuous").to_string(),
        "pitch:range=2.5,continuous"
    );
    assert_eq!(
        s.waveform_string(),
        "pitch:steps=2,timeshift:max=0.1,fill=circular,noise:min=0.001,max=0.015"
    );
}

#[test]
fn stage_kinds() {
    let s = parse("noise,specaugment,mixup");
    assert!(s.has_waveform_stages() && s.has_spectrogram_stages() && s.has_batch_stages());
    let m = parse("mixup");
    assert!(!m.has_waveform_stages() && !m.has_spectrogram_stages() && m.has_batch_stages());
    assert!(m.waveform_transform(1, 0).is_none());
}

#[test]
fn errors_name_the_problem_and_the_valid_choices() {
    let e = err("reverb");
    assert!(
        e.contains("unknown augmentation `reverb`") && e.contains("pitch") && e.contains("mixup"),
        "{e}"
    );
    let e = err("noise:sigma=0.001,pich:range=2");
    assert!(e.contains("`pich`"), "{e}");
    let e = err("noise:level=3");
    assert!(
        e.contains("unknown parameter `level=3` for `noise`") && e.contains("sigma"),
        "{e}"
    );
    let e = err("pitch:range=4,fast");
    assert!(
        e.contains("unknown parameter `fast` for `pitch`") && e.contains("continuous"),
        "{e}"
    );
    let e = err("noise:sigma=abc");
    assert!(e.contains("bad value `abc` for `noise:sigma`"), "{e}");
    let e = err("noise:sigma=-1");
    assert!(e.contains("must be >= 0"), "{e}");
    assert!(err("mixup:alpha=0").contains("must be > 0"));
    assert!(err("noise:sigma=inf").contains("finite"));
    assert!(err("pitch:range=2.5").contains("integer unless `continuous`"));
    assert!(err("pitch:steps=2,continuous").contains("`continuous` goes with `range`"));
    assert!(err("pitch:steps=2,range=3").contains("either `steps` or `range`"));
    assert!(err("noise:sigma=0.1,min=0.1,max=0.2").contains("not both"));
    assert!(err("noise:min=0.1").contains("go together"));
    assert!(err("noise:min=0.2,max=0.1").contains("must not exceed"));
    assert!(err("noise:sigma=0.1,sigma=0.2").contains("more than once"));
    assert!(err("noise,noise:sigma=0.1").contains("`noise` is given more than once"));
    assert!(err("none,noise").contains("cannot be combined"));
    assert!(err("none:x=1").contains("`none`"));
    assert!(err("sigma=0.1").contains("comes before any augmentation"));
    assert!(err("noise,,pitch").contains("empty item"));
    assert!(err("noise,").contains("empty item"));
    assert!(err("noise:").contains("empty item"));
    assert!(err("specaugment:time=-3").contains("non-negative integer"));
    assert!(err("timeshift:fill=wrap").contains("circular, zero"));
    assert_eq!("".parse::<AugSpec>(), Err(AugSpecError::Empty));
}

#[test]
fn aug_mode_parses_and_sizes_the_training_set() {
    assert_eq!("offline".parse::<AugMode>(), Ok(AugMode::Offline));
    assert_eq!("online".parse::<AugMode>(), Ok(AugMode::Online));
    let e = "both".parse::<AugMode>().unwrap_err().to_string();
    assert!(e.contains("`both`") && e.contains("offline, online"), "{e}");
    assert_eq!(
        AugMode::Offline.to_string().parse::<AugMode>(),
        Ok(AugMode::Offline)
    );
    // Offline: the original plus C copies; online: one fresh version.
    assert_eq!(AugMode::Offline.versions_per_track(0), 1);
    assert_eq!(AugMode::Offline.versions_per_track(3), 4);
    assert_eq!(AugMode::Online.versions_per_track(3), 1);
}
