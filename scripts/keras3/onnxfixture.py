"""One ONNX fixture folder: the files, the ONNX Runtime check and the facts of info.json.

Shared by the Keras 3 generator (scripts/keras3/generate.py), the PyTorch generator
(scripts/torch/generate.py) and both test_fixtures.py. Importing it needs numpy and onnx only;
ONNX Runtime is imported where it is used.

A fixture folder is laid out as an ONNX backend node test, so any runner of those tests (ONNX's
own, `birnn conformance`) runs it as it is:

    model.onnx                        the export
    model.onnx.data                   its external data (PyTorch's dynamo exporter only)
    test_data_set_K/input_0.pb        TensorProto: word ids fed to the model's one input
    test_data_set_K/output_J.pb       TensorProto: the producer's own output J, float32
    test_data_set_K/ort_output_J.pb   TensorProto: ONNX Runtime's output J for the same input
    info.json                         producer, exporter, model, data, ops, diffs, versions

Every TensorProto is written by `onnx.numpy_helper.from_array` (raw_data, little endian) and
named after the graph input or output it belongs to.
"""

from __future__ import annotations

import collections
import json
import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "keras"))

from kexport import atomic_write, write_json  # noqa: E402  (scripts/keras)
import imdb_data  # noqa: E402,F401  (scripts/keras; re-exported for the generators)

TOLERANCE = 1e-5
MODEL = "model.onnx"
INFO = "info.json"

# The data sets of every fixture: name -> what it holds. Their rows come from data_sets().
SETS = {
    "test_data_set_0": "the first 64 rows of the IMDB test split",
    "test_data_set_1": "8 edge rows: start token only, 4 and 5 tokens, two all-padding rows, "
                       "a review longer than maxlen (truncated), the largest id repeated, "
                       "a row of out-of-vocabulary ids (2)",
    "test_data_set_2": "one review (test row 64), batch 1",
}


class FixtureError(Exception):
    """An export disagrees with its producer, or a fixture folder is malformed."""


def data_sets(x_test_unpadded, num_words: int, maxlen: int, padding: str = "post",
              truncating: str = "pre", dtype=np.int32) -> dict[str, np.ndarray]:
    """The three input batches of a fixture, ids `[rows, maxlen]` of dtype.

    x_test_unpadded: the test split of `imdb_data.load_data(num_words)` (Keras order).
    """
    def pad(rows):
        return imdb_data.pad_sequences(rows, maxlen, padding, truncating).astype(dtype)

    long_row = next(list(r) for r in x_test_unpadded if len(r) > maxlen + 10)
    first = list(x_test_unpadded[0])
    edge = [
        [1],
        first[:4],
        first[:5],
        [],
        [],
        long_row,
        [1] + [num_words - 1] * 20,
        [1] + [2] * 30,
    ]
    return {
        "test_data_set_0": pad(list(x_test_unpadded[:64])),
        "test_data_set_1": pad(edge),
        "test_data_set_2": pad(list(x_test_unpadded[64:65])),
    }


def write_tensor(path: Path, a: np.ndarray, name: str) -> None:
    from onnx import numpy_helper
    t = numpy_helper.from_array(np.ascontiguousarray(a), name=name)
    atomic_write(path, t.SerializeToString())


def read_tensor(path: Path):
    """(name, array) of a TensorProto file."""
    import onnx
    from onnx import numpy_helper
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t.name, numpy_helper.to_array(t)


def load_model(folder: Path, with_data: bool = False):
    """The ModelProto of folder/model.onnx, external data left unloaded unless with_data."""
    import onnx
    return onnx.load(str(Path(folder) / MODEL), load_external_data=with_data)


def _subgraphs(node):
    import onnx
    for a in node.attribute:
        if a.type == onnx.AttributeProto.GRAPH:
            yield a.name, a.g
        elif a.type == onnx.AttributeProto.GRAPHS:
            for i, g in enumerate(a.graphs):
                yield f"{a.name}[{i}]", g


def op_histogram(model) -> dict:
    """Operator counts: `graph` (main graph), `subgraphs` (one entry per Loop/Scan/If body,
    nested ones included, each named by its path of nodes), `total` (everything)."""
    total = collections.Counter()
    subs = []

    def walk(graph, path):
        c = collections.Counter()
        for n in graph.node:
            key = n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}.{n.op_type}"
            c[key] += 1
            for attr, g in _subgraphs(n):
                sub_path = f"{path}/{n.op_type}({n.name}).{attr}"
                subs.append({"path": sub_path.lstrip("/"), "op": n.op_type, "node": n.name,
                             "attribute": attr, "ops": walk(g, sub_path)})
        total.update(c)
        return dict(sorted(c.items()))

    main = walk(model.graph, "")
    subs.sort(key=lambda s: s["path"])
    return {"graph": main, "subgraphs": subs, "total": dict(sorted(total.items()))}


def _dims(vi):
    return [d.dim_param if d.dim_param else (d.dim_value if d.HasField("dim_value") else None)
            for d in vi.type.tensor_type.shape.dim]


def io_info(model) -> dict:
    import onnx
    init = {t.name for t in model.graph.initializer}

    def one(vi):
        return {"name": vi.name,
                "dtype": onnx.helper.tensor_dtype_to_np_dtype(vi.type.tensor_type.elem_type).name,
                "shape": _dims(vi)}
    return {"inputs": [one(v) for v in model.graph.input if v.name not in init],
            "outputs": [one(v) for v in model.graph.output]}


def _all_tensors(model):
    """Every TensorProto held by the model: initializers and Constant/attribute tensors, in
    subgraphs too."""
    import onnx

    def graph_tensors(g):
        yield from g.initializer
        for n in g.node:
            for a in n.attribute:
                if a.type == onnx.AttributeProto.TENSOR:
                    yield a.t
                elif a.type == onnx.AttributeProto.TENSORS:
                    yield from a.tensors
            for _, sub in _subgraphs(n):
                yield from graph_tensors(sub)
    yield from graph_tensors(model.graph)


def external_data(model, folder: Path) -> dict:
    """The external tensors of a model: {"files": {location: bytes used}, "tensors": n,
    "inline_tensors": n}. Raises FixtureError when a location is absolute, leaves folder
    (`..`, a symlink out) or a range runs past its file's end."""
    import onnx
    folder = Path(folder).resolve()
    files: dict[str, int] = {}
    n_ext = n_inline = 0
    for t in _all_tensors(model):
        if t.data_location != onnx.TensorProto.EXTERNAL:
            n_inline += 1
            continue
        n_ext += 1
        kv = {e.key: e.value for e in t.external_data}
        loc = kv.get("location", "")
        if not loc or os.path.isabs(loc):
            raise FixtureError(f"tensor {t.name!r}: external location {loc!r} is empty or absolute")
        path = (folder / loc).resolve()
        if folder not in path.parents:
            raise FixtureError(f"tensor {t.name!r}: external location {loc!r} leaves {folder}")
        if not path.is_file():
            raise FixtureError(f"tensor {t.name!r}: external file {loc!r} not found")
        off, length = int(kv.get("offset", 0)), int(kv.get("length", -1))
        size = path.stat().st_size
        if length < 0 or off + length > size:
            raise FixtureError(f"tensor {t.name!r}: range {off}+{length} outside {loc!r} "
                               f"({size} bytes)")
        files[loc] = files.get(loc, 0) + length
    return {"files": dict(sorted(files.items())), "tensors": n_ext, "inline_tensors": n_inline}


def ort_run(model_path: Path, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    """ONNX Runtime's outputs (one thread, all graph optimisations) for feeds."""
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def max_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    if a.shape != b.shape:
        raise FixtureError(f"shapes {a.shape} and {b.shape} differ")
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))) if a.size else 0.0


def record(folder: Path, sets: dict[str, np.ndarray], predict, info: dict,
           tolerance: float = TOLERANCE, label: str | None = None) -> dict:
    """Write the data sets of an exported model and its info.json; returns info as written.

    folder must already hold model.onnx (and its external data). sets: data set name -> ids
    `[rows, maxlen]`. predict(ids) -> list of float32 arrays, the producer's outputs in the
    order of the ONNX graph outputs. info: the generator's facts (producer, export, model,
    data, train, versions); the ONNX facts and the diffs are added here.
    Raises FixtureError when the ONNX Runtime outputs differ from the producer's by more than
    tolerance (info.json is then still written, with "ok": false, so the failure can be read).
    """
    folder = Path(folder)
    label = label or folder.name
    model = load_model(folder)
    io = io_info(model)
    if len(io["inputs"]) != 1:
        raise FixtureError(f"{label}: {len(io['inputs'])} graph inputs, want 1")
    in_name = io["inputs"][0]["name"]
    out_names = [o["name"] for o in io["outputs"]]
    results = []
    worst = 0.0
    for set_name, x in sets.items():
        d = folder / set_name
        want = [np.asarray(o, dtype=np.float32) for o in predict(x)]
        got = ort_run(folder / MODEL, {in_name: x})
        if len(want) != len(out_names) or len(got) != len(out_names):
            raise FixtureError(f"{label}: {len(want)} producer outputs, {len(got)} ORT "
                               f"outputs, {len(out_names)} graph outputs")
        write_tensor(d / "input_0.pb", x, in_name)
        diffs = []
        for j, (w, g) in enumerate(zip(want, got)):
            write_tensor(d / f"output_{j}.pb", w, out_names[j])
            write_tensor(d / f"ort_output_{j}.pb", np.asarray(g), out_names[j])
            diffs.append(max_abs_diff(w, np.asarray(g)))
        worst = max(worst, *diffs)
        results.append({"dir": set_name, "what": SETS.get(set_name, set_name),
                        "input_shape": list(x.shape), "input_dtype": x.dtype.name,
                        "output_shapes": [list(w.shape) for w in want],
                        "max_abs_diff": diffs})
    full = dict(info)
    full.update({
        "onnx": {"opset": {(o.domain or "ai.onnx"): o.version for o in model.opset_import},
                 "ir_version": model.ir_version, "producer_name": model.producer_name,
                 "producer_version": model.producer_version, **io,
                 "external_data": external_data(model, folder),
                 "bytes": {p.name: p.stat().st_size for p in sorted(folder.glob(MODEL + "*"))}},
        "ops": op_histogram(model),
        "data_sets": results,
        "max_abs_diff": worst,
        "tolerance": tolerance,
        "ok": worst <= tolerance,
    })
    write_json(folder / INFO, full)
    print(f"{label}: max |ORT - producer| = {worst:.3g}", flush=True)
    if not worst <= tolerance:
        raise FixtureError(f"{label}: max |ORT - producer| = {worst:g} > {tolerance:g}")
    return full


def produce(out: Path, name: str, export, sets: dict[str, np.ndarray], predict, info: dict,
            check=None) -> bool:
    """Export, record and publish one fixture folder out/name; report a failure and go on.

    export(path) writes model.onnx (and its external data) into a fresh hidden folder
    out/.name.tmp and returns how (a string kept as info["export"]["how"]); check(tmp), when
    given, may raise FixtureError about the export's form; then record() writes the data sets
    and info.json and the folder replaces out/name. Any failure (the exporter's, ONNX
    Runtime's, a difference above the tolerance) is printed with the folder left in place for
    reading, and returns False.
    """
    import shutil
    out = Path(out)
    tmp = out / f".{name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        info = dict(info, export=dict(info.get("export", {}), how=export(tmp / MODEL)))
        if check is not None:
            check(tmp)
        record(tmp, sets, predict, info, label=name)
        publish(tmp, out / name)
        return True
    except Exception as e:  # the exporter's, ONNX Runtime's or a diff: report it, go on
        print(f"{name}: {type(e).__name__}: {e}"[:2000], file=sys.stderr)
        print(f"{name}: files left in {tmp}", file=sys.stderr)
        return False


def parse_args(description: str, default_out: str, names, argv=None):
    """The generators' command line: --out, --only (validated against names), --train-rows."""
    import argparse
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--out", default=default_out, help="parent folder of the model folders")
    ap.add_argument("--only", help="comma-separated model names")
    ap.add_argument("--train-rows", type=int, default=25000, help="training rows (smoke tests: fewer)")
    a = ap.parse_args(argv)
    a.names = a.only.split(",") if a.only else list(names)
    for n in a.names:
        if n not in names:
            ap.error(f"unknown model {n!r} (have {', '.join(names)})")
    return a


def run(main) -> None:
    """Run a generator's main() -> failed folder names; exit 1 when any failed."""
    import time
    t0 = time.time()
    failed = main()
    if failed:
        print("generate: failed:", ", ".join(failed), file=sys.stderr)
    print(f"generate: done in {time.time() - t0:.0f} s", file=sys.stderr)
    sys.exit(1 if failed else 0)


def load_info(folder: Path) -> dict:
    with open(Path(folder) / INFO) as f:
        return json.load(f)


def fixture_folders(root: Path) -> list[Path]:
    """The fixture folders under root (those holding model.onnx, hidden ones skipped), sorted."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if not p.name.startswith(".") and (p / MODEL).is_file())


def publish(tmp: Path, folder: Path) -> None:
    """Replace folder by the finished tmp folder (a rename; the old folder is removed first)."""
    import shutil
    if folder.exists():
        old = folder.with_name("." + folder.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(folder, old)
        shutil.rmtree(old)
    os.replace(tmp, folder)
