#!/usr/bin/env python3
"""Build the tiny synthetic teacher ONNX file and its reference outputs, for CI tests.

The model follows tinygenre's teacher contract (tinygenre.teacher = 1) but is made from nothing
but a fixed numpy seed (no pretrained weights), so it can be committed (a few KB):

  waveform [1, 2400] (0.3 s at 8 kHz)
    -> Reshape [1, 1, 2400]
    -> Conv1d 1->4, kernel 64, stride 32 -> Relu          [1, 4, 74]
    -> Conv1d 4->8, kernel 3, stride 1    -> Relu          [1, 8, 72]
    -> ReduceMean over time (keepdims 0)  = embedding      [1, 8]
    -> Gemm (transB) 8->6                 = logits         [1, 6]

Only Reshape, Conv, Relu, ReduceMean (opset 17, axes as attribute) and Gemm are used. The graph
is built with onnx.helper, so the bytes are deterministic. Reference outputs are computed with
onnxruntime (graph optimisations off) and independently with plain numpy in float64; the script
asserts they agree within 1e-5 and saves the onnxruntime outputs.

Usage: python3 tools/teacher/tiny_teacher.py [--out-dir tests/fixtures/teacher]
"""

import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SEED = 20240612  # chosen so that no embedding channel is all-zero on the two inputs
SAMPLE_RATE = 8000
WINDOW = 2400
C1, K1, S1 = 4, 64, 32
C2, K2 = 8, 3
D = C2
CLASS_NAMES = ["Blues", "Classical music", "Country", "Rock music", "Speech", "Silence"]
C = len(CLASS_NAMES)
OPSET = 17
IR_VERSION = 8

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def make_weights():
    rng = np.random.default_rng(SEED)
    # First layer: Hann-windowed cosines at a few frequencies plus a little noise, so the
    # channels respond to different bands (like a crude filterbank).
    n = np.arange(K1)
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * n / K1)
    freqs = np.array([150.0, 500.0, 1200.0, 2800.0])
    w1 = hann * np.cos(2 * np.pi * freqs[:, None] * n[None, :] / SAMPLE_RATE)
    w1 = (w1 + 0.1 * rng.standard_normal(w1.shape)) / 8.0
    w1 = w1[:, None, :]  # [4, 1, 64]
    b1 = 0.01 * rng.standard_normal(C1)
    w2 = rng.standard_normal((C2, C1, K2)) / np.sqrt(C1 * K2)
    b2 = 0.05 + 0.02 * rng.standard_normal(C2)  # positive-ish: no channel dead on the inputs
    w3 = rng.standard_normal((C, D)) * 2.0
    b3 = 0.1 * rng.standard_normal(C)
    f32 = lambda a: np.asarray(a, dtype=np.float32)
    return dict(w1=f32(w1), b1=f32(b1), w2=f32(w2), b2=f32(b2), w3=f32(w3), b3=f32(b3))


def build_model(w):
    t1 = (WINDOW - K1) // S1 + 1
    t2 = t1 - K2 + 1
    inits = [
        numpy_helper.from_array(np.array([1, 1, WINDOW], dtype=np.int64), "shape_1x1xW"),
        numpy_helper.from_array(w["w1"], "conv1.weight"),
        numpy_helper.from_array(w["b1"], "conv1.bias"),
        numpy_helper.from_array(w["w2"], "conv2.weight"),
        numpy_helper.from_array(w["b2"], "conv2.bias"),
        numpy_helper.from_array(w["w3"], "head.weight"),
        numpy_helper.from_array(w["b3"], "head.bias"),
    ]
    nodes = [
        helper.make_node("Reshape", ["waveform", "shape_1x1xW"], ["x0"], name="reshape"),
        helper.make_node("Conv", ["x0", "conv1.weight", "conv1.bias"], ["c1"], name="conv1",
                         kernel_shape=[K1], strides=[S1], pads=[0, 0], dilations=[1], group=1),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "conv2.weight", "conv2.bias"], ["c2"], name="conv2",
                         kernel_shape=[K2], strides=[1], pads=[0, 0], dilations=[1], group=1),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("ReduceMean", ["r2"], ["embedding"], name="mean_time", axes=[2],
                         keepdims=0),
        helper.make_node("Gemm", ["embedding", "head.weight", "head.bias"], ["logits"],
                         name="head", alpha=1.0, beta=1.0, transA=0, transB=1),
    ]
    graph = helper.make_graph(
        nodes, "tiny_test_teacher",
        [helper.make_tensor_value_info("waveform", TensorProto.FLOAT, [1, WINDOW])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, C]),
         helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [1, D])],
        initializer=inits,
        value_info=[
            helper.make_tensor_value_info("c1", TensorProto.FLOAT, [1, C1, t1]),
            helper.make_tensor_value_info("c2", TensorProto.FLOAT, [1, C2, t2]),
        ],
    )
    model = helper.make_model(graph, producer_name="tinygenre tools/teacher/tiny_teacher.py",
                              producer_version="1",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    model.doc_string = ("Tiny synthetic teacher for tinygenre CI tests: random weights from a "
                        "fixed numpy seed, no pretrained data; teacher contract 1")
    meta = {
        "tinygenre.teacher": "1",
        "tinygenre.name": "tiny-test-teacher",
        "tinygenre.sample_rate": str(SAMPLE_RATE),
        "tinygenre.window_samples": str(WINDOW),
        "tinygenre.class_names": "\n".join(CLASS_NAMES),
        "tinygenre.source_sha256": "none",
    }
    for k, v in meta.items():
        p = model.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(model, full_check=True)
    return model


def numpy_forward(w, x):
    """Plain float64 numpy reference of the same graph."""
    x = np.asarray(x, dtype=np.float64).reshape(1, 1, WINDOW)

    def conv1d(x, wt, b, stride):
        cout, cin, k = wt.shape
        t = (x.shape[2] - k) // stride + 1
        idx = np.arange(t)[:, None] * stride + np.arange(k)[None, :]  # [t, k]
        frames = x[0][:, idx]  # [cin, t, k]
        y = np.einsum("ctk,ock->ot", frames, wt.astype(np.float64)) + b.astype(np.float64)[:, None]
        return y[None]

    h = np.maximum(conv1d(x, w["w1"], w["b1"], S1), 0.0)
    h = np.maximum(conv1d(h, w["w2"], w["b2"], 1), 0.0)
    emb = h.mean(axis=2)  # [1, 8]
    logits = emb @ w["w3"].astype(np.float64).T + w["b3"].astype(np.float64)
    return logits, emb


def make_inputs():
    t = np.arange(WINDOW) / SAMPLE_RATE
    rng = np.random.default_rng(SEED + 1)
    a = 0.45 * np.sin(2 * np.pi * 440.0 * t) + 0.25 * np.sin(2 * np.pi * 1250.0 * t + 0.3)
    a += 0.05 * rng.standard_normal(WINDOW)
    # Second input: a rising chirp with a slow amplitude envelope and a different noise draw.
    rng2 = np.random.default_rng(SEED + 2)
    f0, f1 = 100.0, 3000.0
    phase = 2 * np.pi * (f0 * t + (f1 - f0) * t * t / (2 * t[-1]))
    b = 0.6 * np.sin(phase) * (0.5 + 0.5 * np.sin(2 * np.pi * 5.0 * t))
    b += 0.1 * rng2.standard_normal(WINDOW)
    out = []
    for x in (a, b):
        x = np.clip(x, -0.8, 0.8).astype(np.float32).reshape(1, WINDOW)
        assert np.abs(x).max() <= 0.8
        out.append(x)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out-dir", default=os.path.join(REPO, "tests", "fixtures", "teacher"))
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)

    w = make_weights()
    model = build_model(w)
    path = os.path.join(args.out_dir, "tiny-teacher.onnx")
    data = model.SerializeToString()
    with open(path, "wb") as f:
        f.write(data)
    print(f"wrote {path} ({len(data)} bytes)")
    assert len(data) < 50_000

    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])

    for suffix, x in zip(("", "2"), make_inputs()):
        logits, emb = sess.run(["logits", "embedding"], {"waveform": x})
        assert logits.shape == (1, C) and emb.shape == (1, D)
        nl, ne = numpy_forward(w, x)
        dl, de = float(np.abs(logits - nl).max()), float(np.abs(emb - ne).max())
        print(f"input{suffix or '1'}: ort vs numpy max abs diff logits {dl:.2e}, embedding {de:.2e}")
        print(f"  logits    {np.array2string(logits[0], precision=4)}")
        print(f"  embedding {np.array2string(emb[0], precision=4)}")
        assert dl < 1e-5 and de < 1e-5, (dl, de)
        np.save(os.path.join(args.out_dir, f"tiny-input{suffix}.npy"), x)
        np.save(os.path.join(args.out_dir, f"tiny-logits{suffix}.npy"), logits.astype(np.float32))
        np.save(os.path.join(args.out_dir, f"tiny-embedding{suffix}.npy"), emb.astype(np.float32))

    write_broken_variants(model, args.out_dir)


def write_broken_variants(model, out_dir):
    """Teacher files that break the contract in one way each, for the bad-input tests."""
    import copy

    def save(m, name):
        data = m.SerializeToString()
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)
        print(f"wrote {name} ({len(data)} bytes)")

    # a valid ONNX model without the tinygenre metadata (a foreign model)
    m = copy.deepcopy(model)
    del m.metadata_props[:]
    save(m, "broken-no-metadata.onnx")
    # the logits output renamed
    m = copy.deepcopy(model)
    for n in m.graph.node:
        n.output[:] = ["scores" if o == "logits" else o for o in n.output]
    for o in m.graph.output:
        if o.name == "logits":
            o.name = "scores"
    save(m, "broken-output-name.onnx")
    # metadata naming 5 classes for a 6-logit output
    m = copy.deepcopy(model)
    for p in m.metadata_props:
        if p.key == "tinygenre.class_names":
            p.value = "\n".join(p.value.split("\n")[:5])
    save(m, "broken-class-count.onnx")


if __name__ == "__main__":
    main()
