"""The shared half of the trainer-speed anchors (torch_anchor.py, keras3_anchor.py).

Each anchor trains the study's models on the real IMDB data exactly as one Keras epoch of the
study does: `imdb.load_data(num_words=4000)` (rebuilt by scripts/keras/imdb_data.py),
`pad_sequences(maxlen=100, padding='post')`, the first 17,500 training rows for training
(reshuffled every epoch, batches of 128: 137 steps) and the last 7,500 for validation
(`validation_split=0.3`), Adam (lr 1e-3, beta 0.9/0.999, eps 1e-7), binary cross-entropy.

The driver (`run`) loads the data once, then starts one child process per (config, threads)
so that each peak RSS is that run's alone, and prints one JSON line per run on stdout:

    {"system", "config", "threads", "epochs", "epoch_seconds": [...], "train_seconds": [...],
     "val_seconds": [...], "cpu_seconds", "peak_rss_mb", "rss_before_train_mb", "params",
     "train_loss", "val_loss", "val_accuracy", "train_rows", "val_rows", "batch", "seq",
     "load_average_before", "load_average_after", "versions", "cpu", "cpu_flags"}

epoch_seconds = train + validation wall seconds of each epoch (the first includes warm-up:
graph tracing, allocator growth). cpu_seconds is the child's process CPU time over all epochs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "keras"))
import imdb_data  # noqa: E402

CONFIGS = ("deep_bilstm", "deep_lstm", "bilstm")
TRAIN_ROWS, VAL_ROWS, BATCH, SEQ, NUM_WORDS, DIM = 17500, 7500, 128, 100, 4000, 64


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def cpu_flags() -> list[str]:
    """The SIMD flags of the CPU that matter for these kernels."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    have = set(line.split(":", 1)[1].split())
                    return [f for f in ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16")
                            if f in have]
    except OSError:
        pass
    return []


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return round(int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


def load(path: str):
    """(x_train, y_train, x_val, y_val) from the driver's npz file."""
    with np.load(path) as z:
        return z["x_train"], z["y_train"], z["x_val"], z["y_val"]


def parser(system: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=f"{system} seconds per study epoch on the real IMDB data")
    ap.add_argument("--config", default=",".join(CONFIGS),
                    help=f"comma-separated, of {', '.join(CONFIGS)} (default: all)")
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--train-rows", type=int, default=TRAIN_ROWS, help="smoke tests only")
    ap.add_argument("--child", metavar="NPZ", help=argparse.SUPPRESS)
    return ap


def run(script: str, a, child_env=None) -> int:
    """The driver: data once, one child per (config, threads), JSON lines on stdout."""
    configs = a.config.split(",")
    for c in configs:
        if c not in CONFIGS:
            print(f"anchor: unknown config {c!r} (have {', '.join(CONFIGS)})", file=sys.stderr)
            return 2
    threads = [int(t) for t in a.threads.split(",")]
    try:
        (xtr, ytr), _ = imdb_data.load_padded(NUM_WORDS, SEQ, "post")
    except imdb_data.DataError as e:
        print("anchor:", e, file=sys.stderr)
        return 1
    n = TRAIN_ROWS + VAL_ROWS
    x, y = xtr[:n], ytr[:n].astype(np.float32)
    with tempfile.TemporaryDirectory(prefix="birnn-anchor-") as tmp:
        path = os.path.join(tmp, "imdb.npz")
        np.savez(path, x_train=x[:a.train_rows], y_train=y[:a.train_rows],
                 x_val=x[TRAIN_ROWS:], y_val=y[TRAIN_ROWS:])
        rc = 0
        for c in configs:
            for t in threads:
                env = dict(os.environ, **(child_env(t) if child_env else {}))
                cmd = [sys.executable, script, "--child", path, "--config", c, "--threads", str(t),
                       "--epochs", str(a.epochs), "--seed", str(a.seed),
                       "--train-rows", str(a.train_rows)]
                p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True)
                sys.stdout.write(p.stdout)
                sys.stdout.flush()
                if p.returncode:
                    print(f"anchor: {c} threads {t}: exit {p.returncode}", file=sys.stderr)
                    rc = 1
    return rc


def report(system: str, a, params: int, epochs: list[dict], rss_before: float, load_before,
           versions: dict, cpu_seconds: float) -> None:
    """Print the child's JSON line."""
    print(json.dumps({
        "system": system, "config": a.config, "threads": int(a.threads), "epochs": a.epochs,
        "epoch_seconds": [round(e["train"] + e["val"], 2) for e in epochs],
        "train_seconds": [round(e["train"], 2) for e in epochs],
        "val_seconds": [round(e["val"], 2) for e in epochs],
        "cpu_seconds": round(cpu_seconds, 2),
        "peak_rss_mb": peak_rss_mb(), "rss_before_train_mb": rss_before, "params": params,
        "train_loss": [round(e["loss"], 4) for e in epochs],
        "val_loss": [round(e["val_loss"], 4) for e in epochs],
        "val_accuracy": [round(e["val_accuracy"], 4) for e in epochs],
        "train_rows": a.train_rows, "val_rows": VAL_ROWS, "batch": BATCH, "seq": SEQ,
        "load_average_before": [round(v, 2) for v in load_before],
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
        "versions": versions, "cpu": cpu_model(), "cpu_flags": cpu_flags(),
    }), flush=True)


def clock():
    return time.perf_counter(), time.process_time()
