"""Keras 3 text classifiers on IMDB, trained briefly and exported to ONNX: testdata/keras3.

Each model is built the way the keras.io examples build it, trained for one epoch on the IMDB
training split (`imdb.load_data(num_words=4000)`, rebuilt offline by scripts/keras/imdb_data.py,
the ids birnn's loader gives), exported with `model.export(path, format="onnx")` (Keras 3 on
TensorFlow hands the model's call to `tf2onnx.convert.from_function`), and written as an ONNX
backend-test folder with Keras's own `model.predict` outputs and ONNX Runtime's (see
onnxfixture.py and testdata/keras3/README.md).

    PY="$(scripts/keras3/setup.sh)"
    nice -n 10 "$PY" scripts/keras3/generate.py --out testdata/keras3 [--only gru_stack_softmax,...]
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import onnxfixture as fx  # noqa: E402
from onnxfixture import imdb_data  # noqa: E402

NUM_WORDS = 4000
MAXLEN = 100
SEED = 1234
BATCH = 128


def _models():
    """name -> (builder, settings). A builder returns an uncompiled Keras model."""
    import keras
    from keras import layers

    def inp(dtype="int32"):
        return keras.Input(shape=(MAXLEN,), dtype=dtype)

    def seq(*ls, dtype="int32"):
        return keras.Sequential([inp(dtype), *ls])

    def sigmoid():
        return layers.Dense(1, activation="sigmoid")

    def emb(dim=32, **kw):
        return layers.Embedding(NUM_WORDS, dim, **kw)

    def gru_stack_softmax():
        return seq(emb(), layers.GRU(32, return_sequences=True), layers.GRU(32),
                   layers.Dense(2, activation="softmax"))

    def bigru():
        return seq(emb(), layers.Bidirectional(layers.GRU(32)), sigmoid())

    def simple_rnn():
        return seq(emb(), layers.SimpleRNN(32), sigmoid())

    def lstm_mask_zero():
        return seq(emb(mask_zero=True), layers.LSTM(32), sigmoid())

    def lstm_recurrent_dropout():
        return seq(emb(), layers.LSTM(32, recurrent_dropout=0.2), sigmoid())

    def conv1d_lstm():
        # keras examples/imdb_cnn_lstm: Embedding, Dropout, Conv1D, MaxPooling1D, LSTM, Dense.
        return seq(emb(), layers.Dropout(0.25),
                   layers.Conv1D(32, 5, padding="valid", activation="relu", strides=1),
                   layers.MaxPooling1D(pool_size=4), layers.LSTM(32), sigmoid())

    def conv1d():
        # keras.io text_classification_from_scratch, smaller: two strided Conv1D, a pooling
        # step between them, GlobalMaxPooling1D, a hidden Dense and the sigmoid head.
        return seq(emb(64), layers.Dropout(0.5),
                   layers.Conv1D(64, 7, padding="valid", activation="relu", strides=3),
                   layers.MaxPooling1D(pool_size=2),
                   layers.Conv1D(64, 3, padding="valid", activation="relu", strides=1),
                   layers.GlobalMaxPooling1D(),
                   layers.Dense(64, activation="relu"), layers.Dropout(0.5),
                   layers.Dense(1, activation="sigmoid", name="predictions"), dtype="int64")

    def transformer():
        # keras.io text_classification_with_transformer: token + position embedding, one
        # transformer block (MultiHeadAttention, Dropout, residual + LayerNormalization,
        # feed-forward, residual + LayerNormalization), GlobalAveragePooling1D, a 2-class
        # softmax. (With activation="gelu" the export fails: Keras's exact gelu uses Erfc,
        # which tf2onnx 1.17 cannot convert.)
        embed, heads, ff = 32, 2, 32

        class TokenAndPositionEmbedding(layers.Layer):
            def __init__(self, maxlen, vocab, dim, **kw):
                super().__init__(**kw)
                self.token_emb = layers.Embedding(vocab, dim)
                self.pos_emb = layers.Embedding(maxlen, dim)

            def call(self, x):
                positions = keras.ops.arange(0, keras.ops.shape(x)[-1], 1)
                return self.token_emb(x) + self.pos_emb(positions)

        class TransformerBlock(layers.Layer):
            def __init__(self, dim, heads, ff, rate=0.1, **kw):
                super().__init__(**kw)
                self.att = layers.MultiHeadAttention(num_heads=heads, key_dim=dim)
                self.ffn = keras.Sequential([layers.Dense(ff, activation="relu"), layers.Dense(dim)])
                self.norm1 = layers.LayerNormalization(epsilon=1e-6)
                self.norm2 = layers.LayerNormalization(epsilon=1e-6)
                self.drop1 = layers.Dropout(rate)
                self.drop2 = layers.Dropout(rate)

            def call(self, x, training=False):
                a = self.drop1(self.att(x, x), training=training)
                h = self.norm1(x + a)
                return self.norm2(h + self.drop2(self.ffn(h), training=training))

        x_in = inp("int64")
        x = TokenAndPositionEmbedding(MAXLEN, NUM_WORDS, embed)(x_in)
        x = TransformerBlock(embed, heads, ff)(x)
        x = layers.GlobalAveragePooling1D()(x)
        x = layers.Dropout(0.1)(x)
        x = layers.Dense(20, activation="relu")(x)
        x = layers.Dropout(0.1)(x)
        return keras.Model(inputs=x_in, outputs=layers.Dense(2, activation="softmax")(x))

    def lstm():
        return seq(emb(), layers.LSTM(32), sigmoid())

    def bilstm():
        return seq(emb(), layers.Bidirectional(layers.LSTM(32)), sigmoid())

    binary = dict(loss="binary_crossentropy", head="sigmoid [N, 1]")
    softmax = dict(loss="sparse_categorical_crossentropy", head="softmax [N, 2] = [p(neg), p(pos)]")
    return {
        "gru_stack_softmax": (gru_stack_softmax, dict(softmax, note="GRU(32, return_sequences) -> GRU(32) -> Dense(2, softmax); reset_after=True")),
        "bigru": (bigru, dict(binary, note="Bidirectional(GRU(32)), merge_mode concat")),
        "simple_rnn": (simple_rnn, dict(binary, note="SimpleRNN(32), tanh")),
        "lstm_mask_zero": (lstm_mask_zero, dict(binary, note="Embedding(mask_zero=True) -> LSTM(32): the mask reaches the LSTM")),
        "lstm_recurrent_dropout": (lstm_recurrent_dropout, dict(binary, note="LSTM(32, recurrent_dropout=0.2), exported as trained (Keras ignores the dropout at inference)")),
        "conv1d_lstm": (conv1d_lstm, dict(binary, note="keras imdb_cnn_lstm: Dropout, Conv1D(32, 5, relu), MaxPooling1D(4), LSTM(32)")),
        "conv1d": (conv1d, dict(binary, note="keras.io text_classification_from_scratch (smaller): Conv1D(64, 7, strides 3), MaxPooling1D(2), Conv1D(64, 3), GlobalMaxPooling1D, Dense(64, relu); int64 input")),
        "transformer": (transformer, dict(softmax, note="keras.io text_classification_with_transformer: token+position embedding 32, MultiHeadAttention(2 heads, key_dim 32), LayerNormalization, feed-forward Dense(32, relu) -> Dense(32), GlobalAveragePooling1D, Dense(20, relu), Dense(2, softmax); int64 input")),
        "lstm": (lstm, dict(binary, note="LSTM(32): one ONNX LSTM node, no Loop")),
        "bilstm": (bilstm, dict(binary, note="Bidirectional(LSTM(32)): one bidirectional ONNX LSTM node, no Loop")),
    }


def versions() -> dict:
    import google.protobuf
    import keras
    import onnx
    import onnxruntime
    import tensorflow as tf
    import tf2onnx
    return {"python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "keras_backend": keras.backend.backend(),
            "tf2onnx": tf2onnx.__version__, "onnx": onnx.__version__,
            "onnxruntime": onnxruntime.__version__, "numpy": np.__version__,
            "protobuf": google.protobuf.__version__}


def layer_summary(model) -> list[dict]:
    out = []
    for layer in model.layers:
        cfg = layer.get_config()
        keep = {k: cfg[k] for k in (
            "units", "input_dim", "output_dim", "activation", "recurrent_activation",
            "return_sequences", "recurrent_dropout", "dropout", "reset_after", "mask_zero",
            "merge_mode", "filters", "kernel_size", "strides", "padding", "pool_size", "rate",
            "num_heads", "key_dim", "epsilon") if k in cfg}
        if "layer" in cfg:
            keep["layer"] = type(layer.forward_layer).__name__
        try:
            shape = list(layer.output.shape)
        except (AttributeError, ValueError):
            shape = None
        out.append({"class": type(layer).__name__, "name": layer.name, "output_shape": shape,
                    "params": int(layer.count_params()), "config": keep})
    return out


def summary_text(model) -> str:
    lines = []
    model.summary(print_fn=lambda s, line_break=None: lines.append(s), line_length=100)
    return "\n".join(lines)


def export(model, path: Path) -> str:
    """model.export(format="onnx"); returns how the file was made."""
    model.export(str(path), format="onnx", verbose=False)
    return "model.export(path, format='onnx')  # Keras 3, TensorFlow backend: tf2onnx.convert.from_function, tf2onnx's default opset"


def main(argv=None) -> list[str]:
    """Train, export and record the chosen models; returns the names that failed."""
    models = _models()
    a = fx.parse_args("Train and export the Keras 3 fixtures.", "testdata/keras3", models, argv)
    import keras

    try:
        (xtr_all, ytr), (xte_all, yte) = imdb_data.load_data(NUM_WORDS)
    except imdb_data.DataError as e:
        print("generate:", e, file=sys.stderr)
        return ["data"]
    xtr = imdb_data.pad_sequences(xtr_all[:a.train_rows], MAXLEN, "post")
    ytr = ytr[:a.train_rows]
    xte = imdb_data.pad_sequences(xte_all, MAXLEN, "post")
    ver = versions()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    failed = []
    for name in a.names:
        build, s = models[name]
        keras.utils.set_random_seed(SEED)
        model = build()
        model.compile(loss=s["loss"], optimizer="adam", metrics=["accuracy"])
        dtype = np.dtype(model.inputs[0].dtype)
        t0 = time.perf_counter()
        hist = model.fit(xtr.astype(dtype), ytr, batch_size=BATCH, epochs=1, verbose=0)
        secs = time.perf_counter() - t0
        loss, acc = model.evaluate(xte.astype(dtype), yte, batch_size=500, verbose=0)
        print(f"{name}: trained in {secs:.0f} s, test accuracy {acc:.4f}", flush=True)

        sets = fx.data_sets(xte_all, NUM_WORDS, MAXLEN, "post", "pre", dtype)
        info = {
            "name": name,
            "producer": "keras",
            "note": s["note"],
            "output": s["head"],
            "export": {"function": "keras.Model.export"},
            "model": {"params": int(model.count_params()), "layers": layer_summary(model),
                      "summary": summary_text(model)},
            "data": {"source": "imdb.load_data(num_words=4000) rebuilt by scripts/keras/imdb_data.py",
                     "num_words": NUM_WORDS, "maxlen": MAXLEN, "padding": "post",
                     "truncating": "pre", "dtype": dtype.name},
            "train": {"rows": int(len(xtr)), "epochs": 1, "batch_size": BATCH, "seed": SEED,
                      "optimizer": "Adam (Keras defaults: lr 1e-3, beta1 0.9, beta2 0.999, eps 1e-7)",
                      "loss": s["loss"], "seconds": round(secs, 1),
                      "history": {k: [float(v) for v in vs] for k, vs in hist.history.items()}},
            "test": {"rows": int(len(xte)), "loss": float(loss), "accuracy": float(acc)},
            "producer_outputs": "model.predict(x, batch_size=64), float32",
            "versions": ver,
            "command": " ".join(["python", *sys.argv]),
        }

        def predict(x, model=model):
            return [model.predict(x, batch_size=64, verbose=0).astype(np.float32)]
        if not fx.produce(out, name, lambda path, model=model: export(model, path), sets,
                          predict, info):
            failed.append(name)
        keras.backend.clear_session()
    return failed


if __name__ == "__main__":
    fx.run(main)
