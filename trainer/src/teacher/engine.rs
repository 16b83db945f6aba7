//! The ONNX engine behind [`Teacher`](super::Teacher): tract-onnx with the `teacher` feature, a
//! typed "built without it" error otherwise.
//!
//! Why tract: it is pure Rust (no C++ runtime to install or link), builds offline from
//! crates.io, resolves in one lock file with Burn, and reproduces onnxruntime's float outputs
//! (the teacher tests check it against onnxruntime's reference outputs).

#[cfg(feature = "teacher")]
mod imp {
    use std::collections::HashMap;
    use std::path::Path;
    use std::sync::Arc;

    use tract_onnx::prelude::*;

    use super::super::{Contract, TeacherError, TeacherInfo};

    type Plan = Arc<TypedRunnableModel>;

    /// The optimised plan of a teacher, for a `[1, W]` input.
    pub(crate) struct Engine {
        plan: Plan,
        window: usize,
    }

    fn contract_err(path: &Path, reason: String) -> TeacherError {
        TeacherError::Contract {
            path: path.to_path_buf(),
            reason,
        }
    }

    impl Engine {
        pub(crate) fn load(
            path: &Path,
            bytes: &[u8],
            file_sha256: String,
        ) -> Result<(Engine, TeacherInfo), TeacherError> {
            let not_onnx = |e: anyhow::Error| TeacherError::NotOnnx {
                path: path.to_path_buf(),
                reason: format!("{e:#}"),
            };
            let onnx = tract_onnx::onnx();
            let proto = onnx
                .proto_model_for_read(&mut &bytes[..])
                .map_err(not_onnx)?;
            if proto.graph.is_none() {
                return Err(TeacherError::NotOnnx {
                    path: path.to_path_buf(),
                    reason: "the file holds no graph".into(),
                });
            }
            let meta: HashMap<String, String> = proto
                .metadata_props
                .iter()
                .map(|p| (p.key.clone(), p.value.clone()))
                .collect();
            let contract = Contract::resolve(path, &meta)?;
            let mut info = contract.info(path, file_sha256)?;
            let mut model = onnx.model_for_proto_model(&proto).map_err(not_onnx)?;

            let input = contract.input.clone().unwrap_or_else(|| "waveform".into());
            let names: Vec<String> = model
                .input_outlets()
                .map_err(not_onnx)?
                .iter()
                .map(|o| model.node(o.node).name.clone())
                .collect();
            if names.len() != 1 || names[0] != input {
                return Err(contract_err(
                    path,
                    format!("expected one input named `{input}`, found {names:?}"),
                ));
            }
            let (lo, eo) = (
                contract
                    .logits_output
                    .clone()
                    .unwrap_or_else(|| "logits".into()),
                contract
                    .embedding_output
                    .clone()
                    .unwrap_or_else(|| "embedding".into()),
            );
            model
                .select_outputs_by_name([lo.as_str(), eo.as_str()])
                .map_err(|e| {
                    contract_err(path, format!("expected outputs `{lo}` and `{eo}`: {e:#}"))
                })?;
            let window = info.window_samples;
            let model = model
                .with_input_fact(0, f32::fact([1, window]).into())
                .map_err(not_onnx)?;
            let typed = model.into_optimized().map_err(|e| {
                contract_err(
                    path,
                    format!("cannot analyse the model for a [1, {window}] f32 input: {e:#}"),
                )
            })?;
            let dims = |ix: usize| -> Result<Vec<usize>, TeacherError> {
                let f = typed.output_fact(ix).map_err(not_onnx)?;
                f.shape
                    .as_concrete()
                    .map(|s| s.to_vec())
                    .ok_or_else(|| contract_err(path, format!("output {ix} has no fixed shape")))
            };
            let (ls, es) = (dims(0)?, dims(1)?);
            let flat = |s: &[usize]| s.iter().product::<usize>();
            if flat(&ls) != info.class_names.len() || ls.first() != Some(&1) {
                return Err(contract_err(
                    path,
                    format!(
                        "output `{lo}` has shape {ls:?}, but the metadata names {} classes (expected [1, {}])",
                        info.class_names.len(),
                        info.class_names.len()
                    ),
                ));
            }
            if es.first() != Some(&1) || flat(&es) == 0 {
                return Err(contract_err(
                    path,
                    format!("output `{eo}` has shape {es:?}; expected [1, D]"),
                ));
            }
            info.embedding_dim = flat(&es);
            let plan = typed.into_runnable().map_err(not_onnx)?;
            Ok((Engine { plan, window }, info))
        }

        /// One window: `(logits, embedding)`.
        pub(crate) fn run(
            &self,
            path: &Path,
            window: &[f32],
        ) -> Result<(Vec<f32>, Vec<f32>), TeacherError> {
            let fail = |e: anyhow::Error| TeacherError::Inference {
                path: path.to_path_buf(),
                reason: format!("{e:#}"),
            };
            let x = Tensor::from_shape(&[1, self.window], window).map_err(fail)?;
            let out = self.plan.run(tvec!(x.into_tvalue())).map_err(fail)?;
            let get = |i: usize| -> Result<Vec<f32>, TeacherError> {
                let t = out.get(i).ok_or_else(|| TeacherError::Inference {
                    path: path.to_path_buf(),
                    reason: format!("output {i} missing"),
                })?;
                Ok(t.to_plain_array_view::<f32>()
                    .map_err(fail)?
                    .iter()
                    .copied()
                    .collect())
            };
            Ok((get(0)?, get(1)?))
        }
    }
}

#[cfg(not(feature = "teacher"))]
mod imp {
    use std::path::Path;

    use super::super::{TeacherError, TeacherInfo};

    /// Stands in for the engine in a build without the `teacher` feature: never constructed.
    pub(crate) struct Engine;

    impl Engine {
        pub(crate) fn load(
            path: &Path,
            _bytes: &[u8],
            _file_sha256: String,
        ) -> Result<(Engine, TeacherInfo), TeacherError> {
            Err(TeacherError::Unavailable {
                path: path.to_path_buf(),
            })
        }

        pub(crate) fn run(
            &self,
            path: &Path,
            _window: &[f32],
        ) -> Result<(Vec<f32>, Vec<f32>), TeacherError> {
            Err(TeacherError::Unavailable {
                path: path.to_path_buf(),
            })
        }
    }
}

pub(crate) use imp::Engine;
