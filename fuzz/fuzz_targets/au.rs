//! The Sun `.au` decoder on arbitrary bytes: a typed error or samples, never a panic, an abort or
//! an allocation past libFuzzer's `-malloc_limit_mb`.
#![no_main]

mod decode;

use libfuzzer_sys::fuzz_target;
use tinygenre_corpus::audio::AudioKind;

fuzz_target!(|data: &[u8]| decode::check(AudioKind::Au, data));
