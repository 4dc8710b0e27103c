"""Chapter 9's small Transformer encoder, shared by the notebook and the pretraining script.

The notebook writes the encoder block itself (that is the lesson) and checks that it equals
:func:`encoder_block` here; the pretraining script (``python3 course.py pretrain``) builds
the same network from this module, so that the weights it ships load into the notebook's.

- :class:`PositionalEmbedding`: a character's embedding plus its position's (both learned);
- :func:`encoder_block`: self-attention and a feed-forward layer, each with a residual
  connection and layer normalisation;
- :func:`build_encoder`: ids -> one vector per position, with the padding mask;
- :func:`mask_characters` and :func:`build_guesser`: the masked-character task of
  pretraining, and the encoder with the layer that guesses the hidden characters;
- :func:`load_pretrained`: the shipped vocabulary, settings and weights.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import layers

__all__ = [
    "EncoderSettings",
    "PositionalEmbedding",
    "encoder_block",
    "build_encoder",
    "mask_characters",
    "build_guesser",
    "load_pretrained",
    "PRETRAINED",
]

SHIPPED = Path(__file__).resolve().parents[1] / "shipped-data"
PRETRAINED = SHIPPED / "ch09-encoder-v1.weights.h5"  # the weights; the .json beside says how


def record_path(weights: Path) -> Path:
    """The pretraining record that goes with a weights file: ``x.weights.h5`` -> ``x.json``."""
    return weights.with_name(weights.name.removesuffix(".weights.h5") + ".json")


@dataclass(frozen=True)
class EncoderSettings:
    """The encoder's shape: what must match for pretrained weights to load."""

    maxlen: int = 64  # characters per review (longer ones are cut, shorter ones padded)
    vocab_size: int = 2001  # TextVectorization's 2,000 ids (0 padding, 1 unknown) + [MASK]
    dim: int = 64  # the size of every position's vector
    heads: int = 4
    ff_dim: int = 128  # the feed-forward layer's hidden units
    blocks: int = 1
    dropout: float = 0.1

    @property
    def mask_id(self) -> int:
        """The id of the [MASK] character: the last one, after TextVectorization's."""
        return self.vocab_size - 1


@keras.saving.register_keras_serializable(package="course")
class PositionalEmbedding(layers.Layer):
    """Each id's learned vector plus a learned vector for its position (0, 1, 2, ...)."""

    def __init__(self, maxlen: int, vocab_size: int, dim: int, positions: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.maxlen, self.vocab_size, self.dim, self.positions = maxlen, vocab_size, dim, positions
        self.token_embedding = layers.Embedding(vocab_size, dim, name="characters")
        self.position_embedding = layers.Embedding(maxlen, dim, name="positions")

    def build(self, input_shape: Any) -> None:
        self.token_embedding.build(input_shape)
        self.position_embedding.build((self.maxlen,))
        super().build(input_shape)

    def call(self, ids: Any) -> Any:
        vectors = self.token_embedding(ids)
        if not self.positions:  # the twin test of section 3: order is invisible
            return vectors
        where = keras.ops.arange(keras.ops.shape(ids)[-1])
        return vectors + self.position_embedding(where)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "maxlen": self.maxlen,
            "vocab_size": self.vocab_size,
            "dim": self.dim,
            "positions": self.positions,
        }


def padding_mask(ids: Any) -> Any:
    """(batch, maxlen, maxlen) booleans: position i may look at j when j is not padding."""
    real = keras.ops.not_equal(ids, 0)
    return keras.ops.logical_and(real[:, None, :], keras.ops.ones_like(real)[:, :, None])


def encoder_block(x: Any, mask: Any, settings: EncoderSettings, name: str) -> Any:
    """Self-attention, add and normalise; feed-forward, add and normalise."""
    s = settings
    attention = layers.MultiHeadAttention(
        s.heads, s.dim // s.heads, dropout=s.dropout, name=f"{name}_attention"
    )
    attended = attention(x, x, attention_mask=mask)
    x = layers.LayerNormalization(name=f"{name}_norm1")(layers.Add()([x, attended]))
    hidden = layers.Dense(s.ff_dim, activation="relu", name=f"{name}_ff1")(x)
    hidden = layers.Dense(s.dim, name=f"{name}_ff2")(hidden)
    hidden = layers.Dropout(s.dropout)(hidden)
    return layers.LayerNormalization(name=f"{name}_norm2")(layers.Add()([x, hidden]))


def build_encoder(settings: EncoderSettings = EncoderSettings(), positions: bool = True) -> Any:
    """ids (batch, maxlen) -> vectors (batch, maxlen, dim): the part pretraining trains."""
    s = settings
    ids = keras.Input((s.maxlen,), dtype="int32", name="ids")
    mask = layers.Lambda(padding_mask, name="padding_mask")(ids)
    x = PositionalEmbedding(s.maxlen, s.vocab_size, s.dim, positions, name="embedding")(ids)
    for i in range(s.blocks):
        x = encoder_block(x, mask, s, name=f"block{i + 1}")
    return keras.Model(ids, x, name="encoder")


def mask_characters(
    ids: np.ndarray, rate: float, rng: np.random.Generator, mask_id: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The masked-character task, as BERT sets it: choose ``rate`` of the real characters;
    hide 80% of the chosen behind ``mask_id``, swap 10% for a random character, keep 10%.

    Returns ``(inputs, targets, weights)``: the ids with the chosen characters changed, the
    original ids, and 1.0 where a character was chosen (the loss counts only those). The
    swapped and kept ones matter: since any character may be a chosen one, the encoder must
    make a good vector for every position, not only for [MASK]s.
    """
    ids = np.asarray(ids)
    if not 0 < rate < 1:
        raise ValueError(f"rate is the share of characters to hide, between 0 and 1; got {rate}.")
    chosen = (rng.random(ids.shape) < rate) & (ids != 0)
    how = rng.random(ids.shape)
    random_ids = rng.integers(2, mask_id, ids.shape)  # a real character: not 0, 1 or [MASK]
    inputs = np.where(chosen & (how < 0.8), mask_id, ids)
    inputs = np.where(chosen & (how >= 0.8) & (how < 0.9), random_ids, inputs)
    return inputs.astype(ids.dtype), ids, chosen.astype("float32")


def build_guesser(settings: EncoderSettings = EncoderSettings()) -> Any:
    """The pretraining model: the encoder, then one ``Dense`` layer that scores, for every
    position, each character of the vocabulary as the one hidden there (logits)."""
    encoder = build_encoder(settings)
    ids = keras.Input((settings.maxlen,), dtype="int32", name="ids")
    logits = layers.Dense(settings.vocab_size, name="guess_character")(encoder(ids))
    return keras.Model(ids, logits, name="masked_characters")


def load_pretrained(path: Path = PRETRAINED) -> tuple[Any, Any, list[str], dict]:
    """``(guesser, encoder, vocabulary, record)``: the shipped pretraining model with its
    weights, its encoder (a part of it, sharing the weights), the character vocabulary the
    ids refer to, and the record of how it was pretrained."""
    record_file = record_path(path)
    if not path.is_file() or not record_file.is_file():
        raise FileNotFoundError(
            f"The pretrained encoder is missing: expected {path.name} and {record_file.name} in "
            f"{path.parent}. They come with the course; restore them with `git checkout -- "
            "shipped-data`, or make them again with `python3 course.py pretrain`."
        )
    record = json.loads(record_file.read_text(encoding="utf-8"))
    guesser = build_guesser(EncoderSettings(**record["settings"]))
    guesser.load_weights(path)
    return guesser, guesser.get_layer("encoder"), list(record["vocabulary"]), record
