"""Writes dataset/testdata/tokenizer_golden.json: what Keras 2.15's
preprocessing.text.Tokenizer gives for a few texts (word_index and
texts_to_sequences under several num_words / oov_token settings), the
golden the Go Vocabulary is checked against.

Run: scripts/keras/.venv/bin/python scripts/keras/tokenizer_golden.py
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
from tensorflow.keras.preprocessing.text import Tokenizer  # noqa: E402

FIT = [
    "The movie was GREAT, great fun!",
    "a bad movie... the plot; the acting?",
    "Ünïcode ÉCOLE école straße STRASSE",
    "tabs\tand\nnewlines, (brackets) [more] {more} it's <br />ok",
    "z y x w v u the the a",
]
ENCODE = FIT + ["unseen words and the movie", "", "GREAT école <OOV> oov"]
SETTINGS = [(None, None), (None, "<OOV>"), (6, None), (6, "<OOV>"), (2, "<OOV>"), (10, "oov")]


def main(out):
    cases = []
    for num_words, oov in SETTINGS:
        t = Tokenizer(num_words=num_words, oov_token=oov)
        t.fit_on_texts(FIT)
        cases.append({
            "num_words": num_words or 0,
            "oov_token": oov or "",
            "word_index": t.word_index,
            "sequences": t.texts_to_sequences(ENCODE),
        })
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"fit": FIT, "encode": ENCODE, "cases": cases}, f, ensure_ascii=False, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "dataset/testdata/tokenizer_golden.json")
