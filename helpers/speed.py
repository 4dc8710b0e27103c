"""Plumbing for speed and memory, kept out of the lessons.

Each tool here changes how fast a chapter runs or how much memory it needs, never
what it computes: the tests check that each one gives the same numbers as the
plain way the chapters teach.

- :func:`multi_hot_batches`: a ``tf.data`` dataset of multi-hot rows, built one
  batch at a time from word-index lists (chapters 4 and 7), instead of a matrix
  of every review that would need gigabytes;
- :func:`multi_hot`: the same rows for a few sequences at once, as a NumPy array;
- :func:`image_batches`: a ``tf.data`` dataset of uint8 images scaled to float32 one batch
  at a time (chapter 5), so only the batches in flight are ever float32;
- :class:`LengthBatches`: reviews sorted by length into batches, each padded
  only as far as its longest review needs (chapter 7's recurrent models);
- :func:`grouped_steps`: ``fit`` runs many small training steps per call from
  Python into TensorFlow (chapters 5 to 7), with the same weights coming out;
- :func:`release_training_programs`: lets a trained model's traced TensorFlow
  programs go, so a kernel that trains many models stays small (chapter 7).

TensorFlow is imported inside the functions, so that importing this module is cheap.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from helpers import reference

__all__ = [
    "multi_hot",
    "multi_hot_batches",
    "image_batches",
    "LengthBatches",
    "grouped_steps",
    "release_training_programs",
]

STEPS_PER_CALL = 32


def _check_num_words(sequences: Sequence[Sequence[int]], num_words: int) -> None:
    largest = max((max(s) for s in sequences if len(s)), default=-1)
    if largest >= num_words:
        raise ValueError(
            f"A sequence holds the word index {largest}, but num_words is {num_words}, so the "
            f"rows have room for indices 0 to {num_words - 1} only. Encode the texts with the "
            "same num_words (encode_review(..., num_words=NUM_WORDS)) or pass a larger num_words."
        )


def multi_hot(sequences: Sequence[Sequence[int]], num_words: int) -> np.ndarray:
    """One float32 row of ``num_words`` per sequence: 1.0 where an index occurs, else 0.0.

    Chapter 4's NumPy loop, for a handful of sequences (the texts a learner types
    in). For a whole dataset use :func:`multi_hot_batches`, which never holds more
    than a few batches of rows.
    """
    _check_num_words(sequences, num_words)
    return reference.multi_hot(sequences, num_words)


def _ragged(sequences: Sequence[Sequence[int]]) -> Any:
    """All sequences as one ragged tensor: one long int32 array plus each row's length."""
    import tensorflow as tf

    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    flat = np.fromiter((w for s in sequences for w in s), dtype=np.int32, count=int(lengths.sum()))
    return tf.RaggedTensor.from_row_lengths(flat, lengths)


def multi_hot_batches(
    sequences: Sequence[Sequence[int]],
    labels: np.ndarray,
    num_words: int,
    batch_size: int = 512,
    shuffle: bool = False,
    seed: int | None = None,
    prefetch: int = 2,
) -> Any:
    """A ``tf.data.Dataset`` of ``(multi-hot rows, labels)`` batches, made as ``fit`` asks.

    The rows equal :func:`multi_hot` of each batch's sequences; the labels come as
    float32. With ``shuffle`` the order is drawn anew every epoch (from ``seed``).

    Under the hood: the sequences are stored once as a ragged tensor (all word
    indices in one int32 array, plus where each row starts), cut into batches with
    ``Dataset.ragged_batch``, and each batch is turned into dense rows by
    ``keras.layers.CategoryEncoding(output_mode="multi_hot")`` only when it is needed;
    ``prefetch`` batches are prepared ahead while the model trains (0: none, so only
    one dense batch exists at a time).
    """
    import tensorflow as tf
    from keras import layers

    if len(sequences) != len(labels):
        raise ValueError(
            f"There are {len(sequences)} sequences but {len(labels)} labels: pass one label per "
            "sequence, in the same order."
        )
    _check_num_words(sequences, num_words)
    encoder = layers.CategoryEncoding(num_tokens=num_words, output_mode="multi_hot")
    ds = tf.data.Dataset.from_tensor_slices((_ragged(sequences), np.asarray(labels, "float32")))
    if shuffle:
        ds = ds.shuffle(len(labels), seed=seed)
    ds = ds.ragged_batch(batch_size).map(lambda seqs, y: (encoder(seqs), y))
    return ds.prefetch(prefetch) if prefetch else ds


def image_batches(
    images: np.ndarray, labels: np.ndarray, batch_size: int = 128, shuffle: bool = False
) -> Any:
    """A ``tf.data.Dataset`` of ``(float32 pixels in [0, 1], labels)`` batches from uint8 images.

    The images stay uint8 (a quarter of float32's memory) and are scaled batch by batch, as
    training asks for them. With ``shuffle`` the order is new every epoch, drawn from the
    seed of the last ``helpers.seed_everything`` call.

    Under the hood: instead of shuffling the images themselves (which would keep a shuffle
    buffer of all of them), the dataset shuffles their *row numbers*, batches those, and
    fetches each batch's rows with ``tf.gather(images, rows)`` (TensorFlow's ``images[rows]``);
    ``map`` scales them and ``prefetch(2)`` prepares two batches ahead.
    """
    import tensorflow as tf

    if len(images) != len(labels):
        raise ValueError(
            f"There are {len(images)} images but {len(labels)} labels: pass one label per image."
        )
    if np.asarray(images).dtype != np.uint8:
        raise ValueError(
            f"image_batches expects uint8 pixels (0-255), got {np.asarray(images).dtype}: pass "
            "the images as loaded, before dividing by 255."
        )
    pixels, answers = tf.constant(images), tf.constant(labels)
    rows = tf.data.Dataset.range(len(labels))
    if shuffle:
        rows = rows.shuffle(len(labels))

    def fetch(batch_rows: Any) -> tuple[Any, Any]:
        batch = tf.gather(pixels, batch_rows)
        return tf.cast(batch, tf.float32) / 255, tf.gather(answers, batch_rows)

    return rows.batch(batch_size).map(fetch).prefetch(2)


class LengthBatches:
    """Sequences sorted by length into batches, each pre-padded to its longest one (<= maxlen).

    A recurrent layer runs one step per position, padding included, so a batch of
    short reviews padded to ``maxlen`` wastes most of its work. Here every batch is
    padded (and truncated, keeping the last words, like ``keras.utils.pad_sequences``)
    only as far as its longest sequence needs.

    - ``dataset()``: a ``tf.data.Dataset`` of the batches for ``fit``, ``evaluate`` or
      ``predict``; with ``shuffle`` the batches come in a new random order every epoch;
    - ``in_review_order(predictions)``: ``predict`` answers batch by batch in sorted
      order; this puts the answers back in the order of ``sequences``;
    - ``timesteps()``: how many positions the batches hold in all (the work per epoch);
    - ``rows`` (each batch's sequence numbers) and ``batches`` (the padded arrays).

    Under the hood: ``tf.data.Dataset.from_generator`` hands the batches over; its
    ``output_signature`` leaves both the batch size and the length open, and
    ``assert_cardinality`` tells Keras how many batches an epoch has.
    """

    def __init__(
        self,
        sequences: Sequence[Sequence[int]],
        labels: np.ndarray,
        batch_size: int,
        maxlen: int,
        shuffle: bool = False,
        seed: int | None = None,
    ) -> None:
        from keras.utils import pad_sequences

        if len(sequences) != len(labels):
            raise ValueError(
                f"There are {len(sequences)} sequences but {len(labels)} labels: pass one label "
                "per sequence, in the same order."
            )
        labels = np.asarray(labels, dtype="float32")
        order = np.argsort([len(s) for s in sequences], kind="stable")
        self.rows = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        self.batches = []
        for rows in self.rows:
            longest = min(maxlen, max(max(len(sequences[j]) for j in rows), 1))
            padded = pad_sequences([sequences[j] for j in rows], maxlen=longest)
            self.batches.append((padded, labels[rows]))
        self.shuffle, self.rng = shuffle, np.random.default_rng(seed)

    def timesteps(self) -> int:
        """Positions in all batches together: what a recurrent layer steps through per epoch."""
        return sum(x.shape[0] * x.shape[1] for x, _ in self.batches)

    def dataset(self) -> Any:
        """The batches as a dataset; ``fit`` restarts it every epoch (a new order if shuffled)."""
        import tensorflow as tf

        def batches() -> Iterator[tuple[np.ndarray, np.ndarray]]:
            if self.shuffle:
                yield from (self.batches[i] for i in self.rng.permutation(len(self.batches)))
            else:
                yield from self.batches

        shapes = (tf.TensorSpec((None, None), tf.int32), tf.TensorSpec((None,), tf.float32))
        data = tf.data.Dataset.from_generator(batches, output_signature=shapes)
        return data.apply(tf.data.experimental.assert_cardinality(len(self.batches)))

    def in_review_order(self, predictions: np.ndarray) -> np.ndarray:
        """Answers that ``predict`` gave batch by batch, put back in the sequences' order."""
        predictions = np.asarray(predictions)
        if len(predictions) != sum(len(r) for r in self.rows):
            raise ValueError(
                f"Got {len(predictions)} predictions for {sum(len(r) for r in self.rows)} "
                "sequences: pass what predict() returned for this object's dataset()."
            )
        out = np.empty_like(predictions)
        out[np.concatenate(self.rows)] = predictions
        return out


def _forget_compiled_functions(model: Any) -> None:
    model.train_function = model.test_function = model.predict_function = None


@contextlib.contextmanager
def grouped_steps(model: Any, steps: int = STEPS_PER_CALL) -> Iterator[Any]:
    """Inside this block, ``fit`` runs ``steps`` training steps per call into TensorFlow.

    The same steps on the same batches in the same order, so the same weights come
    out; only the round trips from Python are fewer, which matters when each step is
    small (small batches, small models). After the block the model predicts and
    evaluates one batch per call again.

    Under the hood: it sets Keras' ``steps_per_execution`` (the ``compile`` argument)
    for the block only. Callbacks that act at the end of an epoch work as before; one
    that acts after each batch would see only every ``steps``-th. Outside training it
    would only cost memory: ``predict`` would build one program holding ``steps``
    copies of the network.
    """
    if not (isinstance(steps, int) and steps >= 1):
        raise ValueError(f"steps must be a whole number of at least 1, not {steps!r}.")
    if getattr(model, "optimizer", None) is None:
        raise ValueError("Compile the model before grouped_steps(model): it has no optimizer yet.")
    before = model.steps_per_execution
    model.steps_per_execution = steps
    _forget_compiled_functions(model)  # rebuilt by fit() with the new setting
    try:
        yield model
    finally:
        model.steps_per_execution = before
        _forget_compiled_functions(model)


def release_training_programs(model: Any) -> None:
    """Let go of the TensorFlow programs ``fit`` traced for ``model``, and free them now.

    The model keeps its weights and its optimizer; the next ``fit``, ``evaluate`` or
    ``predict`` traces what it needs again. For an LSTM those programs take about
    100 MB, so a chapter that trains several models frees each one's after use.

    Under the hood: Keras keeps the traced functions on the model
    (``train_function`` and friends); dropping the references and running Python's
    garbage collector returns their memory at once instead of at the next full
    collection.
    """
    _forget_compiled_functions(model)
    gc.collect()
