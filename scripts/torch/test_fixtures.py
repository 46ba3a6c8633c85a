"""Checks of the committed testdata/torch fixtures, from their files alone: no PyTorch.

    python -m pytest scripts/torch/test_fixtures.py -q      # needs numpy, onnx, pytest

Every model of the grid is there twice, `<name>_legacy` (opset 17, weights inline) and
`<name>_dynamo` (opset 18+, weights in model.onnx.data), with the same PyTorch outputs. With
onnxruntime importable, ONNX Runtime is rerun on every data set too. With the IMDB data
(`$BIRNN_DATA` or ../shared/data) the inputs are compared with birnn's load_data recipe;
without it those tests skip, and fail when CI=true.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "keras3"))
import fixturecheck  # noqa: E402
import onnxfixture as fx  # noqa: E402
from onnxfixture import imdb_data  # noqa: E402

ROOT = imdb_data.repo_root() / "testdata" / "torch"
FOLDERS = [p.name for p in fx.fixture_folders(ROOT)]
MODELS = sorted({n.rsplit("_", 1)[0] for n in FOLDERS})


def test_grid_present():
    assert len(MODELS) >= 12, MODELS
    cells = {fx.load_info(ROOT / f)["model"]["cell"] for f in FOLDERS}
    assert cells == {"nn.LSTM", "nn.GRU", "nn.RNN"}
    pools = {fx.load_info(ROOT / f)["model"]["pooling"] for f in FOLDERS}
    assert {"last", "max", "mean"} <= pools
    classes = {fx.load_info(ROOT / f)["model"]["classes"] for f in FOLDERS}
    assert classes == {1, 3}


@pytest.mark.parametrize("model", MODELS)
def test_both_exporters(model):
    assert sorted(n for n in FOLDERS if n.rsplit("_", 1)[0] == model) == \
        [f"{model}_dynamo", f"{model}_legacy"]


@pytest.mark.parametrize("name", FOLDERS)
def test_fixture_consistent(name):
    assert fixturecheck.problems(ROOT / name) == []
    assert fixturecheck.edge_rows_ok(ROOT / name) == []


@pytest.mark.parametrize("name", FOLDERS)
def test_exporter_form(name):
    """Legacy: opset 17, every tensor inline. Dynamo: opset >= 18 and every initializer of more than
    256 bytes in model.onnx.data (onnx_ir's save keeps the others inline)."""
    import onnx
    info = fx.load_info(ROOT / name)
    m = fx.load_model(ROOT / name)
    opset = {o.domain or "ai.onnx": o.version for o in m.opset_import}["ai.onnx"]
    kind = name.rsplit("_", 1)[1]
    assert info["export"]["exporter"] == kind
    assert info["versions"]["torch"].startswith("2.")
    ext = fx.external_data(m, ROOT / name)
    if kind == "legacy":
        assert opset == 17 and ext["tensors"] == 0 and "dynamo=False" in info["export"]["how"]
        assert not (ROOT / name / "model.onnx.data").exists()
    else:
        assert opset >= 18 and "dynamo=True" in info["export"]["how"]
        assert list(ext["files"]) == ["model.onnx.data"]
        big = [t for t in m.graph.initializer
               if np.prod(t.dims, dtype=np.int64) * np.dtype(
                   onnx.helper.tensor_dtype_to_np_dtype(t.data_type)).itemsize > 256]
        assert big and all(t.data_location == onnx.TensorProto.EXTERNAL for t in big), \
            [t.name for t in big if t.data_location != onnx.TensorProto.EXTERNAL]


@pytest.mark.parametrize("model", MODELS)
def test_same_producer_outputs(model):
    """Both exports of a model hold the same inputs and the same PyTorch outputs, bit for bit."""
    for s in fixturecheck.SET_ROWS:
        a = [fx.read_tensor(ROOT / f"{model}_{k}" / s / "input_0.pb")[1] for k in ("legacy", "dynamo")]
        b = [fx.read_tensor(ROOT / f"{model}_{k}" / s / "output_0.pb")[1] for k in ("legacy", "dynamo")]
        np.testing.assert_array_equal(a[0], a[1])
        np.testing.assert_array_equal(b[0], b[1])


@pytest.mark.parametrize("name", FOLDERS)
def test_trained(name):
    info = fx.load_info(ROOT / name)
    chance = 0.5 if info["model"]["classes"] == 1 else 0.45
    assert info["test"]["rows"] == 25000 and info["test"]["accuracy"] > chance


@pytest.mark.parametrize("name", FOLDERS)
def test_onnxruntime_reruns(name):
    pytest.importorskip("onnxruntime")
    assert fixturecheck.ort_problems(ROOT / name) == []


@pytest.fixture(scope="module")
def x_test():
    return fixturecheck.imdb_test_split()


@pytest.mark.parametrize("name", FOLDERS)
def test_inputs_are_imdb_rows(name, x_test):
    assert fixturecheck.imdb_input_problems(ROOT / name, x_test) == []


def test_check_catches_external_damage(tmp_path):
    """fixturecheck.problems is able to fail on external data: a truncated data file and a
    location that leaves the folder are both reported."""
    import shutil
    import onnx
    dyn = [n for n in FOLDERS if n.endswith("_dynamo")]
    if not dyn:
        pytest.skip("no dynamo fixture")
    src = ROOT / dyn[0]
    d = tmp_path / "a" / src.name
    shutil.copytree(src, d)
    data = d / "model.onnx.data"
    data.write_bytes(data.read_bytes()[:-8])
    assert any("outside" in p or "range" in p for p in fixturecheck.problems(d))

    d = tmp_path / "b" / src.name
    shutil.copytree(src, d)
    shutil.move(str(d / "model.onnx.data"), str(d.parent / "model.onnx.data"))
    m = onnx.load(str(d / "model.onnx"), load_external_data=False)
    for t in m.graph.initializer:
        for e in t.external_data:
            if e.key == "location":
                e.value = "../model.onnx.data"
    onnx.save(m, str(d / "model.onnx"))
    assert any("leaves" in p for p in fixturecheck.problems(d))
