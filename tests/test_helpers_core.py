"""helpers/__init__: quiet TensorFlow, seeding, environment report, record()."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import numpy as np
import pytest

import helpers


def test_import_sets_tf_log_level_before_tensorflow_loads():
    code = (
        "import os; os.environ.pop('TF_CPP_MIN_LOG_LEVEL', None); import helpers, sys; "
        "print(os.environ['TF_CPP_MIN_LOG_LEVEL'], 'tensorflow' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    ).stdout.split()
    assert out == ["3", "False"]  # set, and `import helpers` did not drag TensorFlow in


def test_seed_everything_repeats_numpy_and_keras():
    import keras

    helpers.seed_everything(7)
    a = np.random.rand(3), keras.random.uniform((3,)).numpy()
    helpers.seed_everything(7)
    b = np.random.rand(3), keras.random.uniform((3,)).numpy()
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize("bad", [-1, 1.5, "42"])
def test_seed_everything_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="non-negative whole number"):
        helpers.seed_everything(bad)


def test_environment_report(capsys):
    report = helpers.environment_report()
    assert set(report) == {"Python", "TensorFlow", "Keras", "NumPy", "Keras backend", "Device"}
    assert report["Keras"].startswith("3.")
    assert report["Device"] in ("CPU only",) or report["Device"].startswith("GPU")
    assert "TensorFlow" in capsys.readouterr().out


def test_record_appends_json_lines(tmp_path, monkeypatch, capsys):
    target = tmp_path / "metrics.jsonl"
    monkeypatch.setenv("COURSE_METRICS_FILE", str(target))
    helpers.record("test_accuracy", np.float32(0.9375))
    helpers.record("epochs", 7)
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert lines == [
        {"name": "test_accuracy", "value": 0.9375},
        {"name": "epochs", "value": 7},
    ]
    assert capsys.readouterr().out == ""


def test_record_without_env_does_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("COURSE_METRICS_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    helpers.record("test_accuracy", 0.5)
    assert list(tmp_path.iterdir()) == [] and capsys.readouterr().out == ""


def test_record_rejects_bad_input(monkeypatch):
    with pytest.raises(ValueError):
        helpers.record("", 1)
    with pytest.raises(TypeError, match="Convert it first"):
        helpers.record("thing", object())


def test_quiet_import_keeps_tensorflow_start_up_lines_out():
    code = (
        "import helpers; helpers._import_tensorflow_quietly(); "
        "import tensorflow as tf; tf.constant(1)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stderr == ""


def test_peak_memory_grows_with_a_big_allocation():
    before = helpers.peak_memory_mb()
    block = np.ones(40 * 2**20 // 8)  # 40 MB, touched
    after = helpers.peak_memory_mb()
    assert before > 10 and after >= before
    assert after - before >= 30 or before > 200  # a large earlier peak may already cover it
    del block


def _glibc() -> bool:
    try:
        return sys.platform.startswith("linux") and "glibc" in os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, ValueError, OSError):
        return False


def test_limit_malloc_growth_applies_exactly_on_glibc():
    assert helpers.limit_malloc_growth() is _glibc()


def test_in_a_kernel_python_logs_are_quiet_even_if_tensorflow_came_first():
    code = (
        "import sys, logging, types; import tensorflow; "
        "sys.modules['ipykernel'] = types.ModuleType('ipykernel'); import helpers; "
        "print(logging.getLogger('tensorflow').level, logging.getLogger('absl').level)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [str(logging.ERROR)] * 2
