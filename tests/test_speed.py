"""helpers.speed: each speed or memory tool gives the same numbers as the plain way it replaces."""

from __future__ import annotations

import gc

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import helpers
from helpers import speed

SEQUENCES = [[1, 4, 4, 7], [1, 2, 5], [], [3], [9, 9, 9, 9, 9, 1, 2, 8], [6, 5]]
LABELS = np.array([1, 0, 1, 0, 1, 1])


def naive_multi_hot(sequences, num_words):
    rows = np.zeros((len(sequences), num_words), dtype="float32")
    for row, seq in enumerate(sequences):
        for word in seq:
            rows[row, word] = 1.0
    return rows


word_lists = st.lists(st.lists(st.integers(0, 19), max_size=12), min_size=1, max_size=30)


@settings(max_examples=30, deadline=None)
@given(word_lists, st.integers(1, 7))
def test_multi_hot_batches_hold_the_numpy_rows_in_order(sequences, batch_size):
    labels = np.arange(len(sequences)) % 2
    batches = list(speed.multi_hot_batches(sequences, labels, 20, batch_size=batch_size))
    rows = np.concatenate([x.numpy() for x, _ in batches])
    assert np.array_equal(rows, naive_multi_hot(sequences, 20))
    assert np.array_equal(speed.multi_hot(sequences, 20), rows)
    got_labels = np.concatenate([y.numpy() for _, y in batches])
    assert got_labels.dtype == np.float32 and np.array_equal(got_labels, labels)
    assert all(len(x) <= batch_size for x, _ in batches)


def test_shuffled_batches_are_a_new_order_each_epoch_and_keep_rows_with_labels():
    sequences = [[i] for i in range(40)]
    labels = np.arange(40) % 2
    ds = speed.multi_hot_batches(
        sequences, labels, 40, batch_size=8, shuffle=True, seed=3, prefetch=0
    )
    orders = []
    for _ in range(2):
        order = np.concatenate([b.numpy() for b, _ in ds]).argmax(axis=1)
        assert sorted(order) == list(range(40))
        orders.append(order)
    assert not np.array_equal(orders[0], orders[1])
    for x, y in ds:  # each row still carries its own label
        assert np.array_equal(x.numpy().argmax(axis=1) % 2, y.numpy())


def test_bad_input_gets_a_clear_error():
    with pytest.raises(ValueError, match="num_words is 5"):
        speed.multi_hot([[1, 7]], 5)
    with pytest.raises(ValueError, match="num_words is 5"):
        speed.multi_hot_batches([[1, 7]], np.array([1]), 5)
    with pytest.raises(ValueError, match="2 sequences but 1 labels"):
        speed.multi_hot_batches([[1], [2]], np.array([1]), 5)
    with pytest.raises(ValueError, match="2 sequences but 3 labels"):
        speed.LengthBatches([[1], [2]], np.array([1, 0, 1]), 2, maxlen=4)
    with pytest.raises(ValueError, match="Got 2 predictions for 6"):
        speed.LengthBatches(SEQUENCES, LABELS, 2, maxlen=4).in_review_order(np.zeros(2))


@settings(max_examples=30, deadline=None)
@given(word_lists, st.integers(1, 7), st.integers(1, 6))
def test_length_batches_keep_each_sequence_as_pad_sequences_would(sequences, batch_size, maxlen):
    labels = np.arange(len(sequences)) % 2
    batches = speed.LengthBatches(sequences, labels, batch_size, maxlen=maxlen)
    padded = keras.utils.pad_sequences(sequences, maxlen=maxlen)
    for rows, (x, y) in zip(batches.rows, batches.batches, strict=True):
        assert 1 <= x.shape[1] <= maxlen and len(rows) <= batch_size
        for row, line in zip(rows, x, strict=True):  # the same words, left-padded with zeros
            assert list(line[line != 0]) == list(padded[row][padded[row] != 0])
        assert np.array_equal(y, labels[rows])
    assert batches.timesteps() <= padded.size
    in_batches = np.concatenate([y for _, y in batches.batches])
    assert np.array_equal(batches.in_review_order(in_batches), labels)


def test_length_batches_dataset_gives_every_batch_and_shuffles_per_epoch():
    sequences = [[1] * (i % 9 + 1) for i in range(60)]
    batches = speed.LengthBatches(sequences, np.arange(60) % 2, 5, maxlen=6, shuffle=True, seed=0)
    ds = batches.dataset()
    assert ds.cardinality().numpy() == 12
    epochs = [[x.shape[1] * 1000 + int(y.numpy().sum()) for x, y in ds] for _ in range(3)]
    assert all(sorted(e) == sorted(epochs[0]) for e in epochs)
    assert len({tuple(e) for e in epochs}) > 1, "the batch order did not change between epochs"
    plain = speed.LengthBatches(sequences, np.arange(60) % 2, 5, maxlen=6)
    assert [x.shape for x, _ in plain.dataset()] == [x.shape for x, _ in plain.batches]


def small_model(seed):
    helpers.seed_everything(seed)
    model = keras.Sequential(
        [
            keras.Input(shape=(6,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


def test_grouped_steps_trains_the_same_weights_and_restores_the_model():
    x = np.random.default_rng(0).random((200, 6)).astype("float32")
    y = (x.sum(axis=1) > 3).astype("float32")
    plain = small_model(1)
    plain.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    grouped = small_model(1)
    with speed.grouped_steps(grouped, 8) as inside:
        assert inside is grouped and grouped.steps_per_execution == 8
        history = grouped.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    assert len(history.history["loss"]) == 3
    for a, b in zip(plain.get_weights(), grouped.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    assert grouped.steps_per_execution == 1 and grouped.train_function is None
    np.testing.assert_allclose(
        grouped.predict(x, verbose=0), plain.predict(x, verbose=0), atol=1e-6
    )


def test_grouped_steps_refuses_what_it_cannot_do():
    with pytest.raises(ValueError, match="whole number of at least 1"):
        with speed.grouped_steps(small_model(0), 0):
            pass
    uncompiled = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="Compile the model"):
        with speed.grouped_steps(uncompiled):
            pass


def test_release_training_programs_keeps_weights_and_training_goes_on():
    x = np.random.default_rng(1).random((64, 6)).astype("float32")
    y = (x[:, 0] > 0.5).astype("float32")
    model = small_model(2)
    model.fit(x, y, epochs=1, verbose=0)
    program = model.train_function
    weights = model.get_weights()
    speed.release_training_programs(model)
    assert model.train_function is None and model.predict_function is None
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights(), strict=True))
    del program
    gc.collect()
    model.fit(x, y, epochs=1, verbose=0)  # traces again and trains on
    assert model.optimizer.iterations.numpy() == 4


def test_image_batches_scale_uint8_images_batch_by_batch_and_keep_labels():
    images = np.random.default_rng(4).integers(0, 256, (50, 3, 3), dtype=np.uint8)
    labels = np.arange(50)
    helpers.seed_everything(5)
    plain = list(speed.image_batches(images, labels, batch_size=16))
    assert [len(y) for _, y in plain] == [16, 16, 16, 2]
    x = np.concatenate([b.numpy() for b, _ in plain])
    assert x.dtype == np.float32 and np.array_equal(x, images.astype("float32") / 255)
    shuffled = speed.image_batches(images, labels, batch_size=16, shuffle=True)
    first, second = ([y.numpy() for _, y in shuffled] for _ in range(2))
    order = np.concatenate(first)
    assert sorted(order) == list(range(50)) and not np.array_equal(order, np.concatenate(second))
    for xb, yb in shuffled:  # every image still travels with its own label
        assert np.array_equal(xb.numpy(), images[yb.numpy()].astype("float32") / 255)
    with pytest.raises(ValueError, match="expects uint8"):
        speed.image_batches(images / 255, labels)
    with pytest.raises(ValueError, match="50 images but 3 labels"):
        speed.image_batches(images, labels[:3])
