//! Run-time choice of the Burn device
//! (`--device flex|ndarray|wgpu|cuda|libtorch|libtorch-cuda[:N]`).
//!
//! Burn 0.22 dispatches on a runtime [`Device`], so the models and the training loop are written
//! once and run on whichever device is chosen here. `flex` (pure Rust CPU) is always compiled in;
//! the others need a cargo feature ([`DeviceKind::feature`]).

use std::fmt;
use std::str::FromStr;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

/// A Burn backend that the trainer can run on. Written in run files as its command-line name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(into = "String", try_from = "String")]
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
    /// CPU through LibTorch (cargo feature `libtorch`).
    Libtorch,
    /// CUDA GPU number N through LibTorch (cargo feature `libtorch`): `libtorch-cuda[:N]`.
    LibtorchCuda(usize),
}

impl DeviceKind {
    /// One of each device, in the order `--help` lists them.
    pub const ALL: [DeviceKind; 6] = [
        Self::Flex,
        Self::Ndarray,
        Self::Wgpu,
        Self::Cuda,
        Self::Libtorch,
        Self::LibtorchCuda(0),
    ];

    /// The command-line name without a GPU number.
    pub fn name(self) -> &'static str {
        match self {
            Self::Flex => "flex",
            Self::Ndarray => "ndarray",
            Self::Wgpu => "wgpu",
            Self::Cuda => "cuda",
            Self::Libtorch => "libtorch",
            Self::LibtorchCuda(_) => "libtorch-cuda",
        }
    }

    /// The trainer's cargo feature that compiles the device in (`flex` needs none).
    pub fn feature(self) -> &'static str {
        match self {
            Self::Libtorch | Self::LibtorchCuda(_) => "libtorch",
            other => other.name(),
        }
    }

    /// Whether this binary was compiled with support for the device.
    pub fn is_compiled_in(self) -> bool {
        match self {
            Self::Flex => true,
            Self::Ndarray => cfg!(feature = "ndarray"),
            Self::Wgpu => cfg!(feature = "wgpu"),
            Self::Cuda => cfg!(feature = "cuda"),
            Self::Libtorch | Self::LibtorchCuda(_) => cfg!(feature = "libtorch"),
        }
    }

    /// The plain (inference) device; call `.autodiff()` on it for training.
    ///
    /// Errors when the device's cargo feature is not compiled in, naming the feature, and for
    /// `libtorch-cuda` when LibTorch finds no CUDA driver or no such GPU (never a CPU fallback).
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
            #[cfg(feature = "libtorch")]
            #[allow(deprecated)]
            // burn-tch is deprecated upstream; the CUDA path that builds here
            Self::Libtorch => Device::libtorch(),
            #[cfg(feature = "libtorch")]
            #[allow(deprecated)]
            Self::LibtorchCuda(index) => {
                libtorch_cuda_probe(index)?;
                Device::libtorch_cuda(index)
            }
            #[allow(unreachable_patterns)] // every feature compiled in
            other => return Err(DeviceError::NotCompiled(other)),
        })
    }
}

/// Asks LibTorch how many CUDA devices it sees before Burn creates a tensor there (which would
/// panic deep inside libtorch). A panic while asking counts as none.
#[cfg(feature = "libtorch")]
fn libtorch_cuda_probe(index: usize) -> Result<(), DeviceError> {
    let found = std::panic::catch_unwind(|| {
        if tch::Cuda::is_available() {
            tch::Cuda::device_count().max(0) as usize
        } else {
            0
        }
    })
    .unwrap_or(0);
    if found == 0 {
        return Err(DeviceError::NoCuda(DeviceKind::LibtorchCuda(index)));
    }
    if index >= found {
        return Err(DeviceError::NoSuchGpu { index, found });
    }
    Ok(())
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LibtorchCuda(n) if *n > 0 => write!(f, "libtorch-cuda:{n}"),
            other => f.write_str(other.name()),
        }
    }
}

impl FromStr for DeviceKind {
    type Err = DeviceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(n) = s.strip_prefix("libtorch-cuda:") {
            return n
                .parse()
                .map(Self::LibtorchCuda)
                .map_err(|_| DeviceError::Unknown(s.to_string()));
        }
        Self::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| DeviceError::Unknown(s.to_string()))
    }
}

impl From<DeviceKind> for String {
    fn from(k: DeviceKind) -> String {
        k.to_string()
    }
}

impl TryFrom<String> for DeviceKind {
    type Error = DeviceError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// Why a device could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    /// The name is not one of the devices.
    #[error(
        "unknown device {0:?}: expected one of flex, ndarray, wgpu, cuda, libtorch, libtorch-cuda[:N]"
    )]
    Unknown(String),
    /// The device exists but its cargo feature was not enabled at build time.
    #[error(
        "device {0} is not compiled into this binary: rebuild with `cargo build -p trainer --features {feature}`",
        feature = .0.feature()
    )]
    NotCompiled(DeviceKind),
    /// LibTorch found no CUDA driver or no CUDA device on this machine.
    #[error(
        "device {0}: no CUDA device or driver found (LibTorch sees no usable NVIDIA driver and GPU); \
         use --device libtorch for its CPU"
    )]
    NoCuda(DeviceKind),
    /// A GPU number beyond the ones LibTorch sees.
    #[error(
        "device libtorch-cuda:{index}: no such CUDA device, LibTorch sees {found} (0..{found})"
    )]
    NoSuchGpu {
        /// The GPU asked for.
        index: usize,
        /// How many LibTorch sees.
        found: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_is_rejected() {
        for k in DeviceKind::ALL
            .into_iter()
            .chain([DeviceKind::LibtorchCuda(3)])
        {
            assert_eq!(k.to_string().parse::<DeviceKind>().unwrap(), k);
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(serde_json::from_str::<DeviceKind>(&json).unwrap(), k);
        }
        // run files written before the LibTorch devices keep their meaning
        assert_eq!(
            serde_json::to_string(&DeviceKind::Flex).unwrap(),
            "\"flex\""
        );
        assert_eq!(
            "libtorch-cuda".parse::<DeviceKind>().unwrap(),
            DeviceKind::LibtorchCuda(0)
        );
        for bad in ["tpu", "libtorch-cuda:x", "libtorch-cuda:"] {
            let err = bad.parse::<DeviceKind>().unwrap_err().to_string();
            assert!(err.contains(bad) && err.contains("flex"), "{err}");
        }
    }

    #[test]
    fn missing_feature_names_the_feature() {
        assert!(DeviceKind::Flex.device().is_ok());
        if !cfg!(feature = "cuda") {
            let err = DeviceKind::Cuda.device().unwrap_err().to_string();
            assert!(err.contains("--features cuda"), "{err}");
        }
        if !cfg!(feature = "libtorch") {
            for k in [DeviceKind::Libtorch, DeviceKind::LibtorchCuda(1)] {
                let err = k.device().unwrap_err().to_string();
                assert!(err.contains("--features libtorch"), "{err}");
            }
        }
    }
}
