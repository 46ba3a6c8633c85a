"""Keras's IMDB arrays, rebuilt offline from the Stanford tarball and Keras's word index.

`load_data(num_words=4000)` returns exactly what `keras.datasets.imdb.load_data(num_words=4000)`
returns (same rows, same order, same ids), without Keras's download, which is unreachable here.
The recipe, the one birnn's dataset package implements in Go:

1. Read every review of `aclImdb/{train,test}/{pos,neg}/*.txt`, `pos` first, file names sorted
   as strings, from `aclImdb_v1_labeled.tar.gz`, `aclImdb_v1.tar.gz` or an unpacked `aclImdb/`.
2. Tokenize as Keras's `text_to_word_sequence`: ASCII upper case to lower case byte by byte,
   each of ``!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~`` and tab/newline becomes a space, split on spaces,
   drop empty words (so `<br />` gives `br`).
3. Map each word to its rank in `imdb_word_index.json` plus `index_from` (3); words that are not
   in the index are dropped; prepend `start_char` (1).
4. Shuffle train with `numpy.random.RandomState(113).shuffle`, then test with the same generator.
5. Ids >= num_words become `oov_char` (2).

`pad_sequences` matches `keras.utils.pad_sequences` for int32 output (`padding` and `truncating`
'pre' or 'post'; Keras's defaults are both 'pre').

Command line:

    python imdb_data.py --check                     # compare with the keras-oracle files
    python imdb_data.py --out imdb4000.npz          # padded arrays for other tools
    python imdb_data.py --from-sequences FILE ...   # read `label id id ...` lines instead

The data folder is `$BIRNN_DATA`, else `../shared/data` from the repository root.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import sys
import tarfile
from pathlib import Path

import numpy as np

SEED = 113
START_CHAR = 1
OOV_CHAR = 2
INDEX_FROM = 3

# Keras's default `filters` of text_to_word_sequence, plus the split character.
_FILTERS = b'!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
_TRANSLATE = bytes(
    (b + 32) if 65 <= b <= 90 else (32 if bytes([b]) in _FILTERS else b) for b in range(256)
)


class DataError(Exception):
    """A data file is missing or malformed."""


def repo_root(start: Path | None = None) -> Path:
    """The folder holding go.mod, walking up from `start` (default: this file's folder)."""
    p = (start or Path(__file__)).resolve()
    for d in [p, *p.parents]:
        if (d / "go.mod").is_file():
            return d
    raise DataError(f"no go.mod above {p}")


def data_dir() -> Path:
    """`$BIRNN_DATA`, else `../shared/data` relative to the repository root."""
    env = os.environ.get("BIRNN_DATA")
    d = Path(env) if env else repo_root().parent / "shared" / "data"
    if not d.is_dir():
        raise DataError(f"data folder {d} not found (set BIRNN_DATA)")
    return d


def imdb_dir(root: Path | None = None) -> Path:
    """The `imdb` folder of the data folder (or the folder itself if it holds the word index)."""
    root = Path(root) if root else data_dir()
    if (root / "imdb_word_index.json").is_file():
        return root
    if (root / "imdb" / "imdb_word_index.json").is_file():
        return root / "imdb"
    raise DataError(f"imdb_word_index.json not found in {root} or {root / 'imdb'}")


def tokenize(text: bytes) -> list[str]:
    """Keras `text_to_word_sequence` on raw bytes (ASCII lower-casing only)."""
    return [w.decode("utf-8", "replace") for w in text.translate(_TRANSLATE).split(b" ") if w]


def word_index(folder: Path | None = None) -> dict[str, int]:
    """Keras's IMDB word index: word -> frequency rank (1 = most frequent)."""
    path = imdb_dir(folder) / "imdb_word_index.json"
    with open(path, encoding="utf-8") as f:
        idx = json.load(f)
    if not isinstance(idx, dict) or not idx:
        raise DataError(f"{path}: not a word index")
    return idx


def _review_name(name: str):
    """('train'|'test', 'pos'|'neg', file name) for a review path, else None."""
    parts = name.replace("\\", "/").split("/")
    if len(parts) < 4 or not parts[-1].endswith(".txt"):
        return None
    split, label, fname = parts[-3], parts[-2], parts[-1]
    if split not in ("train", "test") or label not in ("pos", "neg"):
        return None
    return split, label, fname


def read_reviews(folder: Path | None = None) -> dict[tuple[str, str], list[tuple[str, bytes]]]:
    """Raw reviews keyed by (split, label), each a list of (file name, bytes) sorted by name.

    Reads `aclImdb_v1_labeled.tar.gz`, `aclImdb_v1.tar.gz` or an unpacked `aclImdb/` folder
    in the imdb folder; `train/unsup` and `.feat` files are ignored.
    """
    d = imdb_dir(folder)
    out: dict[tuple[str, str], list[tuple[str, bytes]]] = {
        (s, l): [] for s in ("train", "test") for l in ("pos", "neg")
    }
    unpacked = d / "aclImdb"
    if unpacked.is_dir():
        for (s, l), items in out.items():
            for p in (unpacked / s / l).glob("*.txt"):
                items.append((p.name, p.read_bytes()))
    else:
        for name in ("aclImdb_v1_labeled.tar.gz", "aclImdb_v1.tar.gz"):
            tar_path = d / name
            if tar_path.is_file():
                break
        else:
            raise DataError(f"no aclImdb_v1_labeled.tar.gz, aclImdb_v1.tar.gz or aclImdb/ in {d}")
        with tarfile.open(tar_path, "r:gz") as tar:
            for m in tar:
                if not m.isfile():
                    continue
                key = _review_name(m.name)
                if key is None:
                    continue
                out[(key[0], key[1])].append((key[2], tar.extractfile(m).read()))
    for key, items in out.items():
        if not items:
            raise DataError(f"no reviews in {key[0]}/{key[1]} of {d}")
        items.sort(key=lambda t: t[0])
    return out


def _clip(xs, num_words):
    if not num_words:
        return xs
    return [[w if w < num_words else OOV_CHAR for w in x] for x in xs]


def load_data(num_words: int | None = 4000, folder: Path | None = None, seed: int = SEED):
    """Keras `imdb.load_data(num_words=num_words)`: ((x_train, y_train), (x_test, y_test)).

    x_* are numpy object arrays of Python int lists (unpadded, starting with 1), y_* int64 0/1,
    25,000 rows each, in Keras's row order. `num_words=None` keeps every id.
    """
    index = word_index(folder)
    reviews = read_reviews(folder)
    rng = np.random.RandomState(seed)
    splits = []
    for split in ("train", "test"):
        xs, ys = [], []
        for label, y in (("pos", 1), ("neg", 0)):
            for _, text in reviews[(split, label)]:
                ids = [START_CHAR]
                for w in tokenize(text):
                    r = index.get(w)
                    if r is not None:
                        ids.append(r + INDEX_FROM)
                xs.append(ids)
                ys.append(y)
        order = np.arange(len(xs))
        rng.shuffle(order)
        x = np.empty(len(xs), dtype=object)
        x[:] = [xs[i] for i in order]
        y = np.asarray(ys, dtype=np.int64)[order]
        splits.append((x, y))
    return tuple((_as_object(_clip(x, num_words)), y) for x, y in splits)


def _as_object(seqs):
    x = np.empty(len(seqs), dtype=object)
    x[:] = seqs
    return x


def read_sequences(path: str | os.PathLike, num_words: int | None = None):
    """Read `label id id ...` lines (plain or .gz), the keras-oracle / `birnn data sequences` format.

    Returns (x, y) like one split of `load_data`; ids >= num_words become 2 when num_words is set.
    Raises DataError naming the file and line on a malformed line.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    xs, ys = [], []
    try:
        f = opener(path, "rt", encoding="ascii")
    except OSError as e:
        raise DataError(f"{path}: {e}") from e
    with f:
        for n, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            try:
                vals = [int(v) for v in fields]
            except ValueError:
                raise DataError(f"{path}:{n}: not integers: {line[:60]!r}") from None
            if vals[0] not in (0, 1):
                raise DataError(f"{path}:{n}: label {vals[0]} is not 0 or 1")
            if any(v < 0 for v in vals[1:]):
                raise DataError(f"{path}:{n}: negative word id")
            ys.append(vals[0])
            xs.append(vals[1:])
    if not xs:
        raise DataError(f"{path}: no sequences")
    return _as_object(_clip(xs, num_words)), np.asarray(ys, dtype=np.int64)


def pad_sequences(seqs, maxlen: int | None = None, padding: str = "pre",
                  truncating: str = "pre", value: int = 0) -> np.ndarray:
    """Keras `pad_sequences` to int32 `[n, maxlen]` (maxlen defaults to the longest row)."""
    if padding not in ("pre", "post") or truncating not in ("pre", "post"):
        raise ValueError(f"padding/truncating must be 'pre' or 'post', got {padding!r}/{truncating!r}")
    if maxlen is None:
        maxlen = max((len(s) for s in seqs), default=0)
    out = np.full((len(seqs), maxlen), value, dtype=np.int32)
    for i, s in enumerate(seqs):
        if not len(s) or maxlen == 0:
            continue
        s = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        if padding == "post":
            out[i, : len(s)] = s
        else:
            out[i, maxlen - len(s):] = s
    return out


def load_padded(num_words: int = 4000, maxlen: int = 100, padding: str = "post",
                truncating: str = "pre", train_sequences=None, test_sequences=None):
    """load_data + pad_sequences: ((x_train, y_train), (x_test, y_test)) with x int32 [25000, maxlen].

    With train_sequences/test_sequences (files of `label id id ...`), those are read instead.
    """
    if train_sequences or test_sequences:
        if not (train_sequences and test_sequences):
            raise DataError("give both train and test sequence files")
        (xtr, ytr), (xte, yte) = (read_sequences(train_sequences, num_words),
                                  read_sequences(test_sequences, num_words))
    else:
        (xtr, ytr), (xte, yte) = load_data(num_words)
    return ((pad_sequences(xtr, maxlen, padding, truncating), ytr),
            (pad_sequences(xte, maxlen, padding, truncating), yte))


def check_against_oracle(num_words: int = 4000, folder: Path | None = None) -> list[str]:
    """Compare load_data with keras-oracle/keras_x_{train,test}_<num_words>.txt.gz; returns problems."""
    d = imdb_dir(folder) / "keras-oracle"
    problems = []
    for (x, y), split in zip(load_data(num_words, folder), ("train", "test")):
        ox, oy = read_sequences(d / f"keras_x_{split}_{num_words}.txt.gz")
        if len(ox) != len(x):
            problems.append(f"{split}: {len(x)} rows, oracle {len(ox)}")
            continue
        bad = [i for i in range(len(x)) if x[i] != ox[i] or y[i] != oy[i]]
        if bad:
            problems.append(f"{split}: {len(bad)} rows differ, first {bad[0]}")
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--num-words", type=int, default=4000)
    ap.add_argument("--maxlen", type=int, default=100)
    ap.add_argument("--padding", choices=("pre", "post"), default="post")
    ap.add_argument("--truncating", choices=("pre", "post"), default="pre")
    ap.add_argument("--check", action="store_true", help="compare with the keras-oracle files")
    ap.add_argument("--from-sequences", metavar="FILE", action="append",
                    help="read `label id id ...` lines instead of the tarball (give train then test)")
    ap.add_argument("--out", metavar="NPZ", help="write the padded arrays (x_train, y_train, x_test, y_test)")
    a = ap.parse_args(argv)
    try:
        if a.check:
            problems = check_against_oracle(a.num_words)
            for p in problems:
                print("imdb_data:", p, file=sys.stderr)
            if problems:
                return 1
            print(f"imdb_data: load_data(num_words={a.num_words}) equals the keras-oracle files")
        if a.from_sequences:
            if len(a.from_sequences) > 2:
                ap.error("--from-sequences: at most two files (train, test)")
            arrays = {}
            for name, path in zip(("train", "test"), a.from_sequences):
                x, y = read_sequences(path, a.num_words)
                arrays[f"x_{name}"] = pad_sequences(x, a.maxlen, a.padding, a.truncating)
                arrays[f"y_{name}"] = y
                print(f"{path}: {len(x)} rows, {int(y.sum())} positive, padded to "
                      f"{arrays[f'x_{name}'].shape}")
        else:
            (xtr, ytr), (xte, yte) = load_padded(a.num_words, a.maxlen, a.padding, a.truncating)
            arrays = dict(x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)
            print(f"x_train {xtr.shape}, x_test {xte.shape}, first train row label {ytr[0]}")
        if a.out:
            tmp = a.out + ".tmp.npz"
            np.savez_compressed(tmp, **arrays)
            os.replace(tmp, a.out)
    except DataError as e:
        print("imdb_data:", e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
