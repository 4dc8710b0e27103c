"""helpers.memory: the fixes a notebook kernel gets on import, and that they change no result."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from helpers import memory

ROOT = Path(__file__).resolve().parents[1]

# Trains three small models one after another, the way chapter 5 does, and reports
# what is left of them (traced graphs, registry entries) once deleted and cleared.
TRAIN_THREE = textwrap.dedent(
    """
    import gc, json, sys
    import helpers, keras, numpy as np
    from tensorflow.python.framework import ops
    from tensorflow.python.framework.func_graph import FuncGraph
    from helpers import memory

    plugged = memory.plug_optimizer_graph_leak() if sys.argv[1] == "plugged" else False
    registry = ops._gradient_registry._registry
    before = len(registry)
    x = np.random.default_rng(0).random((64, 8)).astype("float32")
    y = (x.sum(axis=1) > 4).astype("int32")
    graphs = lambda: sum(isinstance(o, FuncGraph) for o in gc.get_objects())
    at_start = graphs()
    weights = []
    for optimizer in ("sgd", "adam", "rmsprop"):
        keras.backend.clear_session()
        helpers.seed_everything(3)
        model = keras.Sequential([keras.Input(shape=(8,)), keras.layers.Dense(4, activation="relu"),
                                  keras.layers.Dense(2, activation="softmax")])
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=16, epochs=2, verbose=0)
        weights.append([w.tolist() for w in model.get_weights()])
        del model
    keras.backend.clear_session()
    gc.collect()
    print(json.dumps({"plugged": plugged, "new_registry_entries": len(registry) - before,
                      "graphs_left": graphs() - at_start,
                      "weights": weights}))
    """
)


def _start_training(mode: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", TRAIN_THREE, mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
    )


@pytest.fixture(scope="module")
def runs() -> dict[str, dict]:
    """Both modes, each in its own process (the fix is process-wide), side by side."""
    procs = {mode: _start_training(mode) for mode in ("plain", "plugged")}
    results = {}
    try:
        for mode, proc in procs.items():
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err[-2000:]
            results[mode] = json.loads(out.strip().splitlines()[-1])
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return results


@pytest.mark.slow
def test_the_leak_exists_without_the_fix(runs):
    # If this fails after a TensorFlow upgrade, TensorFlow fixed its leak: the fix can go.
    plain = runs["plain"]
    assert plain["new_registry_entries"] >= 3, plain
    assert plain["graphs_left"] >= 4, plain  # at least two models' traced steps


@pytest.mark.slow
def test_the_fix_frees_every_traced_graph_and_registers_nothing(runs):
    plugged = runs["plugged"]
    assert plugged["plugged"] is True
    assert plugged["new_registry_entries"] == 0, plugged
    assert plugged["graphs_left"] == 0, plugged


@pytest.mark.slow
def test_the_fix_changes_no_trained_weight(runs):
    plain, plugged = runs["plain"]["weights"], runs["plugged"]["weights"]
    assert len(plain) == len(plugged) == 3
    for a, b in zip(plain, plugged, strict=True):
        for wa, wb in zip(a, b, strict=True):
            np.testing.assert_array_equal(np.array(wa), np.array(wb))


@pytest.fixture
def plugged(monkeypatch):
    """The fix applied in this process, undone after the test."""
    from keras.src.backend.tensorflow import optimizer as tf_optimizer

    monkeypatch.setattr(
        tf_optimizer.TFOptimizer,
        "_all_reduce_sum_gradients",
        tf_optimizer.TFOptimizer._all_reduce_sum_gradients,
    )
    assert memory.plug_optimizer_graph_leak() is True
    assert memory.plug_optimizer_graph_leak() is True  # a second call wraps nothing twice
    method = tf_optimizer.TFOptimizer._all_reduce_sum_gradients
    assert method.__wrapped__ is not None and not getattr(
        method.__wrapped__, "_course_plugged", False
    )
    return tf_optimizer.TFOptimizer


def _outcome(method, grads_and_vars):
    """What a call returns (which gradients are None) or which exception it raises."""
    try:
        return [g is None for g, _ in method(grads_and_vars)]
    except Exception as err:  # noqa: BLE001 - the type is the outcome compared
        return type(err).__name__


@pytest.mark.parametrize("missing", [(), (1,), (0, 1)])
def test_missing_gradients_end_as_in_keras(plugged, missing):
    import keras
    import tensorflow as tf

    optimizer = keras.optimizers.SGD()
    pairs = [
        (None if i in missing else tf.constant(0.5), tf.Variable(float(i), name=f"v{i}"))
        for i in range(2)
    ]
    keras_own = plugged._all_reduce_sum_gradients.__wrapped__
    ours = _outcome(optimizer._all_reduce_sum_gradients, pairs)
    assert ours == _outcome(lambda p: keras_own(optimizer, p), pairs)
    if len(missing) == 2:
        assert ours == "ValueError"  # "No gradients provided for any variable"


def test_a_real_strategy_runs_keras_own_code(monkeypatch):
    import keras
    import tensorflow as tf
    from keras.src.backend.tensorflow import optimizer as tf_optimizer

    keras_own, calls = tf_optimizer.TFOptimizer._all_reduce_sum_gradients, []

    def spy(self, grads_and_vars):
        calls.append(tf.distribute.has_strategy())
        return keras_own(self, grads_and_vars)

    monkeypatch.setattr(tf_optimizer.TFOptimizer, "_all_reduce_sum_gradients", spy)
    assert memory.plug_optimizer_graph_leak() is True  # wraps the spy
    with tf.distribute.OneDeviceStrategy("/cpu:0").scope():
        keras.optimizers.SGD()._all_reduce_sum_gradients([(tf.constant(0.5), tf.Variable(1.0))])
    keras.optimizers.SGD()._all_reduce_sum_gradients([(tf.constant(0.5), tf.Variable(1.0))])
    assert calls == [True]  # Keras' code ran under the strategy, and only there


def test_unknown_keras_internals_change_nothing(monkeypatch):
    from keras.src.backend.tensorflow import optimizer as tf_optimizer

    monkeypatch.delattr(tf_optimizer, "filter_empty_gradients")
    before = tf_optimizer.TFOptimizer._all_reduce_sum_gradients
    assert memory.plug_optimizer_graph_leak() is False
    assert tf_optimizer.TFOptimizer._all_reduce_sum_gradients is before


def test_freeze_startup_objects_exempts_what_exists():
    try:
        frozen = memory.freeze_startup_objects()
        assert frozen == gc.get_freeze_count() > 1000
        assert gc.collect() >= 0 and len(gc.get_objects()) < frozen
    finally:
        gc.unfreeze()
