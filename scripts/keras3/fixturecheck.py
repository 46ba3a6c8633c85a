"""Checks that one committed fixture folder is complete and self-consistent, from its files
alone (numpy and onnx; no TensorFlow, no PyTorch). Used by scripts/keras3/test_fixtures.py and
scripts/torch/test_fixtures.py.

`problems(folder)` re-derives every fact it can from the files and compares it with what
info.json records: the graph's inputs, outputs and operator histogram, the external data
(locations inside the folder, ranges inside the file), the data sets' names, dtypes and shapes,
and the producer-vs-ONNX-Runtime differences, recomputed from output_J.pb and ort_output_J.pb.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import onnxfixture as fx

MAX_BYTES = 2_000_000  # model.onnx plus its external data
SET_ROWS = {"test_data_set_0": 64, "test_data_set_1": 8, "test_data_set_2": 1}
INFO_KEYS = ("name", "producer", "export", "model", "data", "train", "test", "versions",
             "onnx", "ops", "data_sets", "max_abs_diff", "tolerance", "ok", "producer_outputs")


def problems(folder: Path) -> list[str]:
    """Everything wrong with a fixture folder; empty when it is sound."""
    folder = Path(folder)
    out: list[str] = []
    try:
        info = fx.load_info(folder)
    except (OSError, ValueError) as e:
        return [f"info.json: {e}"]
    out += [f"info.json: no {k!r}" for k in INFO_KEYS if k not in info]
    if out:
        return out
    if info["name"] != folder.name:
        out.append(f"info.json names {info['name']!r}, folder is {folder.name!r}")
    if info["tolerance"] != fx.TOLERANCE or info["ok"] is not True:
        out.append(f"tolerance {info['tolerance']} / ok {info['ok']}: want {fx.TOLERANCE} / true")
    if not info["export"].get("how"):
        out.append("info.json: export.how is empty")

    try:
        model = fx.load_model(folder)
    except Exception as e:  # a corrupt file: name it
        return out + [f"model.onnx: {e}"]
    try:
        import onnx
        onnx.checker.check_model(str(folder / fx.MODEL))
    except Exception as e:
        out.append(f"onnx.checker: {e}")

    io = fx.io_info(model)
    for k in ("inputs", "outputs"):
        if io[k] != info["onnx"][k]:
            out.append(f"graph {k} {io[k]} != info.json {info['onnx'][k]}")
    if fx.op_histogram(model) != info["ops"]:
        out.append("operator histogram of model.onnx differs from info.json's")
    try:
        ext = fx.external_data(model, folder)
    except fx.FixtureError as e:
        out.append(f"external data: {e}")
        ext = None
    if ext is not None and ext != info["onnx"]["external_data"]:
        out.append(f"external data {ext} != info.json {info['onnx']['external_data']}")
    referenced = set(ext["files"]) if ext else set()
    for p in folder.iterdir():
        if p.is_file() and p.name not in (fx.MODEL, fx.INFO) and p.name not in referenced:
            out.append(f"stray file {p.name}")
    size = sum(p.stat().st_size for p in folder.glob(fx.MODEL + "*"))
    if size > MAX_BYTES:
        out.append(f"model files take {size} bytes (> {MAX_BYTES})")

    out += _check_sets(folder, info, io)
    return out


def _check_sets(folder: Path, info: dict, io: dict) -> list[str]:
    out = []
    recorded = {s["dir"]: s for s in info["data_sets"]}
    if set(recorded) != set(SET_ROWS):
        out.append(f"data sets {sorted(recorded)} != {sorted(SET_ROWS)}")
    maxlen, num_words = info["data"]["maxlen"], info["data"]["num_words"]
    graph_in = io["inputs"][0]
    worst = 0.0
    for name, rows in SET_ROWS.items():
        d = folder / name
        if not d.is_dir():
            out.append(f"{name}: missing")
            continue
        expected = {"input_0.pb"} | {f"{p}output_{j}.pb" for j in range(len(io["outputs"]))
                                     for p in ("", "ort_")}
        got_files = {p.name for p in d.iterdir()}
        if got_files != expected:
            out.append(f"{name}: files {sorted(got_files)}, want {sorted(expected)}")
            continue
        in_name, x = fx.read_tensor(d / "input_0.pb")
        if in_name != graph_in["name"] or x.dtype.name != graph_in["dtype"]:
            out.append(f"{name}: input {in_name!r} {x.dtype}, graph wants {graph_in['name']!r} "
                       f"{graph_in['dtype']}")
        if x.shape != (rows, maxlen):
            out.append(f"{name}: input shape {x.shape}, want {(rows, maxlen)}")
        if x.size and (x.min() < 0 or x.max() >= num_words):
            out.append(f"{name}: ids outside [0, {num_words})")
        diffs = []
        for j, o in enumerate(io["outputs"]):
            n1, want = fx.read_tensor(d / f"output_{j}.pb")
            n2, ort = fx.read_tensor(d / f"ort_output_{j}.pb")
            if n1 != o["name"] or n2 != o["name"]:
                out.append(f"{name}: output {j} named {n1!r}/{n2!r}, graph says {o['name']!r}")
            if want.dtype != np.float32 or ort.dtype != np.float32:
                out.append(f"{name}: output {j} dtypes {want.dtype}/{ort.dtype}, want float32")
            static = [v if isinstance(v, int) else rows for v in o["shape"]]
            if list(want.shape) != static or ort.shape != want.shape:
                out.append(f"{name}: output {j} shapes {want.shape}/{ort.shape}, graph {o['shape']}")
                continue
            if not np.all(np.isfinite(want)) or want.min() < 0 or want.max() > 1:
                out.append(f"{name}: output {j} holds values outside [0, 1]")
            if want.ndim == 2 and want.shape[1] > 1 and \
                    np.max(np.abs(want.astype(np.float64).sum(1) - 1)) > 1e-5:
                out.append(f"{name}: softmax rows of output {j} do not sum to 1")
            diffs.append(fx.max_abs_diff(want, ort))
        rec = recorded.get(name, {}).get("max_abs_diff")
        if rec is None or len(rec) != len(diffs) or \
                any(not math.isclose(a, b, rel_tol=0, abs_tol=1e-12) for a, b in zip(rec, diffs)):
            out.append(f"{name}: recorded max_abs_diff {rec}, files give {diffs}")
        if diffs and max(diffs) > fx.TOLERANCE:
            out.append(f"{name}: max |ORT - producer| {max(diffs):g} > {fx.TOLERANCE:g}")
        worst = max([worst, *diffs])
    if not math.isclose(worst, info["max_abs_diff"], rel_tol=0, abs_tol=1e-12):
        out.append(f"max_abs_diff {info['max_abs_diff']} recorded, files give {worst}")
    return out


def edge_rows_ok(folder: Path) -> list[str]:
    """The all-padding rows of test_data_set_1 (rows 3 and 4) are zeros, the others are not."""
    _, x = fx.read_tensor(Path(folder) / "test_data_set_1" / "input_0.pb")
    zero = [bool(np.all(r == 0)) for r in x]
    return [] if zero == [False, False, False, True, True, False, False, False] else \
        [f"all-padding rows are {[i for i, z in enumerate(zero) if z]}, want [3, 4]"]


def ort_problems(folder: Path) -> list[str]:
    """Run ONNX Runtime on each data set and compare with the stored ORT and producer outputs."""
    folder = Path(folder)
    io = fx.io_info(fx.load_model(folder))
    out = []
    for name in SET_ROWS:
        d = folder / name
        _, x = fx.read_tensor(d / "input_0.pb")
        got = fx.ort_run(folder / fx.MODEL, {io["inputs"][0]["name"]: x})
        for j, g in enumerate(got):
            _, stored = fx.read_tensor(d / f"ort_output_{j}.pb")
            _, want = fx.read_tensor(d / f"output_{j}.pb")
            for what, ref in (("stored ORT", stored), ("producer", want)):
                diff = fx.max_abs_diff(np.asarray(g), ref)
                if diff > fx.TOLERANCE:
                    out.append(f"{name}: output {j}: ONNX Runtime here vs {what}: {diff:g}")
    return out


def imdb_test_split():
    """The unpadded test split of imdb_data.load_data(4000), for comparing inputs with it; a
    pytest skip without the data folder, a failure when CI=true."""
    import os
    import pytest
    try:
        _, (x, _) = fx.imdb_data.load_data(4000)
    except fx.imdb_data.DataError as e:
        if os.environ.get("CI") == "true":
            pytest.fail(str(e))
        pytest.skip(str(e))
    return x


def imdb_input_problems(folder: Path, x_test) -> list[str]:
    """test_data_set_0 and _2 hold test rows 0-63 and 64 of load_data, padded as info.json says."""
    info = fx.load_info(folder)
    d = info["data"]
    out = []
    for set_name, first in (("test_data_set_0", 0), ("test_data_set_2", 64)):
        _, x = fx.read_tensor(Path(folder) / set_name / "input_0.pb")
        want = fx.imdb_data.pad_sequences(list(x_test[first:first + len(x)]), d["maxlen"],
                                          d["padding"], d["truncating"])
        if not np.array_equal(x, want):
            out.append(f"{set_name}: input differs from load_data's test rows {first}..")
    return out
