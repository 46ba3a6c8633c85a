"""Checks of the committed testdata/keras3 fixtures, from their files alone: no TensorFlow.

    python -m pytest scripts/keras3/test_fixtures.py -q     # needs numpy, onnx, pytest

With onnxruntime importable, ONNX Runtime is rerun on every data set too. With the IMDB data
(`$BIRNN_DATA` or ../shared/data) the inputs are compared with birnn's load_data recipe; without
it those tests skip, and fail when CI=true.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fixturecheck  # noqa: E402
import onnxfixture as fx  # noqa: E402
from onnxfixture import imdb_data  # noqa: E402

ROOT = imdb_data.repo_root() / "testdata" / "keras3"
FOLDERS = [p.name for p in fx.fixture_folders(ROOT)]
LOOP = {"gru_stack_softmax", "bigru", "simple_rnn", "lstm_mask_zero", "lstm_recurrent_dropout"}
REQUIRED = LOOP | {"conv1d_lstm", "conv1d", "transformer", "lstm", "bilstm"}


def test_every_model_present():
    assert REQUIRED <= set(FOLDERS), sorted(REQUIRED - set(FOLDERS))


@pytest.mark.parametrize("name", FOLDERS)
def test_fixture_consistent(name):
    assert fixturecheck.problems(ROOT / name) == []
    assert fixturecheck.edge_rows_ok(ROOT / name) == []


@pytest.mark.parametrize("name", FOLDERS)
def test_producer_versions(name):
    info = fx.load_info(ROOT / name)
    v = info["versions"]
    assert info["producer"] == "keras"
    assert v["tensorflow"].startswith("2.21.") and v["keras"].startswith("3.15.")
    assert v["tf2onnx"].startswith("1.17.") and v["python"].startswith("3.11.")
    assert "format='onnx'" in info["export"]["how"] or "tf2onnx" in info["export"]["how"]
    # Trained, not random: better than chance on the 25,000 test reviews.
    assert info["test"]["rows"] == 25000 and info["test"]["accuracy"] > 0.6


@pytest.mark.parametrize("name", FOLDERS)
def test_recurrent_form(name):
    """What the README says of each export: the Loop models carry their cell in a Loop body,
    lstm and bilstm are one ONNX LSTM node and nothing else recurrent."""
    ops = fx.load_info(ROOT / name)["ops"]
    if name in LOOP:
        assert ops["graph"].get("Loop", 0) >= 1
        assert all(s["op"] == "Loop" for s in ops["subgraphs"]) and ops["subgraphs"]
        assert {"MatMul", "Less", "And"} <= set().union(*(s["ops"] for s in ops["subgraphs"]))
    elif name in ("lstm", "bilstm", "conv1d_lstm"):
        assert ops["graph"].get("LSTM") == 1 and "Loop" not in ops["total"]
    else:
        assert not ops["subgraphs"]


def test_checker_refuses_a_location_outside(tmp_path):
    """The external-data check the fixtures pass is able to fail."""
    import onnx
    src = ROOT / "lstm"
    if not (src / fx.MODEL).is_file():
        pytest.skip("no lstm fixture")
    m = fx.load_model(src)
    t = max(m.graph.initializer, key=lambda t: len(t.raw_data))
    for loc in ("../outside.bin", "/etc/passwd"):
        t2 = onnx.TensorProto()
        t2.CopyFrom(t)
        t2.ClearField("raw_data")
        t2.data_location = onnx.TensorProto.EXTERNAL
        del t2.external_data[:]
        t2.external_data.add(key="location", value=loc)
        t2.external_data.add(key="length", value="4")
        m2 = onnx.ModelProto()
        m2.CopyFrom(m)
        for i, x in enumerate(m2.graph.initializer):
            if x.name == t.name:
                m2.graph.initializer[i].CopyFrom(t2)
        (tmp_path / "outside.bin").write_bytes(b"\0" * 16)
        d = tmp_path / "m"
        d.mkdir(exist_ok=True)
        with pytest.raises(fx.FixtureError, match="leaves|absolute"):
            fx.external_data(m2, d)


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


def test_check_catches_damage(tmp_path):
    """fixturecheck.problems is able to fail: a changed producer output, a missing ORT output
    and a stray file are each reported."""
    import shutil
    src = ROOT / "lstm"
    if not (src / fx.MODEL).is_file():
        pytest.skip("no lstm fixture")
    for damage in ("output", "missing", "stray"):
        d = tmp_path / damage / "lstm"
        shutil.copytree(src, d)
        s = d / "test_data_set_0"
        if damage == "output":
            name, y = fx.read_tensor(s / "output_0.pb")
            y = y.copy()
            y[3, 0] += 1e-4
            fx.write_tensor(s / "output_0.pb", y, name)
        elif damage == "missing":
            (s / "ort_output_0.pb").unlink()
        else:
            (d / "weights.bin").write_bytes(b"x")
        assert fixturecheck.problems(d), damage
