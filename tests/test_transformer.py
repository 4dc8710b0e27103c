"""helpers.transformer and the pretraining script (bench/pretrain.py) of chapter 9."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

import helpers
from bench import pretrain
from helpers import transformer

TINY = transformer.EncoderSettings(maxlen=12, vocab_size=40, dim=8, heads=2, ff_dim=16, blocks=1)


def test_positions_are_what_tells_twins_apart():
    twins = np.array([[5, 6, 0, 7, 8, 0, 0, 0, 0, 0, 0, 0], [7, 8, 0, 5, 6, 0, 0, 0, 0, 0, 0, 0]])
    outputs = {}
    for positions in (False, True):
        helpers.seed_everything(1)
        encoder = transformer.build_encoder(TINY, positions=positions)
        out = encoder.predict(twins, verbose=0)
        real = twins != 0
        outputs[positions] = [out[i][real[i]].mean(axis=0) for i in range(2)]
    assert np.allclose(*outputs[False], atol=1e-5), "without positions the twins must agree"
    assert not np.allclose(*outputs[True], atol=1e-3), "with positions they must not"


def test_padding_does_not_change_the_real_positions():
    helpers.seed_everything(2)
    encoder = transformer.build_encoder(TINY)
    short = np.array([[3, 4, 5] + [0] * 9])
    longer_batch = np.array([[3, 4, 5] + [0] * 9, [9] * 12])
    alone = encoder.predict(short, verbose=0)[0, :3]
    in_batch = encoder.predict(longer_batch, verbose=0)[0, :3]
    assert np.allclose(alone, in_batch, atol=1e-5)
    mask = keras.ops.convert_to_numpy(transformer.padding_mask(short))
    assert mask.shape == (1, 12, 12) and mask[0, :, :3].all() and not mask[0, :, 3:].any()


def test_mask_characters_chooses_real_characters_and_splits_them_80_10_10():
    ids = np.random.default_rng(0).integers(2, 40, (2000, 12))
    ids[:, 9:] = 0
    inputs, targets, weights = transformer.mask_characters(ids, 0.15, np.random.default_rng(1), 39)
    chosen = weights == 1
    assert np.array_equal(targets, ids) and not weights[:, 9:].any()
    assert 0.14 < chosen[:, :9].mean() < 0.16
    assert np.array_equal(inputs[~chosen], ids[~chosen]), "only chosen characters change"
    hidden = inputs[chosen] == 39
    swapped = (inputs[chosen] != 39) & (inputs[chosen] != ids[chosen])
    assert 0.77 < hidden.mean() < 0.83 and 0.06 < swapped.mean() < 0.11
    assert inputs[chosen][swapped].min() >= 2 and inputs.max() <= 39
    with pytest.raises(ValueError, match="between 0 and 1"):
        transformer.mask_characters(ids, 1.5, np.random.default_rng(1), 39)


def test_pretrain_writes_both_files_that_load_back(tmp_path, monkeypatch):
    real = transformer.EncoderSettings
    monkeypatch.setattr(transformer, "EncoderSettings", lambda **kw: real(**kw) if kw else TINY)
    record = pretrain.pretrain(reviews=300, epochs=2, seed=3, batch_size=64, out=tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["ch09-encoder-v1.json", "ch09-encoder-v1.weights.h5"]  # nothing else left
    saved = json.loads((tmp_path / "ch09-encoder-v1.json").read_text(encoding="utf-8"))
    assert saved == record and len(record["loss_per_epoch"]) == 2 and record["reviews"] == 300
    assert len(record["vocabulary"]) == TINY.vocab_size - 1
    guesser, encoder, vocabulary, again = transformer.load_pretrained(
        tmp_path / "ch09-encoder-v1.weights.h5"
    )
    assert vocabulary == record["vocabulary"] and again == record
    assert encoder.count_params() < guesser.count_params()


def test_a_missing_pretrained_file_says_how_to_get_it_back(tmp_path):
    with pytest.raises(FileNotFoundError, match="course.py pretrain"):
        transformer.load_pretrained(tmp_path / "ch09-encoder-v1.weights.h5")


def test_the_shipped_encoder_loads_and_matches_its_record():
    guesser, encoder, vocabulary, record = transformer.load_pretrained()
    settings = transformer.EncoderSettings(**record["settings"])
    assert len(vocabulary) == settings.vocab_size - 1 and vocabulary[:2] == ["", "[UNK]"]
    assert encoder.output.shape[1:] == (settings.maxlen, settings.dim)
    losses = record["loss_per_epoch"]
    assert len(losses) == record["epochs"] and losses[-1] < losses[0] < np.log(settings.vocab_size)
