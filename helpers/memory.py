"""Keeping a learner's kernel small: what ``import helpers`` does for memory in a notebook.

A course kernel trains dozens of models one after another (chapter 5 alone about
thirty). Three things would otherwise make it grow with every model, and all
three are fixed here, once, when a notebook imports :mod:`helpers`:

- :func:`limit_malloc_growth`: glibc keeps freed multi-MB training buffers;
- :func:`plug_optimizer_graph_leak`: TensorFlow 2.21 keeps every traced
  training step of every model, even after ``keras.backend.clear_session()``;
- :func:`freeze_startup_objects`: each ``clear_session()`` re-scans the
  ~400,000 Python objects that importing TensorFlow made, 0.25 s a call.

None of them changes a single computed number; the tests check that.
"""

from __future__ import annotations

import gc
import sys
from typing import Any

__all__ = ["limit_malloc_growth", "plug_optimizer_graph_leak", "freeze_startup_objects"]


def limit_malloc_growth(threshold_bytes: int = 1 << 20) -> bool:
    """Stop glibc from hoarding freed large buffers (Linux only; returns True if applied).

    Training allocates and frees many multi-MB tensors per epoch (a batch of
    512 multi-hot rows is 20 MB). glibc raises its mmap threshold each time
    such a block is freed, after which these blocks are carved from per-thread
    heaps that rarely shrink, so a kernel's memory creeps up epoch after epoch
    (measured in chapter 4: 1.46 GB after 6 epochs instead of 1.12 GB). Fixing
    the threshold keeps big buffers in mmap, which returns them to the system.
    """
    import ctypes
    import ctypes.util

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        m_mmap_threshold = -3  # from malloc.h
        return bool(libc.mallopt(m_mmap_threshold, int(threshold_bytes)))
    except (OSError, AttributeError):  # not glibc (e.g. musl): nothing to do
        return False


def plug_optimizer_graph_leak() -> bool:
    """Let Keras free a model's traced training step (returns True if the fix is in place).

    On TensorFlow's backend every Keras optimizer passes its gradients through
    ``tf.distribute``'s ``all_reduce``, even with no distribution strategy, where
    summing over the one and only replica returns the gradients unchanged.
    Inside a traced training step that call is a ``tf.custom_gradient``, which
    in TensorFlow 2.21 registers a gradient function in a process-wide registry
    that is never emptied, and that function holds the whole traced graph
    (TensorFlow issue 97697). So each model trained kept about 6,500 Python
    objects and 8 MB after it was deleted and ``clear_session()`` had run:
    250 MB over chapter 5's thirty models.

    This wraps the optimizer's step so that, when no strategy is in use, it
    skips that identity all-reduce and keeps the same checks on the gradients
    (an error if none exist, a warning for variables without one). Under a
    real strategy (``with strategy.scope():``) Keras' own code runs unchanged.
    Where Keras' internals differ from the version this was written for, it
    changes nothing and returns False.
    """
    try:
        import tensorflow as tf
        from keras.src.backend.tensorflow import optimizer as tf_optimizer
    except ImportError:
        return False
    optimizer_class = getattr(tf_optimizer, "TFOptimizer", None)
    original = getattr(optimizer_class, "_all_reduce_sum_gradients", None)
    check = getattr(tf_optimizer, "filter_empty_gradients", None)
    if original is None or check is None:
        return False
    if getattr(original, "_course_plugged", False):
        return True

    def all_reduce_sum_gradients(self: Any, grads_and_vars: Any) -> Any:
        if tf.distribute.has_strategy():
            return original(self, grads_and_vars)
        grads_and_vars = list(grads_and_vars)
        check(grads_and_vars)  # raises or warns exactly as Keras does
        return grads_and_vars

    all_reduce_sum_gradients._course_plugged = True  # type: ignore[attr-defined]
    all_reduce_sum_gradients.__wrapped__ = original  # type: ignore[attr-defined]
    optimizer_class._all_reduce_sum_gradients = all_reduce_sum_gradients
    return True


def freeze_startup_objects() -> int:
    """Exempt the objects that exist now from later garbage collections; returns how many.

    ``keras.backend.clear_session()`` runs Python's full garbage collection,
    which visits every container object in the process: after importing
    TensorFlow and Keras that is about 400,000 of them, 0.25 s per call,
    though none of them is garbage. Called once after those imports, this
    collects what is garbage now and then moves the rest to a generation the
    collector skips (:func:`gc.freeze`), so later collections only visit what
    the notebook itself made. Nothing made later is affected.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
