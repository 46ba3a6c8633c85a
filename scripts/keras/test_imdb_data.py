"""Tests of imdb_data against independent references: the keras-oracle files, Keras's own
pad_sequences and hand-worked tokenizations.

    scripts/keras/.venv/bin/python -m pytest scripts/keras -q

Tests that need the data folder skip when it is missing, and fail instead when CI=true.
"""

import gzip
import os

import numpy as np
import pytest

import imdb_data


def _data_or_skip():
    try:
        return imdb_data.imdb_dir()
    except imdb_data.DataError as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"data folder needed under CI: {e}")
        pytest.skip(str(e))


@pytest.fixture(scope="module")
def keras4000():
    _data_or_skip()
    return imdb_data.load_data(4000)


def test_load_data_equals_keras_oracle(keras4000):
    oracle = imdb_data.imdb_dir() / "keras-oracle"
    for (x, y), split in zip(keras4000, ("train", "test")):
        ox, oy = imdb_data.read_sequences(oracle / f"keras_x_{split}_4000.txt.gz")
        assert len(x) == len(ox) == 25000
        assert np.array_equal(y, oy), split
        diff = [i for i in range(len(x)) if x[i] != ox[i]]
        assert not diff, f"{split}: {len(diff)} rows differ, first {diff[:5]}"


def test_load_data_published_facts(keras4000):
    # Facts anyone can read off Keras's imdb.load_data(num_words=4000) output.
    (xtr, ytr), (xte, yte) = keras4000
    assert xtr[0][:10] == [1, 14, 22, 16, 43, 530, 973, 1622, 1385, 65]
    assert len(xtr[0]) == 218 and ytr[0] == 1
    assert int(ytr.sum()) == 12500 and int(yte.sum()) == 12500
    assert max(max(s) for s in xtr) == 3999
    assert all(s[0] == 1 for s in xte)


def test_pad_sequences_matches_keras():
    tf = pytest.importorskip("tensorflow")
    rng = np.random.RandomState(0)
    seqs = [list(rng.randint(1, 50, size=n)) for n in (0, 1, 5, 7, 12, 30)]
    for padding in ("pre", "post"):
        for truncating in ("pre", "post"):
            for maxlen in (1, 7, 10, None):
                want = tf.keras.utils.pad_sequences(
                    seqs, maxlen=maxlen, padding=padding, truncating=truncating)
                got = imdb_data.pad_sequences(seqs, maxlen, padding, truncating)
                assert got.dtype == np.int32
                np.testing.assert_array_equal(got, want, err_msg=f"{padding} {truncating} {maxlen}")


def test_pad_sequences_study_setting():
    # padding='post' keeps the last maxlen tokens (truncating stays 'pre').
    got = imdb_data.pad_sequences([[1, 2, 3, 4, 5], [7, 8]], 3, padding="post")
    np.testing.assert_array_equal(got, [[3, 4, 5], [7, 8, 0]])


def test_pad_sequences_bad_mode():
    with pytest.raises(ValueError, match="padding"):
        imdb_data.pad_sequences([[1]], 2, padding="middle")


@pytest.mark.parametrize("text,want", [
    (b"This movie<br /><br />was GREAT!", ["this", "movie", "br", "br", "was", "great"]),
    (b"it's a 10/10 -- really\tgood\n", ["it's", "a", "10", "10", "really", "good"]),
    (b"  spaces   only  ", ["spaces", "only"]),
    # Only ASCII letters are lower-cased; other bytes pass through unchanged.
    (b"CAF\xc3\x89 caf\xc3\xa9", ["caf\u00c9", "caf\u00e9"]),
    (b"!!!", []),
])
def test_tokenize(text, want):
    assert imdb_data.tokenize(text) == want


def test_tokenize_equals_keras():
    tf = pytest.importorskip("tensorflow")
    text = 'A "Film" (1999): <br />Great... #1 [sic] {x} a~b `q` it\'s ok; yes|no\tend'
    want = tf.keras.preprocessing.text.text_to_word_sequence(text)
    assert imdb_data.tokenize(text.encode()) == want


def test_read_sequences_and_clip(tmp_path):
    p = tmp_path / "seq.txt.gz"
    with gzip.open(p, "wt") as f:
        f.write("1 1 14 5000 22\n0 1 3999 4000\n\n")
    x, y = imdb_data.read_sequences(p, num_words=4000)
    assert list(y) == [1, 0]
    assert x[0] == [1, 14, 2, 22] and x[1] == [1, 3999, 2]


@pytest.mark.parametrize("body,msg", [
    ("1 1 x 3\n", "not integers"),
    ("3 1 2\n", "label 3"),
    ("1 1 -4\n", "negative"),
    ("\n", "no sequences"),
])
def test_read_sequences_errors(tmp_path, body, msg):
    p = tmp_path / "bad.txt"
    p.write_text(body)
    with pytest.raises(imdb_data.DataError, match=msg):
        imdb_data.read_sequences(p)


def test_read_sequences_missing_file(tmp_path):
    with pytest.raises(imdb_data.DataError, match="nope"):
        imdb_data.read_sequences(tmp_path / "nope.txt")


def test_cli_from_sequences(tmp_path):
    p = tmp_path / "s.txt"
    p.write_text("1 1 2 3\n0 1 9\n")
    out = tmp_path / "o.npz"
    assert imdb_data.main(["--from-sequences", str(p), "--maxlen", "4", "--out", str(out)]) == 0
    z = np.load(out)
    np.testing.assert_array_equal(z["x_train"], [[1, 2, 3, 0], [1, 9, 0, 0]])
    np.testing.assert_array_equal(z["y_train"], [1, 0])
