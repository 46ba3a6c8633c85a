"""Shared steps of study.py and extra_models.py: seeding, tf2onnx export, the ONNX Runtime
check, and the files of one `testdata/keras/<name>/` folder.

Files written per model (all atomically, temp file + rename):

- model.onnx        tf2onnx.convert.from_keras, opset 15, float32 input `embedding_input [N, maxlen]`
- predictions.json  {"rows": [0..n-1], "inputs": "...", "x": [[ids]], "outputs": [[floats]]}
                    outputs are Keras `model.predict` float32 values written as the shortest
                    decimal of their exact float64 value (round-trips bit for bit)
- metrics.json      {"loss", "accuracy", "n"} of `model.evaluate` on the whole test split
- info.json         architecture, optimizer, data settings, seconds per epoch, ONNX ops,
                    max |ORT - Keras|, exact versions
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np

PREDICT_ROWS = 2000
OPSET = 15
INPUT_NAME = "embedding_input"


class ExportError(Exception):
    """The ONNX export disagrees with Keras or could not be written."""


def versions() -> dict:
    """The exact versions of everything that produced a model."""
    import keras
    import onnx
    import onnxruntime
    import tensorflow as tf
    import tf2onnx
    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "tf2onnx": tf2onnx.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
        "numpy": np.__version__,
    }


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write data to path through a temp file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", dir=path.parent)
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json(path: Path, obj, compact: bool = False) -> None:
    if compact:
        text = json.dumps(obj, separators=(",", ":"), allow_nan=False)
    else:
        text = json.dumps(obj, indent=2, allow_nan=False)
    atomic_write(path, text + "\n")


def exact_floats(a: np.ndarray) -> list:
    """float32 array -> nested lists of Python floats holding the exact float32 values."""
    return np.asarray(a, dtype=np.float32).astype(np.float64).tolist()


def export_onnx(model, path: Path, maxlen: int) -> None:
    """tf2onnx.convert.from_keras with a float32 `embedding_input [None, maxlen]`, opset 15."""
    import tensorflow as tf
    import tf2onnx
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name("." + path.name + ".tmp")
    spec = [tf.TensorSpec([None, maxlen], tf.float32, name=INPUT_NAME)]
    tf2onnx.convert.from_keras(model, input_signature=spec, opset=OPSET, output_path=str(tmp))
    os.replace(tmp, path)


def ort_predict(path: Path, x: np.ndarray, batch: int = 500) -> np.ndarray:
    """ONNX Runtime outputs of the model's first output for int ids x `[n, maxlen]` (fed as float32)."""
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    outs = [sess.run(None, {name: x[i:i + batch].astype(np.float32)})[0] for i in range(0, len(x), batch)]
    return np.concatenate(outs)


def onnx_ops(path: Path) -> list[str]:
    """Sorted operator types of the main graph."""
    import onnx
    m = onnx.load(str(path))
    return sorted({n.op_type for n in m.graph.node})


def onnx_io(path: Path) -> dict:
    import onnx
    m = onnx.load(str(path))

    def shape(v):
        return [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
    return {
        "inputs": [{"name": v.name, "shape": shape(v)} for v in m.graph.input],
        "outputs": [{"name": v.name, "shape": shape(v)} for v in m.graph.output],
    }


def record(folder: Path, model, x_test: np.ndarray, y_test: np.ndarray, info: dict,
           inputs: str, tolerance: float = 1e-4, eval_batch: int = 128, export_model=None) -> dict:
    """Export model to folder and write predictions.json, metrics.json and info.json.

    x_test: padded ids `[n_test, maxlen]` int32; the first PREDICT_ROWS rows are predicted and
    checked against ONNX Runtime. export_model, when given, is exported instead of model (an
    inference-equivalent clone with the same weights); the ORT check still compares with
    model's predictions. Raises ExportError when max |ORT - Keras| > tolerance.
    Returns info as written.
    """
    folder = Path(folder)
    maxlen = x_test.shape[1]
    xs = x_test[:PREDICT_ROWS]
    keras_out = model.predict(xs, batch_size=128, verbose=0).astype(np.float32)
    loss, acc = model.evaluate(x_test, y_test, batch_size=eval_batch, verbose=0)

    onnx_path = folder / "model.onnx"
    export_onnx(export_model if export_model is not None else model, onnx_path, maxlen)
    ort_out = ort_predict(onnx_path, xs)
    if ort_out.shape != keras_out.shape:
        raise ExportError(f"{folder.name}: ORT output {ort_out.shape} != Keras {keras_out.shape}")
    diff = float(np.max(np.abs(ort_out.astype(np.float64) - keras_out.astype(np.float64))))
    print(f"{folder.name}: max |ORT - Keras| = {diff:.3g} over {keras_out.size} outputs", flush=True)
    if not diff <= tolerance:
        raise ExportError(f"{folder.name}: max |ORT - Keras| = {diff:g} > {tolerance:g}")

    write_json(folder / "predictions.json", {
        "rows": list(range(len(xs))),
        "inputs": inputs,
        "x": xs.astype(np.int64).tolist(),
        "outputs": exact_floats(keras_out),
    }, compact=True)
    write_json(folder / "metrics.json", {"loss": float(loss), "accuracy": float(acc), "n": int(len(x_test))})

    full = dict(info)
    full.update({
        "maxlen": int(maxlen),
        "params": int(model.count_params()),
        "layers": [layer_info(l) for l in model.layers],
        "onnx": {"opset": OPSET, "ops": onnx_ops(onnx_path), **onnx_io(onnx_path),
                 "export": "tf2onnx.convert.from_keras(model, input_signature=[tf.TensorSpec("
                           f"[None, {maxlen}], tf.float32, name='{INPUT_NAME}')], opset={OPSET})"},
        "ort_check": {"rows": int(len(xs)), "max_abs_diff": diff},
        "test": {"loss": float(loss), "accuracy": float(acc), "n": int(len(x_test))},
        "versions": versions(),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    })
    write_json(folder / "info.json", full)
    return full


def layer_info(layer) -> dict:
    """A layer's class, name, output shape and the config entries that matter for parity."""
    cfg = layer.get_config()
    keep = {}
    for k in ("units", "input_dim", "output_dim", "activation", "recurrent_activation",
              "return_sequences", "go_backwards", "recurrent_dropout", "dropout", "reset_after",
              "use_bias", "unit_forget_bias", "mask_zero", "merge_mode"):
        if k in cfg:
            keep[k] = cfg[k]
    for k in ("kernel_initializer", "recurrent_initializer"):
        if k in cfg:
            keep[k] = cfg[k]["class_name"] if isinstance(cfg[k], dict) else cfg[k]
    if "layer" in cfg:  # Bidirectional
        inner = layer.forward_layer
        keep["layer"] = {"class": type(inner).__name__, **layer_info(inner)["config"]}
    try:
        shape = layer.output_shape
    except AttributeError:
        shape = None
    return {"class": type(layer).__name__, "name": layer.name,
            "output_shape": list(shape) if isinstance(shape, tuple) else shape,
            "params": int(layer.count_params()), "config": keep}


class EpochTimer:
    """A Keras callback that records wall seconds per epoch."""

    def __new__(cls):
        import time
        import tensorflow as tf

        class _Timer(tf.keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.seconds = []

            def on_epoch_begin(self, epoch, logs=None):
                self._t = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                self.seconds.append(time.perf_counter() - self._t)
        return _Timer()
