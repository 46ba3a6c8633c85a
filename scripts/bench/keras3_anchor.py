"""Keras 3 (TensorFlow 2.21) anchor for birnn's trainer speed: seconds per study epoch on the
real IMDB data, in the environment of scripts/keras3/setup.sh.

The study's own Keras models (Embedding(4000, 64), LSTM(64) or Bidirectional(LSTM(64)), the
deep ones with return_sequences on the first layer, Dense(1, sigmoid)), compiled with Adam and
binary cross-entropy and fitted one epoch on 17,500 rows with validation_data = the other
7,500, batch 128 (see anchor.py). Each (config, threads) runs in its own process with TF's
intra-op threads set to the count (inter-op 1) and prints one JSON line.

    PY="$(scripts/keras3/setup.sh)"
    "$PY" scripts/bench/keras3_anchor.py                       # all configs, 1 and 2 threads
"""

import os
import sys
import time

import anchor


def child(a):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(int(a.threads))
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras
    from keras import layers

    keras.utils.set_random_seed(a.seed)
    x, y, xv, yv = anchor.load(a.child)
    deep, bi = a.config.startswith("deep"), "bilstm" in a.config

    def rnn(seq):
        lstm = layers.LSTM(64, return_sequences=seq)
        return layers.Bidirectional(lstm) if bi else lstm
    stack = [keras.Input(shape=(anchor.SEQ,), dtype="int32"), layers.Embedding(anchor.NUM_WORDS, anchor.DIM)]
    stack += [rnn(True), rnn(False)] if deep else [rnn(False)]
    m = keras.Sequential(stack + [layers.Dense(1, activation="sigmoid")])
    m.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])

    class Timer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.epochs = []

        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_test_begin(self, logs=None):
            self.t_val = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            t = time.perf_counter()
            self.epochs.append({"train": self.t_val - self.t0, "val": t - self.t_val,
                                "loss": logs["loss"], "val_loss": logs["val_loss"],
                                "val_accuracy": logs["val_accuracy"]})

    timer = Timer()
    rss_before = anchor.rss_mb()
    load_before = os.getloadavg()
    _, c0 = anchor.clock()
    m.fit(x, y, batch_size=anchor.BATCH, epochs=a.epochs, validation_data=(xv, yv),
          shuffle=True, verbose=0, callbacks=[timer])
    _, c1 = anchor.clock()
    anchor.report("keras3", a, int(m.count_params()), timer.epochs, rss_before, load_before,
                  {"tensorflow": tf.__version__, "keras": keras.__version__,
                   "numpy": np.__version__, "python": sys.version.split()[0]}, c1 - c0)


def main():
    a = anchor.parser("Keras 3").parse_args()
    if a.child:
        child(a)
        return 0
    return anchor.run(os.path.abspath(__file__), a)


if __name__ == "__main__":
    sys.exit(main())
