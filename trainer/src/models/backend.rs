//! Run-time choice of the Burn device (`--device flex|ndarray|wgpu|cuda`).
//!
//! Burn 0.22 dispatches on a runtime [`Device`], so the models and the training loop are written
//! once and run on whichever device is chosen here. `flex` (pure Rust CPU) is always compiled in;
//! the others need the trainer's cargo feature of the same name.

use std::fmt;
use std::str::FromStr;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

/// A Burn backend that the trainer can run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    /// Burn's pure-Rust CPU backend (default; always available).
    #[default]
    Flex,
    /// Burn's deprecated ndarray CPU backend (cargo feature `ndarray`).
    Ndarray,
    /// GPU through wgpu (cargo feature `wgpu`).
    Wgpu,
    /// GPU through CUDA (cargo feature `cuda`).
    Cuda,
}

impl DeviceKind {
    /// All device names, in the order `--help` lists them.
    pub const ALL: [DeviceKind; 4] = [Self::Flex, Self::Ndarray, Self::Wgpu, Self::Cuda];

    /// The command-line name (also the cargo feature that enables it).
    pub fn name(self) -> &'static str {
        match self {
            Self::Flex => "flex",
            Self::Ndarray => "ndarray",
            Self::Wgpu => "wgpu",
            Self::Cuda => "cuda",
        }
    }

    /// Whether this binary was compiled with support for the device.
    pub fn is_compiled_in(self) -> bool {
        match self {
            Self::Flex => true,
            Self::Ndarray => cfg!(feature = "ndarray"),
            Self::Wgpu => cfg!(feature = "wgpu"),
            Self::Cuda => cfg!(feature = "cuda"),
        }
    }

    /// The plain (inference) device; call `.autodiff()` on it for training.
    ///
    /// Errors when the device's cargo feature is not compiled in, naming the feature.
    pub fn device(self) -> Result<Device, DeviceError> {
        if !self.is_compiled_in() {
            return Err(DeviceError::NotCompiled(self));
        }
        Ok(match self {
            Self::Flex => Device::flex(),
            #[cfg(feature = "ndarray")]
            #[allow(deprecated)] // kept only to compare against flex
            Self::Ndarray => Device::ndarray(),
            #[cfg(feature = "wgpu")]
            Self::Wgpu => Device::wgpu(burn::tensor::DeviceKind::DefaultDevice),
            #[cfg(feature = "cuda")]
            Self::Cuda => Device::cuda(0),
            #[allow(unreachable_patterns)] // every feature compiled in
            other => return Err(DeviceError::NotCompiled(other)),
        })
    }
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DeviceKind {
    type Err = DeviceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| DeviceError::Unknown(s.to_string()))
    }
}

/// Why a device could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The name is not one of flex, ndarray, wgpu, cuda.
    #[error("unknown device {0:?}: expected one of flex, ndarray, wgpu, cuda")]
    Unknown(String),
    /// The device exists but its cargo feature was not enabled at build time.
    #[error(
        "device {0} is not compiled into this binary: rebuild with `cargo build -p trainer --features {0}`"
    )]
    NotCompiled(DeviceKind),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_is_rejected() {
        for k in DeviceKind::ALL {
            assert_eq!(k.name().parse::<DeviceKind>().unwrap(), k);
        }
        let err = "tpu".parse::<DeviceKind>().unwrap_err().to_string();
        assert!(err.contains("tpu") && err.contains("flex"), "{err}");
    }

    #[test]
    fn missing_feature_names_the_feature() {
        assert!(DeviceKind::Flex.device().is_ok());
        if !cfg!(feature = "cuda") {
            let err = DeviceKind::Cuda.device().unwrap_err().to_string();
            assert!(err.contains("--features cuda"), "{err}");
        }
    }
}
