"""PyTorch 2 anchor for birnn's trainer speed: seconds per study epoch on the real IMDB data.

Trains the study's shapes in PyTorch (the pinned CPU build of scripts/torch/setup.sh) for one
epoch as Keras's study does (see anchor.py): deep_bilstm = Embedding(4000, 64) -> BiLSTM(64,
all steps) -> BiLSTM(64) -> Linear(128, 1); deep_lstm = Embedding -> LSTM(64, all steps) ->
LSTM(64) -> Linear(64, 1); bilstm = Embedding -> BiLSTM(64) -> Linear(128, 1). The loss is
binary cross-entropy on the logit, Adam lr 1e-3, eps 1e-7 (Keras's defaults); validation is
scored under torch.no_grad() in batches of 128. Each (config, threads) runs in its own process
(torch.set_num_threads, OMP_NUM_THREADS) and prints one JSON line.

OMP_WAIT_POLICY is PASSIVE unless the environment sets it: with OpenMP's default, idle worker
threads spin, and on a shared 2-core machine two spinning threads that lose their core make a
step 10-50x slower (measured here, one BiLSTM(64) training step at batch 128 on 2 threads,
load average 9: 0.45-0.58 s passive, 7.9-47 s active). Set OMP_WAIT_POLICY=ACTIVE to measure
OpenMP's default on a machine of one's own; each line records the policy used.

    PY="$(scripts/torch/setup.sh)"
    "$PY" scripts/bench/torch_anchor.py                        # all configs, 1 and 2 threads
    "$PY" scripts/bench/torch_anchor.py --config deep_bilstm --threads 2 --epochs 2
"""

import os
import sys
import time

import anchor


def child(a):
    import numpy as np
    import torch
    from torch import nn

    torch.set_num_threads(int(a.threads))
    torch.set_num_interop_threads(1)
    torch.manual_seed(a.seed)
    x, y, xv, yv = (torch.from_numpy(v) for v in anchor.load(a.child))
    x, xv = x.long(), xv.long()
    deep, bi = a.config.startswith("deep"), "bilstm" in a.config
    dirs = 2 if bi else 1

    class Study(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(anchor.NUM_WORDS, anchor.DIM)
            self.l1 = nn.LSTM(anchor.DIM, 64, batch_first=True, bidirectional=bi)
            self.l2 = nn.LSTM(64 * dirs, 64, batch_first=True, bidirectional=bi) if deep else None
            self.out = nn.Linear(64 * dirs, 1)

        def forward(self, ids):
            h, (hn, _) = self.l1(self.emb(ids))
            if self.l2 is not None:
                _, (hn, _) = self.l2(h)
            # Keras's last output: forward state after the last step, backward after step 0.
            last = torch.cat([hn[0], hn[1]], dim=1) if bi else hn[0]
            return self.out(last).squeeze(1)

    m = Study()
    params = sum(p.numel() for p in m.parameters())
    opt = torch.optim.Adam(m.parameters(), lr=1e-3, eps=1e-7)
    lossf = nn.BCEWithLogitsLoss()
    rss_before = anchor.rss_mb()
    load_before = os.getloadavg()
    epochs = []
    _, c0 = anchor.clock()
    for _ in range(a.epochs):
        t0 = time.perf_counter()
        m.train()
        perm = torch.randperm(len(x))
        total = 0.0
        for i in range(0, len(x), anchor.BATCH):
            idx = perm[i:i + anchor.BATCH]
            opt.zero_grad()
            loss = lossf(m(x[idx]), y[idx])
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        t_train = time.perf_counter() - t0
        t0 = time.perf_counter()
        m.eval()
        vl, correct = 0.0, 0
        with torch.no_grad():
            for i in range(0, len(xv), anchor.BATCH):
                z = m(xv[i:i + anchor.BATCH])
                vl += float(lossf(z, yv[i:i + anchor.BATCH])) * len(z)
                correct += int(((z > 0).float() == yv[i:i + anchor.BATCH]).sum())
        t_val = time.perf_counter() - t0
        epochs.append({"train": t_train, "val": t_val, "loss": total / len(x),
                       "val_loss": vl / len(xv), "val_accuracy": correct / len(xv)})
    _, c1 = anchor.clock()
    anchor.report("pytorch", a, params, epochs, rss_before, load_before,
                  {"torch": torch.__version__, "numpy": np.__version__,
                   "python": sys.version.split()[0],
                   "mkldnn": torch.backends.mkldnn.is_available(),
                   "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY")}, c1 - c0)


def main():
    a = anchor.parser("PyTorch").parse_args()
    if a.child:
        child(a)
        return 0
    return anchor.run(os.path.abspath(__file__), a, lambda t: {
        "OMP_NUM_THREADS": str(t), "MKL_NUM_THREADS": str(t),
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")})


if __name__ == "__main__":
    sys.exit(main())
