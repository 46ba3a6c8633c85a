"""Small Keras models that differ from the study, trained briefly and exported with tf2onnx.

They exercise the parts of the ONNX engine the study's models do not: GRU (reset_after=True,
so ONNX linear_before_reset=1), hard_sigmoid recurrent activation, a ReLU Dense layer and a
2-class softmax head, a Bidirectional layer with merge_mode='sum', return_sequences followed
by GlobalAveragePooling1D, SimpleRNN, 'pre' padding with another maxlen, and an Embedding with
mask_zero=True (which tf2onnx turns into a Loop). Each is trained for one epoch on the first
TRAIN_ROWS training reviews: enough to be non-random, not to be good.

    scripts/keras/.venv/bin/python scripts/keras/extra_models.py --out testdata/keras [--only gru,...]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import imdb_data
import kexport

TRAIN_ROWS = 5000
SEED = 1234


def _models():
    """name -> (builder, settings). Builders run after the seed is set."""
    from tensorflow.keras import Sequential, layers

    def head(m, d=1):
        m.add(layers.Dense(d, activation="sigmoid"))
        return m

    def gru(nw):
        return head(Sequential([layers.Embedding(nw, 32), layers.GRU(32)]))

    def lstm_hard_sigmoid(nw):
        return head(Sequential([layers.Embedding(nw, 32),
                                layers.LSTM(32, recurrent_activation="hard_sigmoid")]))

    def dense_softmax(nw):
        return Sequential([layers.Embedding(nw, 32), layers.LSTM(32),
                           layers.Dense(16, activation="relu"),
                           layers.Dense(2, activation="softmax")])

    def bilstm_sum(nw):
        return head(Sequential([layers.Embedding(nw, 32),
                                layers.Bidirectional(layers.LSTM(32), merge_mode="sum")]))

    def lstm_seq_avgpool(nw):
        return head(Sequential([layers.Embedding(nw, 32), layers.LSTM(32, return_sequences=True),
                                layers.GlobalAveragePooling1D()]))

    def simple_rnn(nw):
        return head(Sequential([layers.Embedding(nw, 32), layers.SimpleRNN(32)]))

    def lstm_pre_maxlen80(nw):
        return head(Sequential([layers.Embedding(nw, 32), layers.LSTM(32)]))

    def lstm_mask_zero(nw):
        return head(Sequential([layers.Embedding(nw, 32, mask_zero=True), layers.LSTM(32)]))

    binary = dict(loss="binary_crossentropy", num_words=2000, maxlen=100, padding="post")
    return {
        "gru": (gru, dict(binary, note="GRU reset_after=True (Keras default): ONNX GRU with linear_before_reset=1")),
        "lstm_hard_sigmoid": (lstm_hard_sigmoid, dict(binary, note="recurrent_activation='hard_sigmoid' (Keras 2: clip(0.2*x+0.5, 0, 1))")),
        "dense_softmax": (dense_softmax, dict(binary, loss="sparse_categorical_crossentropy", note="Dense(16, relu) then a 2-class softmax head; outputs are [p(neg), p(pos)]")),
        "bilstm_sum": (bilstm_sum, dict(binary, note="Bidirectional merge_mode='sum'")),
        "lstm_seq_avgpool": (lstm_seq_avgpool, dict(binary, note="return_sequences=True then GlobalAveragePooling1D (no mask: mean over all maxlen steps)")),
        "simple_rnn": (simple_rnn, dict(binary, note="SimpleRNN, tanh")),
        "lstm_pre_maxlen80": (lstm_pre_maxlen80, dict(binary, num_words=3000, maxlen=80, padding="pre", note="pad_sequences(maxlen=80, padding='pre')")),
        "lstm_mask_zero": (lstm_mask_zero, dict(binary, note="Embedding(mask_zero=True): tf2onnx emits a Loop instead of an LSTM node")),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Train and export the extra Keras models.")
    ap.add_argument("--out", default="testdata/keras", help="parent folder of the model folders")
    ap.add_argument("--only", help="comma-separated model names")
    ap.add_argument("--train-sequences", metavar="FILE", help="`label id id ...` train file instead of the tarball")
    ap.add_argument("--test-sequences", metavar="FILE", help="`label id id ...` test file instead of the tarball")
    a = ap.parse_args(argv)

    import tensorflow as tf

    models = _models()
    names = a.only.split(",") if a.only else list(models)
    for n in names:
        if n not in models:
            ap.error(f"unknown model {n!r} (have {', '.join(models)})")

    try:
        if a.train_sequences or a.test_sequences:
            if not (a.train_sequences and a.test_sequences):
                ap.error("give both --train-sequences and --test-sequences")
            (xtr_all, ytr), (xte_all, yte) = (imdb_data.read_sequences(a.train_sequences),
                                              imdb_data.read_sequences(a.test_sequences))
        else:
            (xtr_all, ytr), (xte_all, yte) = imdb_data.load_data(None)
    except imdb_data.DataError as e:
        print("extra_models:", e, file=sys.stderr)
        return 1

    failed = []
    for name in names:
        build, s = models[name]
        nw, maxlen, padding = s["num_words"], s["maxlen"], s["padding"]
        xtr = imdb_data.pad_sequences(imdb_data._clip(xtr_all[:TRAIN_ROWS], nw), maxlen, padding)
        xte = imdb_data.pad_sequences(imdb_data._clip(xte_all, nw), maxlen, padding)
        tf.keras.utils.set_random_seed(SEED)
        model = build(nw)
        model.compile(loss=s["loss"], optimizer="adam", metrics=["accuracy"])
        timer = kexport.EpochTimer()
        model.fit(xtr, ytr[:TRAIN_ROWS], batch_size=64, epochs=1, verbose=0, callbacks=[timer])
        info = {
            "name": name,
            "kind": "extra",
            "note": s["note"],
            "summary": _summary(model),
            "optimizer": "Adam (Keras defaults: lr 1e-3, beta1 0.9, beta2 0.999, eps 1e-7)",
            "loss": s["loss"],
            "output": "softmax [N, 2]" if s["loss"].startswith("sparse") else "sigmoid [N, 1]",
            "num_words": nw,
            "padding": padding,
            "truncating": "pre",
            "seed": SEED,
            "train": {"rows": TRAIN_ROWS, "epochs": 1, "batch_size": 64, "history": {
                k: [float(v) for v in vs] for k, vs in model.history.history.items()}},
            "seconds_per_epoch": timer.seconds,
        }
        inputs = (f"first {kexport.PREDICT_ROWS} test rows of imdb.load_data(num_words={nw}) "
                  f"padded maxlen {maxlen} {padding} (truncating pre)")
        try:
            kexport.record(Path(a.out) / name, model, xte, yte, info, inputs)
        except kexport.ExportError as e:
            print("extra_models:", e, file=sys.stderr)
            failed.append(name)
        tf.keras.backend.clear_session()
    if failed:
        print("extra_models: failed:", ", ".join(failed), file=sys.stderr)
        return 1
    return 0


def _summary(model) -> str:
    lines = []
    model.summary(print_fn=lines.append, line_length=90)
    return "\n".join(lines)


if __name__ == "__main__":
    t0 = time.time()
    rc = main()
    print(f"extra_models: done in {time.time() - t0:.0f} s", file=sys.stderr)
    sys.exit(rc)
