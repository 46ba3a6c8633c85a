"""The Open Inference Protocol v2 of `birnn serve`, driven by Triton's own
Python client (tritonclient, HTTP and gRPC) against the live process.

The server is started here on a model repository holding Keras's
deep_bilstm export (two versions) and deep_lstm export; scores are checked
against Keras's own predictions (testdata/keras/*/predictions.json), so
nothing expected comes from birnn.

    BIRNN_BIN=/tmp/birnn "$(scripts/tritonclient/setup.sh)" -m pytest -q scripts/tritonclient
"""

import json
import os
import pathlib
import shutil
import socket
import subprocess
import time
import urllib.request

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

ROOT = pathlib.Path(__file__).resolve().parents[2]
KERAS = ROOT / "testdata" / "keras"


def data_dir():
    d = pathlib.Path(os.environ.get("BIRNN_DATA", ROOT.parent / "shared" / "data"))
    return d / "imdb" if (d / "imdb").is_dir() else d


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keras_rows(run, n):
    p = json.loads((KERAS / run / "predictions.json").read_text())
    x = np.array(p["x"][:n], dtype=np.float32)
    y = np.array(p["outputs"][:n], dtype=np.float32).reshape(n, -1)
    return x, y


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    binary = os.environ.get("BIRNN_BIN")
    if not binary:
        pytest.fail("set BIRNN_BIN to a built birnn binary (go build -o /tmp/birnn ./cmd/birnn)")
    word_index = data_dir() / "imdb_word_index.json"
    if not word_index.is_file():
        pytest.fail(f"no word index at {word_index} (set BIRNN_DATA)")
    repo = tmp_path_factory.mktemp("repo")
    for name, version in [("deep_bilstm", 1), ("deep_bilstm", 2), ("deep_lstm", 1)]:
        (repo / name / str(version)).mkdir(parents=True)
        shutil.copy(KERAS / name / "model.onnx", repo / name / str(version) / "model.onnx")
    http_port, grpc_port = free_port(), free_port()
    log = open(repo / "server.log", "w")
    proc = subprocess.Popen(
        [binary, "serve", "--model-repository", str(repo), "--word-index", str(word_index),
         "--addr", f"127.0.0.1:{http_port}", "--grpc-addr", f"127.0.0.1:{grpc_port}",
         "--default-model", "deep_bilstm", "--max-reviews", "64", "--max-body-bytes", "200000"],
        stdout=log, stderr=subprocess.STDOUT)
    http = httpclient.InferenceServerClient(f"127.0.0.1:{http_port}")
    grpc = grpcclient.InferenceServerClient(f"127.0.0.1:{grpc_port}")
    deadline = time.monotonic() + 120
    while True:
        try:
            if http.is_server_ready() and grpc.is_server_ready():
                break
        except Exception:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("birnn serve did not become ready:\n" + (repo / "server.log").read_text())
        time.sleep(0.1)
    yield {"http": http, "grpc": grpc, "url": f"http://127.0.0.1:{http_port}", "proc": proc}
    proc.terminate()
    code = proc.wait(timeout=60)
    log.close()
    assert code == 0, "birnn serve exited %d after SIGTERM:\n%s" % (code, (repo / "server.log").read_text())


def test_health_and_server_metadata(server):
    http, grpc = server["http"], server["grpc"]
    assert http.is_server_live() and grpc.is_server_live()
    assert http.is_model_ready("deep_bilstm") and grpc.is_model_ready("deep_bilstm", "1")
    assert not http.is_model_ready("deep_bilstm", "9")
    md = http.get_server_metadata()
    assert md["name"] == "birnn" and "model_repository" in md["extensions"]
    assert grpc.get_server_metadata().name == "birnn"


def test_model_metadata(server):
    md = server["http"].get_model_metadata("deep_bilstm")
    assert md["name"] == "deep_bilstm" and md["versions"] == ["1", "2"] and md["platform"] == "onnx_onnxv1"
    assert [(t["name"], t["datatype"], t["shape"]) for t in md["inputs"]] == [
        ("text", "BYTES", [-1]), ("embedding_input", "FP32", [-1, 100])]
    assert [(t["name"], t["datatype"], t["shape"]) for t in md["outputs"]] == [
        ("dense", "FP32", [-1, 1]), ("label", "BYTES", [-1])]
    g = server["grpc"].get_model_metadata("deep_bilstm", "2")
    assert [(t.name, t.datatype, list(t.shape)) for t in g.inputs] == [
        ("text", "BYTES", [-1]), ("embedding_input", "FP32", [-1, 100])]


@pytest.mark.parametrize("run", ["deep_bilstm", "deep_lstm"])
def test_ids_match_keras(server, run):
    x, want = keras_rows(run, 16)
    hin = httpclient.InferInput("embedding_input", list(x.shape), "FP32")
    hin.set_data_from_numpy(x, binary_data=False)
    hr = server["http"].infer(run, [hin], request_id="r1", outputs=[
        httpclient.InferRequestedOutput("dense", binary_data=False),
        httpclient.InferRequestedOutput("label", binary_data=False)])
    gin = grpcclient.InferInput("embedding_input", list(x.shape), "FP32")
    gin.set_data_from_numpy(x)
    gr = server["grpc"].infer(run, [gin], request_id="r2")
    assert hr.get_response()["id"] == "r1" and gr.get_response().id == "r2"
    assert hr.get_response()["model_name"] == run
    for got in (hr.as_numpy("dense"), gr.as_numpy("dense")):
        assert got.shape == (16, 1)
        np.testing.assert_allclose(got, want, atol=1e-4)
    labels = [b"positive" if p > 0.5 else b"negative" for p in want[:, 0]]
    assert [v if isinstance(v, bytes) else v.encode() for v in hr.as_numpy("label").tolist()] == labels
    assert gr.as_numpy("label").tolist() == labels


def test_text_matches_v1(server):
    reviews = ["A moving, beautifully acted film. One of the best this year.",
               "Two hours I will never get back. Dull plot, terrible acting.",
               "It was fine, I guess; the ending dragged on and on."]
    req = urllib.request.Request(server["url"] + "/v1/score", data=json.dumps({"reviews": reviews}).encode(),
                                 headers={"Content-Type": "application/json"})
    v1 = json.loads(urllib.request.urlopen(req).read())["scores"]
    arr = np.array([r.encode() for r in reviews], dtype=np.object_)
    hin = httpclient.InferInput("text", [3], "BYTES")
    hin.set_data_from_numpy(arr, binary_data=False)
    gin = grpcclient.InferInput("text", [3], "BYTES")
    gin.set_data_from_numpy(arr)
    hr = server["http"].infer("deep_bilstm", [hin], outputs=[httpclient.InferRequestedOutput("dense", binary_data=False)])
    gr = server["grpc"].infer("deep_bilstm", [gin], model_version="2")
    np.testing.assert_allclose(hr.as_numpy("dense")[:, 0], v1, rtol=0, atol=1e-6)
    np.testing.assert_allclose(gr.as_numpy("dense")[:, 0], v1, rtol=0, atol=1e-6)
    assert v1[0] > 0.5 > v1[1]


def bad_inputs(mod):
    wrong_type = mod.InferInput("embedding_input", [1, 100], "INT32")
    wrong_shape = mod.InferInput("embedding_input", [1, 99], "FP32")
    if mod is httpclient:
        wrong_type.set_data_from_numpy(np.zeros((1, 100), np.int32), binary_data=False)
        wrong_shape.set_data_from_numpy(np.zeros((1, 99), np.float32), binary_data=False)
    else:
        wrong_type.set_data_from_numpy(np.zeros((1, 100), np.int32))
        wrong_shape.set_data_from_numpy(np.zeros((1, 99), np.float32))
    return wrong_type, wrong_shape


@pytest.mark.parametrize("proto", ["http", "grpc"])
def test_errors(server, proto):
    client = server[proto]
    mod = httpclient if proto == "http" else grpcclient
    wrong_type, wrong_shape = bad_inputs(mod)
    want = {"http": ("404", "400", "400"),
            "grpc": ("StatusCode.NOT_FOUND", "StatusCode.INVALID_ARGUMENT", "StatusCode.INVALID_ARGUMENT")}[proto]
    x, _ = keras_rows("deep_bilstm", 1)
    ok = mod.InferInput("embedding_input", [1, 100], "FP32")
    if mod is httpclient:
        ok.set_data_from_numpy(x, binary_data=False)
    else:
        ok.set_data_from_numpy(x)
    cases = [(lambda: client.infer("nope", [ok]), want[0], "unknown model"),
             (lambda: client.infer("deep_bilstm", [ok], model_version="7"), want[0], "unknown version"),
             (lambda: client.infer("deep_bilstm", [wrong_type]), want[1], "datatype INT32, want FP32"),
             (lambda: client.infer("deep_bilstm", [wrong_shape]), want[2], "want [N, 100]")]
    for call, status, message in cases:
        with pytest.raises(InferenceServerException) as e:
            call()
        assert e.value.status() == status and message in e.value.message(), (e.value.status(), e.value.message())
    if proto == "http":
        big = httpclient.InferInput("text", [1], "BYTES")
        big.set_data_from_numpy(np.array([b"x" * 300000], dtype=np.object_), binary_data=False)
        with pytest.raises(InferenceServerException) as e:
            client.infer("deep_bilstm", [big])
        assert e.value.status() == "413", e.value.message()
        binary = httpclient.InferInput("embedding_input", [1, 100], "FP32")
        binary.set_data_from_numpy(x)  # the binary tensor data extension
        with pytest.raises(InferenceServerException) as e:
            client.infer("deep_bilstm", [binary])
        assert "binary tensor data extension is not supported" in e.value.message()
    assert client.is_server_live() and client.infer("deep_bilstm", [ok]) is not None


def test_repository_extension(server):
    http, grpc = server["http"], server["grpc"]
    index = http.get_model_repository_index()
    assert sorted((m["name"], m.get("version"), m.get("state")) for m in index) == [
        ("deep_bilstm", "1", "READY"), ("deep_bilstm", "2", "READY"), ("deep_lstm", "1", "READY")]
    http.unload_model("deep_lstm")
    assert not http.is_model_ready("deep_lstm") and not grpc.is_model_ready("deep_lstm")
    with pytest.raises(InferenceServerException):
        x, _ = keras_rows("deep_lstm", 1)
        i = grpcclient.InferInput("embedding_input", [1, 100], "FP32")
        i.set_data_from_numpy(x)
        grpc.infer("deep_lstm", [i])
    http.load_model("deep_lstm")
    assert http.is_model_ready("deep_lstm") and grpc.is_model_ready("deep_lstm", "1")
    with pytest.raises(InferenceServerException):
        http.load_model("not_there")
