"""PyTorch text classifiers on IMDB, trained briefly and exported to ONNX with both of
`torch.onnx.export`'s exporters: testdata/torch.

Each model is the PyTorch-tutorial text classifier: `nn.Embedding(4000, 16, padding_idx=0)`, an
`nn.LSTM`/`nn.GRU`/`nn.RNN` (batch_first, uni- or bidirectional, 1 or 2 layers), a pooling over
time (the last step, max, mean, or the mean over non-padding steps), `nn.Linear` and a sigmoid
(1 output, positive review) or a softmax (3 classes from the review's star rating: 1-2, 3-4 or
7-8, 9-10). It trains for one epoch on the IMDB training split (`imdb.load_data(num_words=4000)`
rebuilt by scripts/keras/imdb_data.py, padded to 100 'post') and is exported twice:

- `<name>_legacy`: `torch.onnx.export(..., dynamo=False, opset_version=17)`, weights inline;
- `<name>_dynamo`: `torch.onnx.export(..., dynamo=True, external_data=True)` (opset 18), weights
  in `model.onnx.data` beside `model.onnx`.

Both folders hold the same PyTorch outputs (`model(ids)` in eval mode, float32) and ONNX
Runtime's for their own file (see scripts/keras3/onnxfixture.py and testdata/torch/README.md).

    PY="$(scripts/torch/setup.sh)"
    nice -n 10 "$PY" scripts/torch/generate.py --out testdata/torch [--only lstm_last_sigmoid,...]
"""

from __future__ import annotations

import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "keras3"))
import onnxfixture as fx  # noqa: E402
from onnxfixture import imdb_data  # noqa: E402

NUM_WORDS = 4000
MAXLEN = 100
EMB = 16
HIDDEN = 32
SEED = 1234
BATCH = 64
THREADS = 1
LEGACY_OPSET = 17

# name -> (cell, layers, bidirectional, pooling, classes, extra nn.RNN kwargs)
GRID = {
    "lstm_last_sigmoid": ("LSTM", 1, False, "last", 1, {}),
    "lstm_max_softmax": ("LSTM", 1, False, "max", 3, {}),
    "lstm_mean_sigmoid": ("LSTM", 1, False, "mean", 1, {}),
    "bilstm_last_sigmoid": ("LSTM", 1, True, "last", 1, {}),
    "bilstm_maskedmean_softmax": ("LSTM", 1, True, "masked_mean", 3, {}),
    "lstm2_last_softmax": ("LSTM", 2, False, "last", 3, {}),
    "bilstm2_max_sigmoid": ("LSTM", 2, True, "max", 1, {}),
    "gru_last_sigmoid": ("GRU", 1, False, "last", 1, {}),
    "gru_mean_softmax": ("GRU", 1, False, "mean", 3, {}),
    "bigru_last_softmax": ("GRU", 1, True, "last", 3, {}),
    "bigru2_maskedmean_sigmoid": ("GRU", 2, True, "masked_mean", 1, {}),
    "rnn_last_sigmoid": ("RNN", 1, False, "last", 1, {}),
    "birnn_relu_max_sigmoid": ("RNN", 1, True, "max", 1, {"nonlinearity": "relu"}),
    "rnn2_mean_softmax": ("RNN", 2, False, "mean", 3, {}),
}

POOLING = {
    "last": "the output after the last step: out[:, -1] (unidirectional), or "
            "cat(h_n[-2], h_n[-1]) (bidirectional: forward after step T-1, backward after step 0)",
    "max": "out.max(dim=1) over all steps, padding included",
    "mean": "out.mean(dim=1) over all steps, padding included",
    "masked_mean": "sum of out over non-padding steps (ids != 0) / their count (at least 1)",
}


def build(cell: str, layers: int, bidir: bool, pool: str, classes: int, extra: dict):
    import torch
    from torch import nn

    class TextClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(NUM_WORDS, EMB, padding_idx=0)
            self.rnn = getattr(nn, cell)(EMB, HIDDEN, num_layers=layers, batch_first=True,
                                         bidirectional=bidir, **extra)
            self.fc = nn.Linear(HIDDEN * (2 if bidir else 1), classes)

        def logits(self, ids):
            out, h = self.rnn(self.embedding(ids))  # out [N, T, D*H]
            if pool == "last":
                if bidir:
                    h_n = h[0] if isinstance(h, tuple) else h  # [layers*2, N, H]
                    z = torch.cat([h_n[-2], h_n[-1]], dim=1)
                else:
                    z = out[:, -1]
            elif pool == "max":
                z = out.max(dim=1).values
            elif pool == "mean":
                z = out.mean(dim=1)
            else:
                mask = (ids != 0).unsqueeze(-1).to(out.dtype)
                z = (out * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
            return self.fc(z)

        def forward(self, ids):
            y = self.logits(ids)
            return torch.sigmoid(y) if classes == 1 else torch.softmax(y, dim=-1)

    return TextClassifier()


def star_classes(y_train, y_test):
    """Per row of load_data's train and test splits (Keras order), the 3-class target from the
    review's star rating (in its file name `<id>_<rating>.txt`): 0 for 1-2, 1 for 3-4 and 7-8,
    2 for 9-10. The rows are put in Keras's order as imdb_data.load_data does (pos then neg,
    names sorted, RandomState(113) shuffling train then test); the binary labels derived from
    the ratings must equal load_data's labels."""
    reviews = imdb_data.read_reviews()
    rng = np.random.RandomState(imdb_data.SEED)
    out = []
    for split, y in (("train", y_train), ("test", y_test)):
        stars = np.array([int(n.rsplit("_", 1)[1].split(".")[0])
                          for label in ("pos", "neg") for n, _ in reviews[(split, label)]])
        order = np.arange(len(stars))
        rng.shuffle(order)
        stars = stars[order]
        if not np.array_equal((stars >= 7).astype(np.int64), y):
            raise imdb_data.DataError(f"{split}: ratings do not line up with load_data's labels")
        out.append(np.where(stars <= 2, 0, np.where(stars >= 9, 2, 1)).astype(np.int64))
    return out


def train(model, x, y, classes: int) -> dict:
    import torch
    from torch import nn
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    lossf = nn.BCEWithLogitsLoss() if classes == 1 else nn.CrossEntropyLoss()
    xt = torch.from_numpy(x.astype(np.int64))
    yt = torch.from_numpy(y.astype(np.float32 if classes == 1 else np.int64))
    perm = torch.randperm(len(xt))
    model.train()
    losses = []
    t0 = time.perf_counter()
    for i in range(0, len(xt), BATCH):
        idx = perm[i:i + BATCH]
        opt.zero_grad()
        z = model.logits(xt[idx])
        loss = lossf(z.squeeze(1), yt[idx]) if classes == 1 else lossf(z, yt[idx])
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        losses.append(float(loss.detach()))
    model.eval()
    return {"steps": len(losses), "seconds": round(time.perf_counter() - t0, 1),
            "loss_first_50": float(np.mean(losses[:50])), "loss_last_50": float(np.mean(losses[-50:]))}


def accuracy(model, x, y, classes: int) -> float:
    import torch
    with torch.no_grad():
        p = torch.cat([model(torch.from_numpy(x[i:i + 500].astype(np.int64)))
                       for i in range(0, len(x), 500)]).numpy()
    pred = (p[:, 0] > 0.5).astype(np.int64) if classes == 1 else p.argmax(1)
    return float(np.mean(pred == y))


def export_legacy(model, path: Path) -> str:
    import torch
    x = torch.ones((2, MAXLEN), dtype=torch.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), str(path), dynamo=False, opset_version=LEGACY_OPSET,
                          input_names=["ids"], output_names=["probs"],
                          dynamic_axes={"ids": {0: "batch"}, "probs": {0: "batch"}})
    return (f"torch.onnx.export(model, (ids,), path, dynamo=False, opset_version={LEGACY_OPSET}, "
            "input_names=['ids'], output_names=['probs'], "
            "dynamic_axes={'ids': {0: 'batch'}, 'probs': {0: 'batch'}})  # ids int64 [2, 100]")


def export_dynamo(model, path: Path) -> str:
    import torch
    x = torch.ones((2, MAXLEN), dtype=torch.int64)
    batch = torch.export.Dim("batch", min=1, max=4096)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), str(path), dynamo=True, external_data=True,
                          input_names=["ids"], output_names=["probs"],
                          dynamic_shapes=({0: batch},), verbose=False)
    return ("torch.onnx.export(model, (ids,), path, dynamo=True, external_data=True, "
            "input_names=['ids'], output_names=['probs'], "
            "dynamic_shapes=({0: torch.export.Dim('batch', min=1, max=4096)},))  # ids int64 [2, 100]")


def check_form(folder: Path, kind: str) -> None:
    """The legacy export keeps every tensor inline; the dynamo one holds external tensors."""
    ext = fx.external_data(fx.load_model(folder), folder)
    if kind == "dynamo" and not ext["tensors"]:
        raise fx.FixtureError("the dynamo export holds no external tensor")
    if kind == "legacy" and ext["tensors"]:
        raise fx.FixtureError("the legacy export holds external tensors")


def versions() -> dict:
    import onnx
    import onnxruntime
    import onnxscript
    import torch
    v = {"python": platform.python_version(), "torch": torch.__version__, "onnx": onnx.__version__,
         "onnxscript": onnxscript.__version__, "onnxruntime": onnxruntime.__version__,
         "numpy": np.__version__}
    try:
        import onnx_ir
        v["onnx_ir"] = onnx_ir.__version__
    except ImportError:
        pass
    return v


def main(argv=None) -> list[str]:
    """Train, export and record the chosen models; returns the names that failed."""
    a = fx.parse_args("Train and export the PyTorch fixtures (each as <name>_legacy and "
                      "<name>_dynamo).", "testdata/torch", GRID, argv)
    import torch
    torch.set_num_threads(THREADS)
    try:
        (xtr_all, ytr), (xte_all, yte) = imdb_data.load_data(NUM_WORDS)
        str_tr, str_te = star_classes(ytr, yte)
    except imdb_data.DataError as e:
        print("generate:", e, file=sys.stderr)
        return ["data"]
    xtr = imdb_data.pad_sequences(xtr_all[:a.train_rows], MAXLEN, "post")
    xte = imdb_data.pad_sequences(xte_all, MAXLEN, "post")
    sets = fx.data_sets(xte_all, NUM_WORDS, MAXLEN, "post", "pre", np.int64)
    ver = versions()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    failed = []
    for name in a.names:
        cell, layers, bidir, pool, classes, extra = GRID[name]
        torch.manual_seed(SEED)
        model = build(cell, layers, bidir, pool, classes, extra)
        y_tr, y_te = (ytr, yte) if classes == 1 else (str_tr[:a.train_rows], str_te)
        tr = train(model, xtr, y_tr[:len(xtr)], classes)
        acc = accuracy(model, xte, y_te, classes)
        print(f"{name}: trained in {tr['seconds']} s, test accuracy {acc:.4f}", flush=True)

        def predict(x, model=model):
            with torch.no_grad():
                return [model(torch.from_numpy(x)).numpy().astype(np.float32)]
        base = {
            "producer": "pytorch",
            "model": {"class": "TextClassifier", "cell": f"nn.{cell}", "num_layers": layers,
                      "bidirectional": bidir, "embedding": f"nn.Embedding({NUM_WORDS}, {EMB}, padding_idx=0)",
                      "hidden_size": HIDDEN, "rnn_kwargs": extra, "pooling": pool,
                      "pooling_means": POOLING[pool], "classes": classes,
                      "head": "sigmoid [N, 1] = p(positive)" if classes == 1 else
                              "softmax [N, 3] = p(1-2 stars), p(3-4 or 7-8), p(9-10)",
                      "params": int(sum(p.numel() for p in model.parameters())),
                      "repr": str(model)},
            "data": {"source": "imdb.load_data(num_words=4000) rebuilt by scripts/keras/imdb_data.py",
                     "num_words": NUM_WORDS, "maxlen": MAXLEN, "padding": "post",
                     "truncating": "pre", "dtype": "int64",
                     "target": "label (positive review)" if classes == 1 else
                               "star rating class: 0 = 1-2, 1 = 3-4 or 7-8, 2 = 9-10"},
            "train": {"rows": int(len(xtr)), "epochs": 1, "batch_size": BATCH, "seed": SEED,
                      "threads": THREADS, "optimizer": "Adam lr 2e-3, grad norm clipped at 5",
                      "loss": "BCEWithLogitsLoss" if classes == 1 else "CrossEntropyLoss", **tr},
            "test": {"rows": int(len(xte)), "accuracy": acc},
            "producer_outputs": "model.eval(); model(torch.from_numpy(ids)) under torch.no_grad(), float32",
            "versions": ver,
            "command": " ".join(["python", *sys.argv]),
        }
        for kind, export in (("legacy", export_legacy), ("dynamo", export_dynamo)):
            full = f"{name}_{kind}"
            info = dict(base, name=full, model_name=name,
                        export={"exporter": kind, "function": "torch.onnx.export"})
            if not fx.produce(out, full, lambda path, export=export: export(model, path), sets,
                              predict, info, lambda tmp, kind=kind: check_form(tmp, kind)):
                failed.append(full)
    return failed


if __name__ == "__main__":
    fx.run(main)
