"""Training-parity fixtures: small Keras models trained a few steps, before and after.

For each case a Keras 2.15 Sequential model (Embedding -> recurrent layers -> Dense head) is
built, its initial weights are saved, it is trained for EPOCHS epochs on fixed synthetic data
(shuffle=False, no validation split, so the batches are the same in any trainer), and its final
weights and per-epoch losses are saved. birnn's trainer starts from the same initial weights
and must end within 1e-4 (train/parity_test.go). Keras's predictions of the trained model on
the same rows are kept too: birnn's export of the final weights, run by ONNX Runtime and by
birnn's engine, must give them (export/keras_parity_test.go).

Weights are written in birnn's ONNX layout under birnn's parameter names, converted here
independently of the Go code:
  LSTM       W [dirs, 4H, in] = kernel^T with gate blocks i, f, c, o -> i, o, f, c;
             R likewise; B [dirs, 8H] = [bias (permuted), zeros]
  GRU        (reset_after=True) W = kernel^T, R = recurrent_kernel^T (z, r, h in both);
             B [dirs, 6H] = [input bias, recurrent bias]
  SimpleRNN  W = kernel^T, R = recurrent_kernel^T, B [dirs, 2H] = [bias, zeros]
  Dense      W [in, units] = kernel, B = bias
A Bidirectional layer stacks forward then backward on the first axis. The masked_* cases use
Embedding(mask_zero=True) on post-padded rows of random lengths.

    scripts/keras/.venv/bin/python scripts/keras/train_parity.py --out testdata/keras/train_parity
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

NUM_WORDS, DIM, SEQ, ROWS, BATCH, EPOCHS, SEED = 40, 6, 10, 48, 16, 2, 2024

# name -> (birnn layer list, optimizer). Layer dicts use birnn's config keys.
CASES = {
    "lstm": ([{"type": "lstm", "units": 5}, {"type": "dense", "units": 1, "activation": "sigmoid"}], "adam"),
    "bigru_seq_gru": ([
        {"type": "gru", "units": 5, "bidirectional": True, "return_sequences": True},
        {"type": "gru", "units": 4},
        {"type": "dense", "units": 1, "activation": "sigmoid"}], "adam"),
    "gru_rmsprop": ([{"type": "gru", "units": 5}, {"type": "dense", "units": 1, "activation": "sigmoid"}], "rmsprop"),
    "bigru_ave_relu": ([
        {"type": "gru", "units": 5, "bidirectional": True, "merge_mode": "ave"},
        {"type": "dense", "units": 6, "activation": "relu"},
        {"type": "dense", "units": 1, "activation": "sigmoid"}], "adam"),
    "simple_rnn": ([{"type": "simple_rnn", "units": 5}, {"type": "dense", "units": 1, "activation": "sigmoid"}], "adam"),
    "bisimple_rnn_sum_softmax4": ([
        {"type": "simple_rnn", "units": 5, "bidirectional": True, "merge_mode": "sum"},
        {"type": "dense", "units": 4, "activation": "softmax"}], "adam"),
    "birnn_relu_mul_seq_bilstm_concat_tanh_softmax3": ([
        {"type": "simple_rnn", "units": 4, "bidirectional": True, "merge_mode": "mul",
         "return_sequences": True, "activation": "relu"},
        {"type": "lstm", "units": 3, "bidirectional": True},
        {"type": "dense", "units": 5, "activation": "tanh"},
        {"type": "dense", "units": 3, "activation": "softmax"}], "adam"),
    # mask_zero: post-padded rows of random lengths (MASKED below)
    "masked_bigru_seq_avgpool": ([
        {"type": "gru", "units": 5, "bidirectional": True, "return_sequences": True},
        {"type": "global_average_pool"},
        {"type": "dense", "units": 1, "activation": "sigmoid"}], "adam"),
    "masked_bisimple_rnn_softmax4": ([
        {"type": "simple_rnn", "units": 5, "bidirectional": True},
        {"type": "dense", "units": 4, "activation": "softmax"}], "adam"),
    "masked_simple_rnn_seq_bigru_ave": ([
        {"type": "simple_rnn", "units": 4, "return_sequences": True},
        {"type": "gru", "units": 3, "bidirectional": True, "merge_mode": "ave"},
        {"type": "dense", "units": 1, "activation": "sigmoid"}], "rmsprop"),
    "masked_bilstm_seq_lstm": ([
        {"type": "lstm", "units": 5, "bidirectional": True, "return_sequences": True},
        {"type": "lstm", "units": 4},
        {"type": "dense", "units": 1, "activation": "sigmoid"}], "adam"),
    "masked_lstm_seq_avgpool_softmax3": ([
        {"type": "lstm", "units": 5, "return_sequences": True},
        {"type": "global_average_pool"},
        {"type": "dense", "units": 3, "activation": "softmax"}], "rmsprop"),
    "masked_bilstm_ave_softmax4": ([
        {"type": "lstm", "units": 4, "bidirectional": True, "merge_mode": "ave"},
        {"type": "dense", "units": 4, "activation": "softmax"}], "adam"),
    "gru_seq_maxpool_relu": ([
        {"type": "gru", "units": 5, "return_sequences": True},
        {"type": "global_max_pool"},
        {"type": "dense", "units": 4, "activation": "relu"},
        {"type": "dense", "units": 1, "activation": "sigmoid"}], "adam"),
}

MASKED = {name for name in CASES if name.startswith("masked_")}

LR = 0.01  # larger than Keras's default so that a few steps move every weight visibly


def build(layers, mask_zero):
    from tensorflow import keras
    L = keras.layers
    m = keras.Sequential([keras.Input((SEQ,), dtype="int32"), L.Embedding(NUM_WORDS, DIM, mask_zero=mask_zero)])
    for spec in layers:
        t = spec["type"]
        if t == "dense":
            m.add(L.Dense(spec["units"], activation=spec["activation"]))
            continue
        if t in ("global_average_pool", "global_max_pool"):
            m.add(L.GlobalAveragePooling1D() if t == "global_average_pool" else L.GlobalMaxPooling1D())
            continue
        kw = {"return_sequences": spec.get("return_sequences", False)}
        if t == "lstm":
            cell = L.LSTM(spec["units"], **kw)
        elif t == "gru":
            cell = L.GRU(spec["units"], reset_after=True, **kw)
        else:
            cell = L.SimpleRNN(spec["units"], activation=spec.get("activation", "tanh"), **kw)
        if spec.get("bidirectional"):
            cell = L.Bidirectional(cell, merge_mode=spec.get("merge_mode", "concat"))
        m.add(cell)
    return m


def onnx_weights(m, layers):
    """birnn parameter name -> (shape, flat float32 list) in ONNX layout."""
    out = {}
    emb = m.layers[0].get_weights()[0]
    out["embedding"] = emb
    for i, (spec, layer) in enumerate(zip(layers, m.layers[1:])):
        t, name = spec["type"], f"{spec['type']}_{i}"
        w = layer.get_weights()
        if t.startswith("global_"):
            continue
        if t == "dense":
            out[name + ".W"], out[name + ".B"] = w[0], w[1]
            continue
        dirs = [w[: len(w) // 2], w[len(w) // 2:]] if spec.get("bidirectional") else [w]
        Ws, Rs, Bs = [], [], []
        for kern, rec, bias in dirs:
            h = spec["units"]
            if t == "lstm":
                perm = np.concatenate([np.arange(k * h, (k + 1) * h) for k in (0, 3, 1, 2)])
                Ws.append(kern[:, perm].T)
                Rs.append(rec[:, perm].T)
                Bs.append(np.concatenate([bias[perm], np.zeros(4 * h, np.float32)]))
            elif t == "gru":
                Ws.append(kern.T)
                Rs.append(rec.T)
                Bs.append(bias.reshape(-1))  # [2, 3H]: input bias, recurrent bias
            else:
                Ws.append(kern.T)
                Rs.append(rec.T)
                Bs.append(np.concatenate([bias, np.zeros(h, np.float32)]))
        out[name + ".W"], out[name + ".R"], out[name + ".B"] = np.stack(Ws), np.stack(Rs), np.stack(Bs)
    return {k: {"shape": list(v.shape), "data": [float(x) for x in np.asarray(v, np.float32).reshape(-1)]}
            for k, v in out.items()}


def config_yaml(layers, optimizer, mask_zero):
    def layer(spec):
        return "{" + ", ".join(f"{k}: {str(v).lower() if isinstance(v, bool) else v}" for k, v in spec.items()) + "}"
    rows = "\n".join("    - " + layer(s) for s in layers)
    return (f"name: parity\ndata: {{num_words: {NUM_WORDS}, maxlen: {SEQ}, padding: post}}\n"
            f"model:\n  embedding: {{dim: {DIM}, mask_zero: {str(mask_zero).lower()}}}\n  layers:\n{rows}\n"
            f"train: {{batch_size: {BATCH}, epochs: {EPOCHS}, validation_split: 0, shuffle: false, "
            f"optimizer: {{name: {optimizer}, learning_rate: {LR}}}}}\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="testdata/keras/train_parity")
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    import tensorflow as tf
    from tensorflow import keras
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, (layers, opt) in CASES.items():
        if args.only and name not in args.only.split(","):
            continue
        keras.utils.set_random_seed(SEED)
        rng = np.random.RandomState(SEED)
        x = rng.randint(0, NUM_WORDS, size=(ROWS, SEQ)).astype(np.int32)
        masked = name in MASKED
        if masked:  # post-padded reviews of 1..SEQ words, no 0 inside
            x = rng.randint(1, NUM_WORDS, size=(ROWS, SEQ)).astype(np.int32)
            for r, n in enumerate(rng.randint(1, SEQ + 1, size=ROWS)):
                x[r, n:] = 0
        units = layers[-1]["units"]
        classes = 2 if units == 1 else units
        y = rng.randint(0, classes, size=ROWS).astype(np.int32)
        m = build(layers, masked)
        initial = onnx_weights(m, layers)
        optimizer = {"adam": keras.optimizers.Adam, "rmsprop": keras.optimizers.RMSprop}[opt](learning_rate=LR)
        loss = "binary_crossentropy" if units == 1 else "sparse_categorical_crossentropy"
        m.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
        hist = m.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0)
        fixture = {
            "what": f"Keras {__import__('keras').__version__} (TensorFlow {tf.__version__}) {name}: {EPOCHS} epochs of "
                    f"{ROWS // BATCH} steps, batch {BATCH}, shuffle=False, {opt} lr {LR}, {loss}",
            "config": config_yaml(layers, opt, masked),
            "x": x.reshape(-1).tolist(), "y": y.tolist(), "rows": ROWS, "seq": SEQ,
            "loss": [float(v) for v in hist.history["loss"]],
            "accuracy": [float(v) for v in hist.history["accuracy"]],
            "initial": initial,
            "final": onnx_weights(m, layers),
            "params": int(m.count_params()),
            "predictions": [float(v) for v in m.predict(x, batch_size=ROWS, verbose=0).reshape(-1)],
        }
        (out / f"{name}.json").write_text(json.dumps(fixture, separators=(",", ":")) + "\n")
        print(name, "params", fixture["params"], "loss", fixture["loss"])


if __name__ == "__main__":
    main()
