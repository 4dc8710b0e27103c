# ruff: noqa: F401 - every name imported here is re-exported (listed in __all__ below)
"""Automatic feedback for the exercises: ``from helpers import checks``, then
``checks.check_xxx(answer)`` in a notebook.

``engine.py`` is what the checks are written with (:class:`Feedback`, :func:`confirm`, the
:func:`~helpers.checks.engine.exercise` decorator, the common kinds of check); each
chapter's checks live in ``chNN.py``. Every name is imported here explicitly, so an editor
finds its definition; a new chapter adds its module, its imports below, and its test file
``tests/test_checks_chNN.py``. Every check logs its call to the learner's progress log
(:mod:`helpers.progress`) through the decorator; the log imports nothing from here, and
:func:`all_checks` hands the catalogue to whoever reads the log.
"""

from helpers.checks import ch01, ch02, ch03, ch04, ch05, ch06, ch07, ch08
from helpers.checks.ch01 import (
    EX_GLOROT,
    EX_NEURON,
    check_glorot_limit,
    check_layer_params,
    check_neuron_output,
    check_relu,
    check_relu_derivative,
)
from helpers.checks.ch02 import (
    EX_GRADIENT,
    EX_LOGIT,
    EX_SHAPES,
    check_cross_entropy_gradient,
    check_gradient,
    check_learning_rate_choice,
    check_sigmoid_derivative,
    check_weight_gradient_shape,
)
from helpers.checks.ch03 import (
    EX_MCNEMAR,
    check_dense_params,
    check_loss_choice,
    check_mcnemar_p,
    check_predict_digits,
)
from helpers.checks.ch04 import check_binary_output, check_multi_hot, check_multi_hot_memory
from helpers.checks.ch05 import (
    check_callbacks,
    check_dropout_values,
    check_fair_metric,
    check_saved_format,
)
from helpers.checks.ch06 import (
    EX_CONV_PARAMS,
    EX_OUTPUT_SIZE,
    check_conv2d_valid,
    check_conv_params,
    check_max_pool,
    check_output_size,
)
from helpers.checks.ch07 import (
    EX_EMBEDDING,
    EX_PAD,
    check_embedding_params,
    check_padded,
    check_rnn_step,
)
from helpers.checks.ch08 import (
    EX_CONV,
    EX_F1,
    EX_PARTICLE_WORDS,
    check_conv_branch_params,
    check_entity_f1,
    check_particle,
)
from helpers.checks.engine import (
    CHECKS_BY_CHAPTER,
    Feedback,
    SolutionError,
    check_choice,
    check_function,
    check_value,
    confirm,
)

CHAPTERS = (ch01, ch02, ch03, ch04, ch05, ch06, ch07, ch08)


def all_checks() -> dict[str, list[str]]:
    """Every exercise check of the course, by chapter: ``{"01": ["check_relu", ...]}``.

    A copy of :data:`CHECKS_BY_CHAPTER`, complete once every chapter above is imported: the
    catalogue ``course.py progress`` and the classroom's report and live page count against.
    """
    return {chapter: list(names) for chapter, names in CHECKS_BY_CHAPTER.items()}


CHAPTER_MODULES = [module.__name__.rsplit(".", 1)[1] for module in CHAPTERS]
__all__ = [
    "CHECKS_BY_CHAPTER",
    "all_checks",
    "Feedback",
    "SolutionError",
    "check_choice",
    "check_function",
    "check_value",
    "confirm",
    *(name for module in CHAPTERS for name in module.__all__),
]
