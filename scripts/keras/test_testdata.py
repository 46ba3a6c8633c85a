"""Checks of the committed testdata/keras fixtures: formats, and ONNX Runtime reproducing the
Keras predictions stored beside each export.

    scripts/keras/.venv/bin/python -m pytest scripts/keras -q
"""

import json
import os
from pathlib import Path

import numpy as np
import pytest

import imdb_data

ROOT = imdb_data.repo_root() / "testdata" / "keras"
STUDY = ["deep_lstm", "bilstm", "deep_bilstm", "deep_bilstm_rmsprop_dropout", "deep_bilstm_adam_dropout"]
FOLDERS = sorted(p.name for p in ROOT.iterdir() if (p / "model.onnx").is_file()) if ROOT.is_dir() else []
VERSION_KEYS = {"python", "tensorflow", "keras", "tf2onnx", "onnx", "onnxruntime", "numpy"}


def _load(name, file):
    with open(ROOT / name / file) as f:
        return json.load(f)


def test_fixtures_present():
    assert len(FOLDERS) >= 5, FOLDERS


@pytest.mark.parametrize("name", FOLDERS)
def test_folder_format(name):
    info = _load(name, "info.json")
    pred = _load(name, "predictions.json")
    metrics = _load(name, "metrics.json")
    assert VERSION_KEYS <= set(info["versions"])
    assert info["versions"]["tensorflow"].startswith("2.15.")
    for k in ("num_words", "maxlen", "padding", "truncating", "optimizer", "seconds_per_epoch"):
        assert k in info, k
    x = np.asarray(pred["x"])
    out = np.asarray(pred["outputs"])
    assert pred["rows"] == list(range(len(x)))
    assert x.shape == (2000, info["maxlen"])
    assert x.min() >= 0 and x.max() < info["num_words"]
    assert out.shape[0] == 2000 and out.shape[1] in (1, 2)
    assert np.all((out >= 0) & (out <= 1))
    # Exact float32 values: converting to float32 and back changes nothing.
    assert np.array_equal(out.astype(np.float32).astype(np.float64), out)
    assert f"num_words={info['num_words']}" in pred["inputs"]
    assert metrics["n"] == 25000 and 0.5 < metrics["accuracy"] <= 1
    # Non-random: better than chance on the whole test split.
    assert metrics["accuracy"] > 0.55


@pytest.mark.parametrize("name", [n for n in STUDY if n in FOLDERS])
def test_study_files(name):
    hist = _load(name, "history.json")
    assert list(hist) == ["loss", "accuracy", "val_loss", "val_accuracy", "seconds"]
    assert all(len(v) == 4 for v in hist.values())
    labels = (ROOT / name / "test_labels.txt").read_text().strip()
    assert len(labels) == 25000 and set(labels) <= {"0", "1"}
    info = _load(name, "info.json")
    assert info["params"] == info["published"]["params"]
    assert info["num_words"] == 4000 and info["maxlen"] == 100 and info["padding"] == "post"


@pytest.fixture(scope="module")
def y_test():
    try:
        _, (_, y) = imdb_data.load_data(4000)
    except imdb_data.DataError as e:
        if os.environ.get("CI") == "true":
            pytest.fail(str(e))
        pytest.skip(str(e))
    return y


@pytest.mark.parametrize("name", [n for n in STUDY if n in FOLDERS])
def test_study_labels_give_accuracy(name, y_test):
    text = (ROOT / name / "test_labels.txt").read_text().strip()
    labels = np.frombuffer(text.encode(), dtype=np.uint8) - ord("0")
    acc = float(np.mean(labels == y_test))
    assert acc == pytest.approx(_load(name, "metrics.json")["accuracy"], abs=1e-6)


@pytest.mark.parametrize("name", FOLDERS)
def test_onnxruntime_reproduces_keras(name):
    ort = pytest.importorskip("onnxruntime")
    pred = _load(name, "predictions.json")
    sess = ort.InferenceSession(str(ROOT / name / "model.onnx"), providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    assert inp.name == "embedding_input"
    got = sess.run(None, {inp.name: np.asarray(pred["x"], dtype=np.float32)})[0]
    want = np.asarray(pred["outputs"])
    assert got.shape == want.shape
    assert np.max(np.abs(got - want)) < 1e-4
