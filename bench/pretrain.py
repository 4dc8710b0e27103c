"""Pretrain chapter 9's encoder on the unlabelled movie reviews, reproducibly.

    python3 course.py pretrain                      # writes shipped-data/ch09-encoder-v1.*
    python3 course.py pretrain --epochs 1 --reviews 5000 --out /tmp/try   # a quick look

The task is *masked characters*: 15% of the characters of each review are chosen (80% of them
hidden behind a [MASK] id, 10% swapped for a random character, 10% kept, as BERT does), and
the encoder (``helpers.transformer``) with one extra ``Dense`` layer on top
learns to name them from the rest of the review. Chapter 9 loads the encoder's weights and
fine-tunes them on a few labelled reviews. The labels are never seen here: only the
``unlabeled`` part of ``load_nsmc()`` (100,000 reviews of the training movies).

Two files come out, written whole or not at all:

- ``ch09-encoder-v1.weights.h5``: the weights of the encoder and of the layer on top that
  guesses characters (the chapter shows its guesses, then fine-tunes the encoder alone);
- ``ch09-encoder-v1.json``: the settings, the character vocabulary the ids refer to, the
  seed, the loss after each epoch, the run time and the machine.

The same seed on the same machine and software gives the same weights (TensorFlow's
deterministic ops); another CPU gives slightly different ones, as any training does.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from bench.common import cpu_model


def pretrain(reviews: int, epochs: int, seed: int, batch_size: int, out: Path | None) -> dict:
    """Train, then write the two files into ``out`` (None: the shipped folder); returns the
    record."""
    import helpers

    helpers.seed_everything(seed)
    import keras
    import numpy as np
    import tensorflow as tf
    from keras import layers

    from helpers.datasets import load_nsmc
    from helpers.transformer import PRETRAINED, EncoderSettings, build_guesser, mask_characters

    settings = EncoderSettings()
    _, _, unlabeled, _ = load_nsmc()
    texts = unlabeled[:reviews]
    vectorize = layers.TextVectorization(
        max_tokens=settings.vocab_size - 1,  # the last id is [MASK]
        split="character",
        standardize=None,
        output_sequence_length=settings.maxlen,
    )
    vectorize.adapt(tf.constant(texts.astype(str)))
    vocabulary = vectorize.get_vocabulary()
    ids = vectorize(tf.constant(texts.astype(str))).numpy()

    model = build_guesser(settings)
    # The loss Keras reports averages over every position, hidden or not; "ce" averages the
    # cross-entropy over the hidden characters only (the sample weights), the number to read.
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        weighted_metrics=[keras.metrics.SparseCategoricalCrossentropy(from_logits=True, name="ce")],
    )
    rng = np.random.default_rng(seed)
    losses = []
    start = time.perf_counter()
    for epoch in range(epochs):
        masked, targets, weights = mask_characters(ids, 0.15, rng, settings.mask_id)
        history = model.fit(
            masked, targets, sample_weight=weights, batch_size=batch_size, epochs=1, verbose=0
        )
        losses.append(round(float(history.history["ce"][0]), 4))
        print(f"epoch {epoch + 1} of {epochs}: loss {losses[-1]:.4f}", flush=True)
    seconds = time.perf_counter() - start
    record = {
        "what": "chapter 9's encoder, pretrained on masked characters (bench/pretrain.py)",
        "settings": asdict(settings),
        "vocabulary": vocabulary,
        "reviews": int(len(texts)),
        "epochs": epochs,
        "batch_size": batch_size,
        "mask_rate": 0.15,
        "seed": seed,
        "loss_per_epoch": losses,  # cross-entropy per hidden character
        "seconds": round(seconds, 1),
        "machine": cpu_model(),
        "versions": {
            "python": platform.python_version(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
        },
    }
    # A fresh, uncompiled copy: save_weights would also store the optimizer's state (three
    # times the weights), which loading into an uncompiled model skips with a warning.
    plain = build_guesser(settings)
    plain.set_weights(model.get_weights())
    write_whole(out or PRETRAINED.parent, plain, record)
    return record


def write_whole(out: Path, model, record: dict) -> None:
    """Both files appear together, or neither does (written aside, then renamed)."""
    from helpers.transformer import PRETRAINED, record_path

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out, prefix=".pretrain-") as aside:
        weights = Path(aside) / PRETRAINED.name
        model.save_weights(weights)
        notes = record_path(weights)
        notes.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", "utf-8")
        os.replace(weights, out / weights.name)
        os.replace(notes, out / notes.name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 course.py pretrain",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--reviews", type=int, default=100_000, help="unlabelled reviews to use")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument(
        "--out", type=Path, help="folder for the two files (default: shipped-data/)"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.reviews <= 100_000 or args.epochs < 1 or args.batch_size < 1:
        parser.error(
            "--reviews must be 1 to 100,000 (the unlabelled reviews there are), and --epochs "
            "and --batch-size at least 1."
        )
    record = pretrain(args.reviews, args.epochs, args.seed, args.batch_size, args.out)
    print(
        f"wrote the weights and their record to {args.out or 'shipped-data/'} after "
        f"{record['seconds']:.0f} s "
        f"({record['reviews']:,} reviews, {record['epochs']} epochs, loss "
        f"{record['loss_per_epoch'][0]} -> {record['loss_per_epoch'][-1]})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
