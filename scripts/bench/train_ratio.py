"""birnn's trainer against PyTorch 2 (and Keras 3), back to back: seconds per study epoch.

For each config, with the same thread count: `birnn train --config C --epochs 1` on the real IMDB
data (GOMAXPROCS=threads), then scripts/bench/torch_anchor.py (torch.set_num_threads), then
keras3_anchor.py when a Keras 3 python is given. One JSON line per config on stdout, then a
Markdown table:

    config | threads | birnn s/epoch | PyTorch s/epoch | ratio | birnn CPU-s | PyTorch CPU-s |
    CPU ratio | birnn peak RSS | PyTorch peak RSS | Keras 3 s/epoch | load average

birnn's s/epoch is its history.json `seconds` (the 137 training steps and the 7,500-review
validation pass, as the anchors' epoch_seconds). Its CPU-s is the process CPU time between the
"Epoch 1/1" line and the epoch's summary line, read from /proc (data loading and the final
test-split evaluation excluded, as the anchors exclude theirs). Its peak RSS is the whole
process's (ru_maxrss: data loading and test evaluation included). A benchmark: it never fails
on time; the load average says how quiet the shared machine was.

    scripts/bench/train_ratio.sh [--config deep_bilstm,deep_lstm,bilstm] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def proc_cpu(pid: int) -> float:
    """utime + stime of a live process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_birnn(birnn: str, data: str, config: str, threads: int, out: str) -> dict:
    env = dict(os.environ, GOMAXPROCS=str(threads))
    load = os.getloadavg()
    t0 = time.perf_counter()
    p = subprocess.Popen([birnn, "--data", data, "train", "--config", config, "--epochs", "1",
                          "--out", out], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, env=env)
    cpu0 = cpu1 = None
    lines = []
    for line in p.stdout:
        lines.append(line)
        if line.startswith("Epoch 1/1"):
            cpu0 = proc_cpu(p.pid)
        elif "ms/step - loss:" in line and cpu1 is None:
            cpu1 = proc_cpu(p.pid)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode:
        sys.stderr.write("".join(lines))
        raise SystemExit(f"train_ratio: birnn train --config {config}: exit {p.returncode}")
    with open(os.path.join(out, "history.json")) as f:
        hist = json.load(f)
    return {"system": "birnn", "config": config, "threads": threads,
            "epoch_seconds": [round(hist["seconds"][0], 2)],
            "cpu_seconds": round(cpu1 - cpu0, 2) if cpu0 is not None and cpu1 is not None else None,
            "peak_rss_mb": round(ru.ru_maxrss / 1024, 1),
            "val_accuracy": [round(hist["val_accuracy"][0], 4)],
            "process_seconds": round(time.perf_counter() - t0, 2),
            "load_average_before": [round(v, 2) for v in load],
            "load_average_after": [round(v, 2) for v in os.getloadavg()]}


def run_anchor(python: str, script: str, config: str, threads: int) -> dict | None:
    p = subprocess.run([python, str(HERE / script), "--config", config, "--threads", str(threads)],
                       stdout=subprocess.PIPE, text=True)
    if p.returncode:
        print(f"train_ratio: {script} {config}: exit {p.returncode}", file=sys.stderr)
        return None
    return json.loads(p.stdout.strip().splitlines()[-1])


def fmt(v, spec="{:.1f}"):
    return "–" if v is None else spec.format(v)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--birnn", required=True, help="the birnn binary")
    ap.add_argument("--data", required=True, help="the IMDB data folder")
    ap.add_argument("--config", default="deep_bilstm,deep_lstm,bilstm")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--keras3-python", default="", help="a Keras 3 venv's python (optional)")
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="birnn-ratio-") as tmp:
        for c in a.config.split(","):
            print(f"train_ratio: {c}, {a.threads} threads: birnn", file=sys.stderr, flush=True)
            b = run_birnn(a.birnn, a.data, c, a.threads, os.path.join(tmp, c))
            print(json.dumps(b), flush=True)
            print(f"train_ratio: {c}, {a.threads} threads: PyTorch", file=sys.stderr, flush=True)
            t = run_anchor(sys.executable, "torch_anchor.py", c, a.threads)
            if t:
                print(json.dumps(t), flush=True)
            k = None
            if a.keras3_python:
                print(f"train_ratio: {c}, {a.threads} threads: Keras 3", file=sys.stderr, flush=True)
                k = run_anchor(a.keras3_python, "keras3_anchor.py", c, a.threads)
                if k:
                    print(json.dumps(k), flush=True)
            rows.append((c, b, t, k))
    print()
    print("| config | threads | birnn s/epoch | PyTorch s/epoch | ratio | birnn CPU-s | PyTorch CPU-s "
          "| CPU ratio | birnn peak RSS MB | PyTorch peak RSS MB | Keras 3 s/epoch | load avg (1 min) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for c, b, t, k in rows:
        bs, bc = b["epoch_seconds"][0], b["cpu_seconds"]
        ts = t["epoch_seconds"][0] if t else None
        tc = t["cpu_seconds"] if t else None
        ks = k["epoch_seconds"][0] if k else None
        ratio = bs / ts if ts else None
        cratio = bc / tc if bc and tc else None
        load = f'{b["load_average_before"][0]:.1f}–{(t or b)["load_average_after"][0]:.1f}'
        print(f"| {c} | {a.threads} | {fmt(bs)} | {fmt(ts)} | {fmt(ratio, '{:.2f}×')} | {fmt(bc)} "
              f"| {fmt(tc)} | {fmt(cratio, '{:.2f}×')} | {fmt(b['peak_rss_mb'], '{:.0f}')} "
              f"| {fmt(t['peak_rss_mb'] if t else None, '{:.0f}')} | {fmt(ks)} | {load} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
