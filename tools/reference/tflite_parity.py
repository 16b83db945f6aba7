#!/usr/bin/env python3
"""tflite-micro reference outputs for tinygenre int8 model files.

Converts an int8 tinygenre model file (docs/model-format.md: 20-byte header + postcard payload)
to a .tflite flatbuffer, built with the schema the `tflite-micro` wheel ships
(`pip install --pre tflite-micro`), runs it with the tflite-micro interpreter (its reference
integer kernels) on a few fixed int8 inputs, and writes fixtures for
`tests/tests/tflite_parity.rs`:

    <out>/<name>.postcard          the model file (copied)
    <out>/<name>.tflite            the converted model
    <out>/<name>.inputs.i8         [n][n_mels][frames][in_ch] int8 (NHWC, H = mel, W = frame)
    <out>/<name>.outputs.i8        [n][classes] int8 logits
    <out>/<name>.blocks.i8         [n][block 1..5 pooled outputs, NHWC, concatenated] int8
    <out>/<name>.json              shapes and counts

The network per block is CONV_2D (3x3, stride 1, SAME, fused RELU, per-channel int8 weights,
int32 bias) -> MAX_POOL_2D (2x2, stride 2, VALID), the conv output sharing the pool's
quantisation (max-pooling commutes with the monotone quantisation); then RESHAPE [1, F] and
FULLY_CONNECTED (per-tensor int8 weights). TFLM recomputes every requantisation multiplier from
the float scales, so this also checks the multipliers stored in the model file.

Usage: python3 tools/reference/tflite_parity.py MODEL.postcard OUT_DIR NAME [--inputs 4] [--seed 0]
"""

import argparse
import json
import shutil
import struct
import sys
from pathlib import Path

import flatbuffers
import numpy as np
from tflite_micro.python.tflite_micro import runtime
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

MAGIC = b"TGMODEL\0"


class Reader:
    """A postcard reader: unsigned LEB128 varints, zigzag signed ints, raw u8/i8, LE f32."""

    def __init__(self, b):
        self.b, self.i = b, 0

    def byte(self):
        v = self.b[self.i]
        self.i += 1
        return v

    def varint(self):
        v, s = 0, 0
        while True:
            x = self.byte()
            v |= (x & 0x7F) << s
            s += 7
            if x < 0x80:
                return v

    def zigzag(self):
        v = self.varint()
        return (v >> 1) ^ -(v & 1)

    def f32(self):
        v = struct.unpack_from("<f", self.b, self.i)[0]
        self.i += 4
        return v

    def i8(self):
        return struct.unpack("<b", bytes([self.byte()]))[0]

    def bytes(self):
        n = self.varint()
        v = self.b[self.i : self.i + n]
        self.i += n
        return v

    def str(self):
        return self.bytes().decode()

    def qparams(self):
        return {"scale": self.f32(), "zero_point": self.i8()}


def parse(data):
    assert data[:8] == MAGIC, "not a tinygenre model file"
    version, flags, length, _crc = struct.unpack_from("<HHII", data, 8)
    assert version == 1 and flags == 0, (version, flags)
    r = Reader(data[20 : 20 + length])
    m = {"name": r.str(), "classes": [r.str() for _ in range(r.varint())]}
    m["input"] = {
        "segment_samples": r.varint(),
        "n_mels": r.varint(),
        "frames": r.varint(),
        "mean": r.f32(),
        "std": r.f32(),
        "posenc": r.varint(),
        "quant": r.qparams() if r.byte() else None,
    }
    layers = []
    for _ in range(r.varint()):
        kind = r.varint()
        n_in, n_out = r.varint(), r.varint()
        p = r.varint()
        assert p == 1, "only int8 models convert to tflite"
        layers.append(
            {
                "kind": "conv" if kind == 0 else "dense",
                "in": n_in,
                "out": n_out,
                "weights": np.frombuffer(r.bytes(), dtype=np.int8),
                "weight_scales": np.frombuffer(r.bytes(), dtype="<f4"),
                "bias": np.frombuffer(r.bytes(), dtype="<i4"),
                "multipliers": np.frombuffer(r.bytes(), dtype="<i4"),
                "shifts": np.frombuffer(r.bytes(), dtype=np.int8),
                "output": r.qparams(),
            }
        )
    m["layers"] = layers
    # the front-end config follows; the network does not need it
    return m


def build_tflite(m):
    buffers = [fb.BufferT()]  # buffer 0: the empty sentinel
    tensors = []

    def buffer(arr):
        b = fb.BufferT()
        b.data = np.frombuffer(arr.tobytes(), dtype=np.uint8)
        buffers.append(b)
        return len(buffers) - 1

    def tensor(name, shape, ttype, scales=None, zero_points=None, data=None, qdim=0):
        t = fb.TensorT()
        t.name = name.encode()
        t.shape = list(shape)
        t.type = ttype
        t.buffer = buffer(data) if data is not None else 0
        if scales is not None:
            q = fb.QuantizationParametersT()
            q.scale = [float(s) for s in scales]
            q.zeroPoint = [int(z) for z in zero_points]
            q.quantizedDimension = qdim
            t.quantization = q
        tensors.append(t)
        return len(tensors) - 1

    codes = []

    def opcode(builtin):
        if builtin not in codes:
            codes.append(builtin)
        return codes.index(builtin)

    ops = []

    def op(builtin, inputs, outputs, opt_type, opt):
        o = fb.OperatorT()
        o.opcodeIndex = opcode(builtin)
        o.inputs = inputs
        o.outputs = outputs
        o.builtinOptionsType = opt_type
        o.builtinOptions = opt
        ops.append(o)

    inp = m["input"]
    h, w = inp["n_mels"], inp["frames"]
    c = 3 if inp["posenc"] == 1 else 1
    q_in = inp["quant"]
    x = tensor("input", [1, h, w, c], fb.TensorType.INT8, [q_in["scale"]], [q_in["zero_point"]])
    s_in = np.float32(q_in["scale"])
    block_outputs = []
    for b, L in enumerate(m["layers"][:-1]):
        co, ci = L["out"], L["in"]
        wq = L["weights"].reshape(co, 3, 3, ci)
        ws = L["weight_scales"].astype(np.float32)
        wt = tensor(f"conv{b}/w", [co, 3, 3, ci], fb.TensorType.INT8, ws, [0] * co, wq, qdim=0)
        bias_scales = [float(np.float64(s_in) * np.float64(s)) for s in ws]
        bt = tensor(f"conv{b}/b", [co], fb.TensorType.INT32, bias_scales, [0] * co, L["bias"])
        qo = L["output"]
        y = tensor(f"conv{b}/y", [1, h, w, co], fb.TensorType.INT8, [qo["scale"]], [qo["zero_point"]])
        opt = fb.Conv2DOptionsT()
        opt.padding = fb.Padding.SAME
        opt.strideW = opt.strideH = 1
        opt.dilationWFactor = opt.dilationHFactor = 1
        opt.fusedActivationFunction = fb.ActivationFunctionType.RELU
        op(fb.BuiltinOperator.CONV_2D, [x, wt, bt], [y], fb.BuiltinOptions.Conv2DOptions, opt)
        h, w = h // 2, w // 2
        p = tensor(f"pool{b}", [1, h, w, co], fb.TensorType.INT8, [qo["scale"]], [qo["zero_point"]])
        opt = fb.Pool2DOptionsT()
        opt.padding = fb.Padding.VALID
        opt.strideW = opt.strideH = 2
        opt.filterWidth = opt.filterHeight = 2
        opt.fusedActivationFunction = fb.ActivationFunctionType.NONE
        op(fb.BuiltinOperator.MAX_POOL_2D, [y], [p], fb.BuiltinOptions.Pool2DOptions, opt)
        block_outputs.append(p)
        x, s_in = p, np.float32(qo["scale"])
        q_last = qo
    D = m["layers"][-1]
    feats = D["in"]
    shape = tensor("flat/shape", [2], fb.TensorType.INT32, data=np.array([1, feats], dtype="<i4"))
    flat = tensor("flat", [1, feats], fb.TensorType.INT8, [q_last["scale"]], [q_last["zero_point"]])
    opt = fb.ReshapeOptionsT()
    opt.newShape = [1, feats]
    op(fb.BuiltinOperator.RESHAPE, [x, shape], [flat], fb.BuiltinOptions.ReshapeOptions, opt)
    ws = D["weight_scales"].astype(np.float32)
    wt = tensor("dense/w", [D["out"], feats], fb.TensorType.INT8, ws, [0], D["weights"])
    bt = tensor(
        "dense/b", [D["out"]], fb.TensorType.INT32, [float(np.float64(s_in) * np.float64(ws[0]))], [0], D["bias"]
    )
    qo = D["output"]
    y = tensor("logits", [1, D["out"]], fb.TensorType.INT8, [qo["scale"]], [qo["zero_point"]])
    opt = fb.FullyConnectedOptionsT()
    opt.fusedActivationFunction = fb.ActivationFunctionType.NONE
    op(fb.BuiltinOperator.FULLY_CONNECTED, [flat, wt, bt], [y], fb.BuiltinOptions.FullyConnectedOptions, opt)

    sg = fb.SubGraphT()
    sg.tensors, sg.inputs, sg.outputs, sg.operators = tensors, [0], [y], ops
    sg.name = b"main"
    model = fb.ModelT()
    model.version = 3
    model.description = f"tinygenre {m['name']}".encode()
    model.buffers = buffers
    model.subgraphs = [sg]
    model.operatorCodes = []
    for code in codes:
        oc = fb.OperatorCodeT()
        oc.builtinCode = code
        oc.deprecatedBuiltinCode = min(code, 127)
        oc.version = 1
        model.operatorCodes.append(oc)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output()), (h, w), block_outputs


def inputs(m, n, seed):
    """Fixed int8 inputs: uniform noise over the whole range (saturates the accumulators and
    exercises every rounding path) and smoother, log-mel-like fields."""
    inp = m["input"]
    h, w = inp["n_mels"], inp["frames"]
    c = 3 if inp["posenc"] == 1 else 1
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        if k % 2 == 0:
            x = rng.integers(-128, 128, size=(h, w, c))
        else:
            base = rng.normal(0.0, 40.0, size=(h, 1, c)) + rng.normal(0.0, 15.0, size=(h, w, c))
            x = np.clip(np.round(base + np.cumsum(rng.normal(0, 3, size=(1, w, c)), axis=1)), -128, 127)
        out.append(x.astype(np.int8))
    return out


def tensor_values(t):
    """The int8 values of a tensor returned by `Interpreter.GetTensor` (a dict in recent wheels)."""
    if isinstance(t, dict):
        t = next(v for k, v in t.items() if isinstance(v, np.ndarray) and v.dtype == np.int8)
    return np.asarray(t, dtype=np.int8).reshape(-1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("name")
    ap.add_argument("--inputs", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    data = Path(a.model).read_bytes()
    m = parse(data)
    tfl, _, block_ids = build_tflite(m)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    if Path(a.model).resolve() != (out / f"{a.name}.postcard").resolve():
        shutil.copyfile(a.model, out / f"{a.name}.postcard")
    (out / f"{a.name}.tflite").write_bytes(tfl)
    interp = runtime.Interpreter.from_bytes(
        tfl, arena_size=64 << 20, intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors
    )
    xs = inputs(m, a.inputs, a.seed)
    logits, blocks = [], []
    for x in xs:
        interp.set_input(x[None], 0)
        interp.invoke()
        logits.append(np.asarray(interp.get_output(0), dtype=np.int8).reshape(-1))
        blocks.append(np.concatenate([tensor_values(interp.GetTensor(t, 0)) for t in block_ids]))
        interp.reset()
    np.stack(xs).tofile(out / f"{a.name}.inputs.i8")
    np.stack(logits).tofile(out / f"{a.name}.outputs.i8")
    np.stack(blocks).tofile(out / f"{a.name}.blocks.i8")
    meta = {
        "name": m["name"],
        "inputs": len(xs),
        "input_shape": list(xs[0].shape),
        "classes": len(m["classes"]),
        "block_values": int(blocks[0].size),
        "generator": "tools/reference/tflite_parity.py",
        "tflite_micro": getattr(__import__("tflite_micro"), "__version__", "see pip show tflite-micro"),
        "seed": a.seed,
    }
    (out / f"{a.name}.json").write_text(json.dumps(meta, indent=2) + "\n")
    for k, l in enumerate(logits):
        print(f"{a.name} input {k}: logits {l.tolist()}")


if __name__ == "__main__":
    sys.exit(main())
