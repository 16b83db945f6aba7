//! One module per `trainer` subcommand: a clap `Args` struct and a `run` function.

pub mod augment;
pub mod classify;
pub mod crosscheck;
pub mod eval;
pub mod export;
pub mod features;
pub mod prepare;
pub mod report;
pub mod reproduce;
pub mod run;
pub mod synth;
