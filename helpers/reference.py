"""The course's reference maths: the one correct version of what the learners write.

The widgets draw with it, the exercise checks compare the learners' functions with
it, and the tests check it against Keras. Plain NumPy, element by element where the
chapters teach it that way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

Array = np.ndarray


def sigmoid(z: Array) -> Array:
    return 1.0 / (1.0 + np.exp(-z))


# Activation name -> (function, derivative), as chapter 1 introduces them.
ACTIVATIONS: dict[str, tuple[Callable[[Array], Array], Callable[[Array], Array]]] = {
    "step": (lambda z: (np.asarray(z) > 0).astype(float), lambda z: np.zeros_like(z, float)),
    "sigmoid": (sigmoid, lambda z: sigmoid(z) * (1.0 - sigmoid(z))),
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (np.asarray(z) > 0).astype(float)),
    "leaky_relu": (
        lambda z: np.where(np.asarray(z) > 0, z, 0.2 * np.asarray(z)),
        lambda z: np.where(np.asarray(z) > 0, 1.0, 0.2),
    ),
}


def cross_correlate(image: Array, kernel: Array, padding: str = "valid") -> Array:
    """A square kernel slid over a 2-D image, stride 1, as ``keras.layers.Conv2D`` does.

    Cross-correlation: the kernel is not flipped. ``"valid"`` keeps the positions where
    the kernel fits (n x n gives n-k+1 x n-k+1); ``"same"`` pads with zeros first.
    """
    x, k = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    if padding == "same":
        x = np.pad(x, k.shape[0] // 2)
    windows = np.lib.stride_tricks.sliding_window_view(x, k.shape)
    return np.einsum("ijkl,kl->ij", windows, k)


def max_pool(fmap: Array, size: int) -> Array:
    """Non-overlapping ``size`` x ``size`` max pooling; a ragged edge is dropped, as in Keras."""
    h, w = fmap.shape[0] // size, fmap.shape[1] // size
    return fmap[: h * size, : w * size].reshape(h, size, w, size).max(axis=(1, 3))


def pad_sequences(
    sequences: Sequence[Sequence[int]], maxlen: int, padding: str = "pre", truncating: str = "pre"
) -> Array:
    """``keras.utils.pad_sequences`` for lists of ints: zeros and cuts at the start by default."""
    out = np.zeros((len(sequences), maxlen), dtype=int)
    for row, seq in enumerate(sequences):
        kept = list(seq[-maxlen:] if truncating == "pre" else seq[:maxlen])
        if padding == "pre":
            out[row, maxlen - len(kept) :] = kept
        else:
            out[row, : len(kept)] = kept
    return out


def rnn_step(x: Array, h: Array, W: Array, U: Array, b: Array) -> Array:
    """One step of ``keras.layers.SimpleRNN``: ``tanh(x W + h U + b)``."""
    return np.tanh(x @ W + h @ U + b)


def multi_hot(sequences: Sequence[Sequence[int]], num_words: int) -> Array:
    """float32 ``(n, num_words)``: row i has a 1 at every word index in sequence i."""
    out = np.zeros((len(sequences), num_words), dtype="float32")
    for row, seq in enumerate(sequences):
        out[row, list(seq)] = 1.0
    return out
