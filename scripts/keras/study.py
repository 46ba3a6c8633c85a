"""The study's five Keras runs, reproduced, measured and exported with tf2onnx.

All runs, as the study's notebook sets them: imdb.load_data(num_words=4000), pad_sequences(maxlen=100,
padding='post'), Embedding(4000, 64), LSTM units 64, Dense(1, sigmoid), binary cross-entropy,
accuracy, batch 128, 4 epochs, validation_split 0.3, Keras default optimizer settings.

| run                          | layers after the embedding                         | optimizer | recurrent_dropout |
|------------------------------|----------------------------------------------------|-----------|-------------------|
| deep_lstm                    | LSTM(64, seq) -> LSTM(64)                          | Adam      | 0                 |
| bilstm                       | Bi(LSTM(64))                                       | Adam      | 0                 |
| deep_bilstm                  | Bi(LSTM(64, seq)) -> Bi(LSTM(64))                  | Adam      | 0                 |
| deep_bilstm_rmsprop_dropout  | same, recurrent_initializer='glorot_uniform'       | RMSprop   | 0.2               |
| deep_bilstm_adam_dropout     | same, recurrent_initializer='glorot_uniform'       | Adam      | 0.2               |

Per run, in <out>/<run>/: model.onnx, predictions.json (first 2,000 test rows), metrics.json
(model.evaluate on all 25,000), history.json ({"loss", "accuracy", "val_loss", "val_accuracy",
"seconds"}), test_labels.txt (one line of 25,000 '0'/'1': Keras's predicted label, p > 0.5, per
test row in Keras order) and info.json.

    scripts/keras/.venv/bin/python scripts/keras/study.py --out testdata/keras [--runs bilstm,...]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

import imdb_data
import kexport

NUM_WORDS = 4000
MAXLEN = 100
EMB = 64
UNITS = 64
BATCH = 128
EPOCHS = 4
VALIDATION_SPLIT = 0.3
SEED = 113

# The published figures of the study (one Keras 2 machine, 2019), for comparison only.
PUBLISHED = {
    "deep_lstm": {"params": 322113, "test_accuracy": 0.8348, "test_loss": 0.3869},
    "bilstm": {"params": 322177, "test_accuracy": 0.8414, "test_loss": 0.3747},
    "deep_bilstm": {"params": 420993, "test_accuracy": 0.8279, "test_loss": 0.3867},
    "deep_bilstm_rmsprop_dropout": {"params": 420993, "test_accuracy": 0.8500, "test_loss": 0.3590},
    "deep_bilstm_adam_dropout": {"params": 420993, "test_accuracy": 0.8361, "test_loss": 0.4126},
}

RUNS = {
    "deep_lstm": dict(arch="Embedding(4000, 64) -> LSTM(64, return_sequences=True) -> LSTM(64) -> Dense(1, sigmoid)",
                      bidirectional=False, optimizer="adam", recurrent_dropout=0.0, recurrent_initializer="orthogonal"),
    "bilstm": dict(arch="Embedding(4000, 64) -> Bidirectional(LSTM(64)) -> Dense(1, sigmoid)",
                   bidirectional=True, depth=1, optimizer="adam", recurrent_dropout=0.0, recurrent_initializer="orthogonal"),
    "deep_bilstm": dict(arch="Embedding(4000, 64) -> Bidirectional(LSTM(64, return_sequences=True)) -> Bidirectional(LSTM(64)) -> Dense(1, sigmoid)",
                        bidirectional=True, optimizer="adam", recurrent_dropout=0.0, recurrent_initializer="orthogonal"),
    "deep_bilstm_rmsprop_dropout": dict(arch="Embedding(4000, 64) -> Bidirectional(LSTM(64, return_sequences=True, recurrent_initializer='glorot_uniform', recurrent_dropout=0.2)) -> Bidirectional(LSTM(64, recurrent_initializer='glorot_uniform', recurrent_dropout=0.2)) -> Dense(1, sigmoid)",
                                        bidirectional=True, optimizer="rmsprop", recurrent_dropout=0.2, recurrent_initializer="glorot_uniform"),
    "deep_bilstm_adam_dropout": dict(arch="Embedding(4000, 64) -> Bidirectional(LSTM(64, return_sequences=True, recurrent_initializer='glorot_uniform', recurrent_dropout=0.2)) -> Bidirectional(LSTM(64, recurrent_initializer='glorot_uniform', recurrent_dropout=0.2)) -> Dense(1, sigmoid)",
                                     bidirectional=True, optimizer="adam", recurrent_dropout=0.2, recurrent_initializer="glorot_uniform"),
}

OPTIMIZERS = {
    "adam": "Adam (Keras defaults: learning_rate 1e-3, beta_1 0.9, beta_2 0.999, epsilon 1e-7)",
    "rmsprop": "RMSprop (Keras defaults: learning_rate 1e-3, rho 0.9, momentum 0, epsilon 1e-7)",
}


def build(name: str, inference_clone: bool = False):
    """The Keras model of one run, compiled as the study did.

    inference_clone=True drops recurrent_dropout (which Keras ignores at inference): tf2onnx
    turns an LSTM with recurrent_dropout > 0 into a Loop, the clone into an LSTM node.
    """
    from tensorflow.keras import Sequential
    from tensorflow.keras.layers import LSTM, Bidirectional, Dense, Embedding

    r = RUNS[name]
    kw = dict(recurrent_dropout=0.0 if inference_clone else r["recurrent_dropout"])
    if r["recurrent_initializer"] != "orthogonal":
        kw["recurrent_initializer"] = r["recurrent_initializer"]
    m = Sequential()
    m.add(Embedding(NUM_WORDS, EMB))
    if name == "deep_lstm":
        m.add(LSTM(UNITS, return_sequences=True, **kw))
        m.add(LSTM(UNITS, return_sequences=False, **kw))
    elif name == "bilstm":
        m.add(Bidirectional(LSTM(UNITS, **kw)))
    else:
        m.add(Bidirectional(LSTM(UNITS, return_sequences=True, **kw)))
        m.add(Bidirectional(LSTM(UNITS, return_sequences=False, **kw)))
    m.add(Dense(1, activation="sigmoid"))
    m.compile(loss="binary_crossentropy", optimizer=r["optimizer"], metrics=["accuracy"])
    return m


def run(name: str, out: Path, data, seed: int, epochs: int, train_rows: int | None,
        weights_dir: str | None = None) -> dict:
    import tensorflow as tf

    (xtr, ytr), (xte, yte) = data
    if train_rows:
        xtr, ytr = xtr[:train_rows], ytr[:train_rows]
    tf.keras.utils.set_random_seed(seed)
    model = build(name)
    timer = kexport.EpochTimer()
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    hist = model.fit(xtr, ytr, batch_size=BATCH, validation_split=VALIDATION_SPLIT, epochs=epochs,
                     verbose=2, callbacks=[timer])
    fit_seconds = time.perf_counter() - t0
    load_after = os.getloadavg()

    history = {k: [float(v) for v in hist.history[k]] for k in ("loss", "accuracy", "val_loss", "val_accuracy")}
    history["seconds"] = [float(s) for s in timer.seconds]

    # Labels of the whole test split, for label agreement with models trained elsewhere.
    t0 = time.perf_counter()
    p = model.predict(xte, batch_size=BATCH, verbose=0).reshape(-1)
    predict_seconds = time.perf_counter() - t0
    labels = "".join("1" if v > 0.5 else "0" for v in p)

    r = RUNS[name]
    info = {
        "name": name,
        "kind": "study",
        "architecture": r["arch"],
        "summary": _summary(model),
        "optimizer": OPTIMIZERS[r["optimizer"]],
        "loss": "binary_crossentropy",
        "output": "sigmoid [N, 1]",
        "recurrent_dropout": r["recurrent_dropout"],
        "recurrent_initializer": r["recurrent_initializer"],
        "num_words": NUM_WORDS,
        "embedding": EMB,
        "units": UNITS,
        "padding": "post",
        "truncating": "pre",
        "batch_size": BATCH,
        "epochs": epochs,
        "validation_split": VALIDATION_SPLIT,
        "train_rows": int(len(xtr)),
        "seed": seed,
        "seconds_per_epoch": history["seconds"],
        "fit_seconds": fit_seconds,
        "predict_seconds_25000": predict_seconds,
        "cpu_count": os.cpu_count(),
        "load_average_1_5_15": {"before_fit": list(load_before), "after_fit": list(load_after)},
        "tf_threads": {"intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                       "inter_op": tf.config.threading.get_inter_op_parallelism_threads()},
        "published": PUBLISHED[name],
        "test_labels": "test_labels.txt: 25,000 chars '0'/'1', Keras model.predict > 0.5 per test row",
    }
    inputs = (f"first {kexport.PREDICT_ROWS} test rows of imdb.load_data(num_words={NUM_WORDS}) "
              f"padded maxlen {MAXLEN} post (truncating pre)")
    if weights_dir:
        Path(weights_dir).mkdir(parents=True, exist_ok=True)
        model.save_weights(str(Path(weights_dir) / f"{name}.weights.h5"))
    clone = None
    if r["recurrent_dropout"] > 0:
        clone = build(name, inference_clone=True)
        clone.build((None, MAXLEN))
        clone.set_weights(model.get_weights())
        info["onnx_export_note"] = (
            "exported from a clone with recurrent_dropout=0 and the same weights (Keras ignores "
            "recurrent dropout at inference): tf2onnx turns an LSTM with recurrent_dropout > 0 "
            "into a Loop; ort_check compares this export with the trained model's predictions")
    folder = Path(out) / name
    info = kexport.record(folder, model, xte, yte, info, inputs, export_model=clone)
    kexport.write_json(folder / "history.json", history)
    kexport.atomic_write(folder / "test_labels.txt", labels + "\n")
    label_acc = float(np.mean(np.array([c == "1" for c in labels]) == (yte == 1)))
    if abs(label_acc - info["test"]["accuracy"]) > 1e-6:
        raise kexport.ExportError(f"{name}: labels give accuracy {label_acc}, evaluate {info['test']['accuracy']}")
    print(f"{name}: test accuracy {info['test']['accuracy']:.4f} loss {info['test']['loss']:.4f}, "
          f"seconds per epoch {', '.join(f'{s:.1f}' for s in history['seconds'])}, "
          f"max |ORT - Keras| {info['ort_check']['max_abs_diff']:.3g}", flush=True)
    tf.keras.backend.clear_session()
    return info


def _summary(model) -> str:
    lines = []
    model.summary(print_fn=lines.append, line_length=90)
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Reproduce the study's five Keras runs and export them.")
    ap.add_argument("--out", default="testdata/keras", help="parent folder of the run folders")
    ap.add_argument("--runs", help=f"comma-separated runs (default all: {', '.join(RUNS)})")
    ap.add_argument("--seed", type=int, default=SEED, help="tf.keras.utils.set_random_seed before each run")
    ap.add_argument("--epochs", type=int, default=EPOCHS, help="for smoke tests only; the study uses 4")
    ap.add_argument("--train-rows", type=int, help="for smoke tests only: use the first N training rows")
    ap.add_argument("--weights-dir", default=str(Path(__file__).parent / "runs"),
                    help="where to keep each trained model's weights (<run>.weights.h5; '' for none)")
    ap.add_argument("--train-sequences", metavar="FILE", help="`label id id ...` train file instead of the tarball")
    ap.add_argument("--test-sequences", metavar="FILE", help="`label id id ...` test file instead of the tarball")
    a = ap.parse_args(argv)
    names = a.runs.split(",") if a.runs else list(RUNS)
    for n in names:
        if n not in RUNS:
            ap.error(f"unknown run {n!r} (have {', '.join(RUNS)})")
    try:
        data = imdb_data.load_padded(NUM_WORDS, MAXLEN, "post", "pre", a.train_sequences, a.test_sequences)
    except imdb_data.DataError as e:
        print("study:", e, file=sys.stderr)
        return 1
    failed = []
    for n in names:
        try:
            run(n, Path(a.out), data, a.seed, a.epochs, a.train_rows, a.weights_dir)
        except kexport.ExportError as e:
            print("study:", e, file=sys.stderr)
            failed.append(n)
    if failed:
        print("study: failed:", ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
