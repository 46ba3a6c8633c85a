#!/usr/bin/python3
"""PyTorch anchor for birnn's trainer speed.

Trains the study's deep BiLSTM shapes (Embedding(4000, 64) -> BiLSTM(64,
return_sequences) -> BiLSTM(64) -> Dense(1, sigmoid); binary cross-entropy
on the logit; Adam) for one epoch of 17,500 reviews of length 100 in
batches of 128 (137 steps), then scores the 7,500 validation rows, as one
Keras epoch of the study does. Random ids and labels of the same shapes:
speed does not depend on the values.

Run with Debian's python3-torch (1.13) and Debian's own interpreter.
Debian builds torch against the generic BLAS interface (BLAS_INFO=generic),
which resolves to the slow reference BLAS unless OpenBLAS provides it:
install libopenblas0-pthread too (one step then drops from ~5 to ~0.5 CPU
seconds).

    apt-get install -y python3-torch libopenblas0-pthread

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/bench/torch_anchor.py --threads 1

It prints one JSON line: wall seconds for the training epoch and the
validation pass, the process CPU seconds of both (the fair figure on a
shared machine), the load average, and reviews per second.
"""
import argparse
import json
import os
import platform
import time

import torch
from torch import nn


class DeepBiLSTM(nn.Module):
    def __init__(self, vocab=4000, dim=64, hidden=64):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.l1 = nn.LSTM(dim, hidden, batch_first=True, bidirectional=True)
        self.l2 = nn.LSTM(2 * hidden, hidden, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, 1)

    def forward(self, x):
        h, _ = self.l1(self.emb(x))
        _, (hn, _) = self.l2(h)
        # Keras's Bidirectional "last output": forward state after the last
        # step, backward state after reading right to left.
        last = torch.cat([hn[0], hn[1]], dim=1)
        return self.out(last).squeeze(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--train", type=int, default=17500)
    ap.add_argument("--val", type=int, default=7500)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seq", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    x = torch.randint(0, 4000, (a.train, a.seq))
    y = torch.randint(0, 2, (a.train,)).float()
    xv = torch.randint(0, 4000, (a.val, a.seq))
    yv = torch.randint(0, 2, (a.val,)).float()

    m = DeepBiLSTM()
    opt = torch.optim.Adam(m.parameters(), lr=1e-3, eps=1e-7)
    lossf = nn.BCEWithLogitsLoss()

    c0 = time.process_time()
    t0 = time.perf_counter()
    m.train()
    perm = torch.randperm(a.train)
    for i in range(0, a.train, a.batch):
        idx = perm[i:i + a.batch]
        opt.zero_grad()
        loss = lossf(m(x[idx]), y[idx])
        loss.backward()
        opt.step()
    t_train = time.perf_counter() - t0

    t0 = time.perf_counter()
    m.eval()
    with torch.no_grad():
        for i in range(0, a.val, a.batch):
            lossf(m(xv[i:i + a.batch]), yv[i:i + a.batch])
    t_val = time.perf_counter() - t0
    cpu = time.process_time() - c0

    print(json.dumps({
        "torch": torch.__version__,
        "threads": a.threads,
        "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
        "machine": platform.processor() or platform.machine(),
        "train_rows": a.train, "val_rows": a.val, "batch": a.batch, "seq": a.seq,
        "train_seconds": round(t_train, 2),
        "val_seconds": round(t_val, 2),
        "epoch_seconds": round(t_train + t_val, 2),
        "epoch_cpu_seconds": round(cpu, 2),
        "load_average": [round(v, 1) for v in os.getloadavg()],
        "train_reviews_per_s": round(a.train / t_train, 1),
    }))


if __name__ == "__main__":
    main()
