"""Build look-alikes of the data a learner with internet gets, from the offline copies.

    python3 course.py variants                  # writes .cache/variants/keras-shaped/
    python3 course.py variants --to DIR

The committed notebook outputs are made from the offline copies in
``../shared/datasets`` (MNIST: a 5,000-image training sample; IMDB: 24,996 +
24,996 reviews and a 121,588-word index). A learner or maintainer with
internet gets Keras' downloads instead: 60,000 MNIST training images; IMDB
with 25,000 + 25,000 reviews and an 88,584-word index from another tokenizer.
No machine here can download those, so this writes a folder in the Keras cache
layout whose files have *their shapes*, for testing that every notebook passes
its tests on either source:

- ``mnist.npz``: 60,000 training images (each sample image 12 times, shifted
  by up to two pixels, then shuffled); the 10,000 test images unchanged;
- ``fashion-mnist/``: the offline files (identical to the public ones);
- ``imdb.npz`` + ``imdb_word_index.json``: 25,000 + 25,000 reviews (the
  offline reviews plus 4 repeated ones per split) and an 88,584-word index
  whose ranks differ from the offline one (neighbouring ranks above 10 are
  swapped; words ranked beyond 88,584 are dropped from the index and the
  reviews, as Keras' file has no words outside its index);
- ``SHA256SUMS`` for all of them.

It is a test fixture for maintainers, not data to learn from: the MNIST
copies are near-duplicates, so accuracies on it mean little.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np

from bench.common import ROOT

DEFAULT_SOURCE = ROOT.parent / "shared" / "datasets"
DEFAULT_TARGET = ROOT / ".cache" / "variants" / "keras-shaped"
KERAS_MNIST_TRAIN = 60_000
KERAS_IMDB_REVIEWS = 25_000
KERAS_IMDB_WORDS = 88_584


def shifted_copies(
    images: np.ndarray, labels: np.ndarray, total: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``total`` images made of shifted copies of ``images``, shuffled."""
    reps = -(-total // len(images))
    out = np.empty((reps * len(images), *images.shape[1:]), dtype=images.dtype)
    for r in range(reps):
        dy, dx = (0, 0) if r == 0 else rng.integers(-2, 3, size=2)
        out[r * len(images) : (r + 1) * len(images)] = np.roll(images, (dy, dx), axis=(1, 2))
    y = np.tile(labels, reps)
    order = rng.permutation(len(out))[:total]
    return out[order], y[order]


def rank_map(n_words: int, keep: int) -> np.ndarray:
    """Old rank -> new rank (0 = dropped): ranks above 10 swapped in pairs, cut at ``keep``."""
    new = np.arange(n_words + 1)
    for r in range(11, n_words, 2):
        new[r], new[r + 1] = r + 1, r
    new[new > keep] = 0
    return new


def remap_reviews(reviews: np.ndarray, mapping: np.ndarray, total: int) -> np.ndarray:
    out = np.empty(total, dtype=object)
    for i in range(total):
        ranks = mapping[np.asarray(reviews[i % len(reviews)], dtype=np.int64)]
        out[i] = [int(r) for r in ranks if r]
    return out


def build(source: Path, target: Path, seed: int = 0) -> Path:
    from helpers.datasets import write_sums

    rng = np.random.default_rng(seed)
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)

    with np.load(source / "mnist.npz") as m:
        x, y = shifted_copies(m["x_train"], m["y_train"], KERAS_MNIST_TRAIN, rng)
        np.savez_compressed(
            tmp / "mnist.npz", x_train=x, y_train=y, x_test=m["x_test"], y_test=m["y_test"]
        )
    shutil.copytree(
        source / "fashion-mnist", tmp / "fashion-mnist", copy_function=shutil.copyfile
    )  # not the read-only modes of shared/
    (tmp / "fashion-mnist").chmod(0o755)

    index = json.loads((source / "imdb_word_index.json").read_text(encoding="utf-8"))
    mapping = rank_map(max(index.values()), KERAS_IMDB_WORDS)
    new_index = {w: int(mapping[r]) for w, r in index.items() if mapping[r]}
    (tmp / "imdb_word_index.json").write_text(json.dumps(new_index), encoding="utf-8")
    with np.load(source / "imdb.npz", allow_pickle=True) as d:
        arrays = {}
        for split in ("train", "test"):
            x, y = d[f"x_{split}"], d[f"y_{split}"]
            arrays[f"x_{split}"] = remap_reviews(x, mapping, KERAS_IMDB_REVIEWS)
            arrays[f"y_{split}"] = np.resize(y, KERAS_IMDB_REVIEWS)
    np.savez(tmp / "imdb.npz", **arrays)
    write_sums(tmp)

    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 course.py variants",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--from",
        dest="source",
        default=str(DEFAULT_SOURCE),
        help="the offline copies (default: ../shared/datasets)",
    )
    parser.add_argument("--to", default=str(DEFAULT_TARGET), help="output folder")
    args = parser.parse_args(argv)
    source = Path(args.source)
    if not (source / "mnist.npz").is_file() or not (source / "imdb.npz").is_file():
        print(
            f"No offline dataset copies in {source}: pass --from with the folder that holds "
            "mnist.npz, imdb.npz, imdb_word_index.json and fashion-mnist/.",
            file=sys.stderr,
        )
        return 2
    target = build(source, Path(args.to))
    print(f"Wrote the Keras-shaped variant to {target}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
