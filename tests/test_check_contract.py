"""The contract of every exercise check (helpers/checks/README.md), held by Hypothesis.

The checks are found in the registry (``checks.all_checks()``), so a new chapter's checks are
held to the contract as soon as they exist. Four promises, each a group of tests below:

1. whatever a learner passes, a check answers with a :class:`Feedback` and no traceback (and
   its safety net, "the check itself failed", never has to answer for it);
2. every fair form of a right answer passes: the lesson's own answers (``RIGHT``) turned into
   lists, tuples, arrays, NumPy scalars, tensors, text in several spellings, numbers rounded
   as the lesson rounds them, functions that return the same values in another container;
3. a hint names the learner's mistake: two dimensions swapped gets a hint about order, a
   function that raises is named with its exception, a wrong type with its type, a class
   with "call it", a scalar ``math`` function with NumPy's own, all the answers at once with
   "one", a wrong last digit is refused;
4. a function check cannot be passed by a function that is only right on a few inputs.
"""

from __future__ import annotations

import builtins
import functools
import inspect
import math
import os
import re
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from helpers import checks, stats

CHECKS: dict[str, Callable[..., Any]] = {
    name: getattr(checks, name) for names in checks.all_checks().values() for name in names
}
CHECK_FAILED = "the check itself failed"  # the safety net's words (helpers/checks/README.md)
ORDER = re.compile(r"transpos|swap|order|rows and columns", re.IGNORECASE)
CALL = re.compile(r"\bcall\b|\(\)|\binstance", re.IGNORECASE)
FAST = settings(
    max_examples=25,
    deadline=None,
    database=None,  # nothing written into the working tree
    derandomize=True,  # the same examples on every run and machine: CI is not a lottery
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(autouse=True, scope="module")
def _in_a_temporary_folder(tmp_path_factory):
    """Checks may call a learner's "function" (a Keras class, say): nothing lands in the tree."""
    old = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("contract"))
    yield
    os.chdir(old)


# --- the lesson's right answers --------------------------------------------------------------


class TinyModel:
    """Stands in for the MNIST model of chapter 3: predict() gives fixed probabilities."""

    def __init__(self) -> None:
        self.probabilities = np.random.default_rng(3).dirichlet(np.ones(10), size=6)

    def predict(self, images: Any, verbose: int = 0) -> np.ndarray:
        return self.probabilities[: len(images)]


def relu(z):
    return np.maximum(z, 0)


def relu_derivative(z):
    return (z > 0).astype(float)


def sigmoid_derivative(z):
    s = 1 / (1 + np.exp(-z))
    return s * (1 - s)


def predict_digits(model, images):
    return model.predict(images, verbose=0).argmax(axis=-1)


def multi_hot(sequences, num_words):
    out = np.zeros((len(sequences), num_words), dtype="float32")
    for row, seq in enumerate(sequences):
        out[row, list(seq)] = 1.0
    return out


def rnn_step(x_t, h_prev, W, U, b):
    return np.tanh(x_t @ W + h_prev @ U + b)


def particle(word):
    code = ord(word[-1]) - 0xAC00
    if 0 <= code < 11172:
        return "을" if code % 28 else "를"
    return "을" if word[-1] in "013678" else "를"


# Loop forms (output shape, one output entry) of the checks whose answer is a 2-D array.
def conv_shape(image, kernel):
    return (image.shape[0] - kernel.shape[0] + 1, image.shape[1] - kernel.shape[1] + 1)


def conv_entry(i, j, image, kernel):
    return np.sum(image[i : i + kernel.shape[0], j : j + kernel.shape[1]] * kernel)


def pool_shape(fmap, size):
    return (fmap.shape[0] // size, fmap.shape[1] // size)


def pool_entry(i, j, fmap, size):
    return fmap[i * size : (i + 1) * size, j * size : (j + 1) * size].max()


def from_loop(shape: Callable, entry: Callable) -> Callable:
    """A learner's loop: allocate the output with ``shape``, fill it entry by entry."""

    def loop(*args):
        out = np.zeros(shape(*args))
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                out[i, j] = entry(i, j, *args)
        return out

    return loop


@dataclass
class Right:
    """One right answer of a check, and what the lesson says about it."""

    answer: Any
    args: tuple = ()  # what the notebook passes after the answer (a model, images)
    decimals: int | None = None  # the fewest decimals the lesson itself writes it with
    fraction: str | None = None  # the answer as worked out by hand
    loop: tuple[Callable, Callable] | None = None  # (shape, entry) of a 2-D answer
    pair: bool = False  # the answer is two arguments, (layer, loss)


def _neuron() -> float:
    x, w = np.array(checks.EX_NEURON["x"]), np.array(checks.EX_NEURON["w"])
    return float(1 / (1 + np.exp(-(w @ x + checks.EX_NEURON["b"]))))


def _gradient() -> float:
    g = checks.EX_GRADIENT
    y = 1 / (1 + np.exp(-(g["w"] * g["x"] + g["b"])))
    return float(2 * (y - g["t"]) * y * (1 - y) * g["x"])


def _callbacks() -> list:
    return [
        keras.callbacks.ModelCheckpoint("best.keras", monitor="val_loss", save_best_only=True),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True),
    ]


PADDED = [[0, 4, 12, 7], [3, 8, 15, 6], [0, 0, 0, 5]]
RIGHT: dict[str, Right] = {
    "check_relu": Right(relu),
    "check_relu_derivative": Right(relu_derivative),
    "check_neuron_output": Right(_neuron()),
    "check_layer_params": Right(15),
    "check_glorot_limit": Right(math.sqrt(6 / 400)),
    "check_gradient": Right(_gradient()),
    "check_sigmoid_derivative": Right(sigmoid_derivative),
    "check_learning_rate_choice": Right("diverges"),
    "check_weight_gradient_shape": Right((10, 16)),
    "check_cross_entropy_gradient": Right(float(1 / (1 + np.exp(-2.0)))),
    "check_dense_params": Right(50_240),
    "check_predict_digits": Right(predict_digits, args=(TinyModel(), np.zeros((6, 28, 28)))),
    "check_loss_choice": Right("categorical_crossentropy"),
    "check_mcnemar_p": Right(stats.mcnemar_p_value(20, 10)),
    "check_multi_hot_memory": Right(200),
    "check_multi_hot": Right(multi_hot),
    # Ex. 4.3 asks for "a pair that works": the loss reads the output as what it is.
    "check_binary_output": Right(("Dense(1, sigmoid)", "binary_crossentropy"), pair=True),
    "check_callbacks": Right(_callbacks),  # built anew for every use
    "check_dropout_values": Right("0 and 2"),
    "check_saved_format": Right(".keras"),
    "check_fair_metric": Right("val_ce"),
    "check_output_size": Right(16),
    "check_conv_params": Right(18_496),
    "check_conv2d_valid": Right(from_loop(conv_shape, conv_entry), loop=(conv_shape, conv_entry)),
    "check_max_pool": Right(from_loop(pool_shape, pool_entry), loop=(pool_shape, pool_entry)),
    "check_padded": Right(PADDED),
    "check_embedding_params": Right(320_000),
    "check_rnn_step": Right(rnn_step),
    "check_particle": Right(particle),
    "check_entity_f1": Right(4 / 7, decimals=2, fraction="4/7"),  # chapter 8 writes F1 as 0.67
    "check_conv_branch_params": Right(4 * 64 * 128 + 128),
}
# Ex. 4.3's other pairs that work, and the Keras objects and code the text answers stand for.
PAIRS = [("Dense(1, sigmoid)", "binary_crossentropy"), ("Dense(1, sigmoid)", "mse")]
PAIRS += [("Dense(2, softmax)", "sparse_categorical_crossentropy")]
PAIRS += [("Dense(1)", "binary_crossentropy(from_logits=True)")]
KERAS_FORMS: dict[str, list[Callable[[], Any]]] = {
    "Dense(1, sigmoid)": [
        lambda: keras.layers.Dense(1, activation="sigmoid"),
        lambda: "layers.Dense(1, activation='sigmoid')",
        lambda: 'keras.layers.Dense(units=1, activation="sigmoid")',
        lambda: "Dense(1, activation=keras.activations.sigmoid)",
    ],
    "binary_crossentropy": [
        keras.losses.BinaryCrossentropy,
        lambda: keras.losses.BinaryCrossentropy,
        lambda: keras.losses.binary_crossentropy,
        lambda: "keras.losses.BinaryCrossentropy()",
        lambda: "binary crossentropy",
    ],
    "categorical_crossentropy": [
        keras.losses.CategoricalCrossentropy,
        lambda: "CategoricalCrossentropy()",
        lambda: "categorical cross-entropy",
    ],
}


def right_answer(name: str) -> Any:
    answer = RIGHT[name].answer
    return answer() if answer is _callbacks else answer


def call(name: str, answer: Any, *more: Any) -> Any:
    """The check as a notebook calls it: the answer, then what the lesson passes after it."""
    args = RIGHT[name].args if name in RIGHT else ()
    return CHECKS[name](answer, *(more or args))


def test_every_registered_check_has_a_right_answer_here():
    """A new check is fuzzed at once (below); its fair forms need its right answer here."""
    missing = sorted(set(CHECKS) - set(RIGHT))
    assert not missing, f"add the right answers of {missing} to RIGHT in this file"
    for name in CHECKS:
        required = [
            p
            for p in list(inspect.signature(CHECKS[name]).parameters.values())[1:]
            if p.default is p.empty
        ]
        assert len(required) == len(RIGHT[name].args), f"{name}: give RIGHT[...].args"


# --- 1. whatever a learner passes -------------------------------------------------------------


class LearnerError(Exception):
    """An exception of the learner's own."""


class Mute(Exception):
    """An exception that cannot even say what it is."""

    def __str__(self) -> str:
        raise RuntimeError("no message")


ERRORS = [ValueError("bad value"), TypeError("bad type"), KeyError("k"), IndexError("9")]
ERRORS += [ZeroDivisionError("division by zero"), AttributeError("no attribute 'shape'")]
ERRORS += [RuntimeError("oops"), AssertionError(), RecursionError("too deep"), OverflowError()]
ERRORS += [LearnerError("mine"), Mute()]


class Fn:
    """A learner's function: whatever it is given, it returns ``result`` or raises ``error``."""

    def __init__(self, result: Any = None, error: BaseException | None = None) -> None:
        self.result, self.error = result, error

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.error is not None:
            raise self.error
        return self.result

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(f"Fn(raises {type(self.error).__name__})" if self.error else "Fn(returns ")
        if self.error is None:
            p.pretty(self.result)
            p.text(")")


def _broken(method: str) -> Any:
    """An object of a learner's class whose ``method`` raises."""

    def boom(self, *args):
        raise RuntimeError(f"{method} is broken")

    namespace = {method: boom, "_repr_pretty_": lambda self, p, cycle: p.text(f"<{method}>")}
    return type(f"Broken{method.strip('_').title()}", (), namespace)()


HOSTILE = [
    _broken(m) for m in ("__eq__", "__array__", "__float__", "__len__", "__iter__", "__bool__")
] + [_broken("__repr__"), _broken("__str__"), _broken("__getattr__")]
CLASSES = [int, float, str, list, dict, object, np.ndarray, np.float64] + sorted(
    {
        obj
        for module in (keras.layers, keras.losses, keras.callbacks)
        for obj in vars(module).values()
        if isinstance(obj, type)
    },
    key=lambda cls: cls.__name__,
)
KERAS_OBJECTS = [keras.layers.Dense(1), keras.layers.Dense(2, activation="softmax")]
KERAS_OBJECTS += [keras.layers.ReLU(), keras.layers.Dropout(0.5), keras.losses.Hinge()]
KERAS_OBJECTS += [keras.callbacks.ModelCheckpoint("x.h5"), keras.callbacks.EarlyStopping()]
KERAS_OBJECTS += [
    keras.losses.BinaryCrossentropy(from_logits=True),
    keras.losses.MeanSquaredError(),
]
SPELLINGS = ["", " ", "nan", "-inf", "1e400", "4/0", "1/3", "57%", "0, 2", "2 and 0", "(10, 16)"]
SPELLINGS += ["10 x 16", "[[1, 2], [3]]", "np.float64(0.5)", "None", "...", "Dense(", "\ud800"]
SPELLINGS += ["\uff11\uff15", "\u2212 0.5"]  # full-width 15, a typographic minus
scalars = st.one_of(
    st.none(),
    st.just(...),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.sampled_from([400, 64]).map(lambda k: 10**k),  # too large for a float
    st.floats(),
    st.complex_numbers(max_magnitude=1e6),
    st.floats(width=32).map(np.float32),
    st.integers(-(2**31), 2**31 - 1).map(np.int64),
    st.booleans().map(np.bool_),
    st.text(max_size=12),
    st.sampled_from(SPELLINGS),
    st.integers(100, 3000).map(lambda n: "val_ce" * n),  # a very long text
    st.binary(max_size=6),
)
arrays = hnp.arrays(
    dtype=st.sampled_from(["float64", "float32", "int64", "uint8", "bool", "complex128", "U4"]),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
)
objects = st.lists(scalars, max_size=3).map(lambda xs: np.array([*xs, None], dtype=object))
others = st.sampled_from(HOSTILE + CLASSES + KERAS_OBJECTS)


def _containers(children: st.SearchStrategy) -> st.SearchStrategy:
    hashable = st.one_of(st.integers(), st.text(max_size=4), st.sampled_from(CLASSES))
    return st.one_of(
        st.lists(children, max_size=4),
        st.tuples(children, children),
        st.dictionaries(st.text(max_size=3), children, max_size=3),
        st.frozensets(hashable, max_size=3),
    )


values = st.recursive(st.one_of(scalars, arrays, objects, others), _containers, max_leaves=6)
functions = st.one_of(
    st.builds(Fn, result=values),
    st.builds(Fn, error=st.sampled_from([*ERRORS, NotImplementedError()])),
    st.sampled_from([lambda: 0, lambda *a: a, lambda a, b, c, d, e, f, g: 0, len, str]),
)
anything = st.one_of(scalars, arrays, objects, others, _containers(values), functions)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_whatever_a_learner_passes_the_check_answers_with_feedback(name):
    optional = [
        p.name
        for p in list(inspect.signature(CHECKS[name]).parameters.values())[1:]
        if p.default is None  # another answer of the learner's (a loss beside a layer)
    ]

    @settings(FAST, max_examples=150)
    @given(
        answer=anything, more=st.fixed_dictionaries({}, optional={n: anything for n in optional})
    )
    def answers(answer, more):
        args = RIGHT[name].args if name in RIGHT else ()
        feedback = CHECKS[name](answer, *args, **more)
        assert isinstance(feedback, checks.Feedback), type(feedback)
        assert isinstance(feedback.message, str) and feedback.message.strip()
        assert CHECK_FAILED not in feedback.message, feedback.message

    answers()


# --- 2. every fair form of a right answer passes ---------------------------------------------


def number_forms(value: float) -> list[Any]:
    """A number as a learner may hand it in: containers, NumPy types, text."""
    forms = [value, np.float64(value), np.array(value), np.array([value]), [value], (value,)]
    forms += [[[value]], str(value), f" {value} ", f"'{value}'", keras.ops.convert_to_tensor(value)]
    if float(value).is_integer():
        n = int(value)
        forms += [n, float(n), np.int64(n), np.int32(n), np.array([n]), f"{n}", f"{n}.0"]
        forms += [f"{n:,}", f"{n:_}", f"{n:,}".replace(",", " "), f"{n:,}".replace(",", "\u202f")]
        forms += [f"{n:e}", f"{n:.0e}"] if float(f"{n:.0e}") == n else [f"{n:e}"]
    else:
        forms += [np.float32(value), f"{value:.6f}", f"{value:.8g}", f"{value:e}"]
        forms += [f"{value:.6f}".replace("-", "\u2212")] if value < 0 else []
    return forms


def choice_forms(choice: str) -> list[Any]:
    """A choice as a learner may write it: case, spaces, quotes, a full stop, a container."""
    forms = [choice, choice.upper(), choice.title(), f"  {choice}\n", f"'{choice}'"]
    forms += [f'"{choice}"', f"{choice}.", f"`{choice}`", choice.replace(" ", "  "), [choice]]
    forms += [(choice,), np.array([choice]), np.array(choice), np.str_(choice)]
    numbers = re.fullmatch(r"\s*(-?[\d.]+)((?:\s+and\s+-?[\d.]+)*)\s*", choice)
    if numbers:  # "0 and 2" names the values 0 and 2: in any order, as numbers
        found = [float(x) for x in re.findall(r"-?[\d.]+", choice)]
        ints = [int(x) if x.is_integer() else x for x in found]
        back = ints[::-1]
        forms += [ints, tuple(back), np.array(found), np.array(back, dtype=float), set(ints)]
        forms += [", ".join(map(str, ints)), " and ".join(map(str, back)), str(ints)]
        forms += [" & ".join(map(str, ints)), " or ".join(map(str, ints))]
    forms += [make() for make in KERAS_FORMS.get(choice, [])]  # Keras' own object, or code
    if choice.startswith("."):  # a file ending: with or without its dot, or in a file name
        forms += [choice[1:], f"model{choice}", f"*{choice}", choice.upper()[1:]]
    return forms


def array_forms(value: Any) -> list[Any]:
    """A vector or table of numbers: nested lists, tuples, arrays of several dtypes, text."""
    array = np.asarray(value)
    forms = [array.tolist(), tuple(map(tuple, array)) if array.ndim == 2 else tuple(array)]
    forms += [array.astype(dt) for dt in ("int32", "int64", "float32", "float64")]
    forms += [list(array), str(array.tolist()), keras.ops.convert_to_tensor(array)]
    if array.ndim == 1:  # a shape such as (10, 16)
        ints = [int(d) for d in array]
        forms += [", ".join(map(str, ints)), " x ".join(map(str, ints)), "x".join(map(str, ints))]
        forms += [str(tuple(ints)), "\u00d7".join(map(str, ints)), np.zeros(ints).shape]
    return forms


def function_forms(name: str) -> list[Any]:
    """The right function, as another callable, or returning its values in another form."""
    fn = RIGHT[name].answer

    class Callable_:
        def __call__(self, *args):
            return fn(*args)

    result = outputs(name)[0]
    ways = [np.str_] if isinstance(result, str) else [np.asfortranarray, np.copy]
    if not isinstance(result, str) and np.asarray(result).dtype in (np.float64, np.int64):
        ways.append(lambda r: np.asarray(r).tolist())  # a list reads as the same dtype
    forms = [fn, Callable_(), functools.partial(fn), lambda *args: fn(*args)]
    return forms + [lambda *args, way=way: way(fn(*args)) for way in ways]


def outputs(name: str) -> list[Any]:
    """What the right function returns when its check calls it."""
    seen: list[Any] = []
    call(name, lambda *args: seen.append(RIGHT[name].answer(*args)) or seen[-1])
    return seen


def fair_forms(name: str) -> list[Any]:
    """Every fair form of ``name``'s right answer, the answer itself first."""
    answer, right = right_answer(name), RIGHT[name]
    if right.pair:
        return []  # two arguments: test_every_pair_that_works_passes_in_every_form
    if callable(answer) and not isinstance(answer, type):
        return function_forms(name)
    if isinstance(answer, str):
        return choice_forms(answer)
    if isinstance(answer, list) and not isinstance(answer[0], (int, float, list)):
        return [answer, tuple(answer), answer[::-1]]  # Keras objects, in any order
    if isinstance(answer, (tuple, list)):
        return array_forms(answer)
    forms = number_forms(answer)
    if right.fraction:
        forms += [right.fraction, right.fraction.replace(" ", "")]
    if right.decimals is not None:
        forms += [round(answer, right.decimals), f"{answer:.{right.decimals}f}"]
    return forms


@pytest.mark.parametrize("name", sorted(RIGHT))
def test_every_fair_form_of_the_right_answer_passes(name):
    refused = []
    for form in fair_forms(name):
        try:
            feedback = call(name, form)
        except Exception as err:  # noqa: BLE001 - reported below with the form that caused it
            refused.append(f"{form!r}: {type(err).__name__}: {err}")
            continue
        if not feedback.ok:
            refused.append(f"{form!r}: {feedback!r}")
    assert not refused, f"{name} refuses fair forms:\n" + "\n".join(refused)


def pair_forms() -> list[tuple]:
    """Every pair that works, in every form: text, Keras objects, classes, code; as two
    arguments, or as one list or tuple."""
    made = [
        (layer(), loss())
        for a, b in PAIRS
        for layer in [lambda a=a: a, *KERAS_FORMS.get(a, [])]
        for loss in [lambda b=b: b, *KERAS_FORMS.get(b, [])]
    ]
    return [args for pair in made for args in (pair, ([*pair],), (pair,))]


@pytest.mark.parametrize("name", [n for n in sorted(RIGHT) if RIGHT[n].pair])
def test_every_pair_that_works_passes_in_every_form(name):
    refused = [f"{args!r}: {f!r}" for args in pair_forms() if not (f := call(name, *args)).ok]
    assert not refused, "\n".join(refused)


@FAST
@given(data=st.data())
def test_a_choice_passes_in_any_case_spacing_and_quoting(data):
    name = data.draw(
        st.sampled_from([n for n in sorted(RIGHT) if isinstance(RIGHT[n].answer, str)])
    )
    choice = RIGHT[name].answer
    flips = data.draw(st.lists(st.booleans(), min_size=len(choice), max_size=len(choice)))
    text = "".join(c.upper() if f else c for c, f in zip(choice, flips, strict=True))
    left, right = data.draw(st.text(" \t\n", max_size=3)), data.draw(st.text(" \t\n", max_size=3))
    quote = data.draw(st.sampled_from(["", "'", '"', "`"]))
    end = data.draw(st.sampled_from(["", ".", "!"]))
    written = f"{left}{quote}{text}{quote}{end}{right}"
    assert call(name, written).ok, (name, written, call(name, written))


FLOAT_CHECKS = [
    n
    for n, r in sorted(RIGHT.items())
    if isinstance(r.answer, float) and not float(r.answer).is_integer()
]


@pytest.mark.parametrize("name", FLOAT_CHECKS)
@FAST
@given(digits=st.integers(6, 10))
def test_a_float_answer_passes_at_any_precision_the_check_accepts_and_past_it(name, digits):
    """Rounded to 6 decimals or more, as a number or as text, it passes; a wrong last digit
    where the right rounding passes is refused (0.572 is not 4/7 rounded)."""
    want = RIGHT[name].answer
    for written in (round(want, digits), f"{want:.{digits}f}"):
        assert call(name, written).ok, (written, call(name, written))
    coarsest = next(d for d in range(1, 12) if call(name, round(want, d)).ok)
    step = 10.0**-coarsest
    cut = math.trunc(want / step) * step
    for wrong in (round(want + step, coarsest), round(want - step, coarsest)):
        if not math.isclose(wrong, cut, abs_tol=1e-12):  # truncating is a fair reading
            assert not call(name, wrong).ok, (wrong, "accepted", call(name, wrong))


# --- 3. a hint names the mistake --------------------------------------------------------------


def _two_d_answers() -> list[tuple[str, Any]]:
    """Right answers whose two dimensions differ: a shape (10, 16), a 3 x 4 table."""
    found = []
    for name in sorted(RIGHT):
        answer = right_answer(name)
        if not isinstance(answer, (tuple, list)) or np.asarray(answer).dtype.kind not in "iuf":
            continue
        array = np.asarray(answer)
        if (array.ndim == 1 and len(set(array.tolist())) > 1) or (
            array.ndim == 2 and array.shape[0] != array.shape[1]
        ):
            found.append((name, answer))
    return found


@pytest.mark.parametrize("name, answer", _two_d_answers())
def test_a_right_answer_with_two_dimensions_swapped_gets_a_hint_about_order(name, answer):
    array = np.asarray(answer)
    swapped = array[::-1].tolist() if array.ndim == 1 else array.T.tolist()
    feedback = call(name, swapped)
    assert not feedback.ok and ORDER.search(feedback.message), feedback


LOOPS = sorted(n for n, r in RIGHT.items() if r.loop)


@pytest.mark.parametrize("name", LOOPS)
def test_a_loop_whose_output_shape_reads_an_argument_the_wrong_way_round_is_told_so(name):
    """The loop is right, but the output's shape reads a 2-D argument's dimensions swapped
    (``kh, kw`` for ``kw, kh``), or the output is transposed: the hint is about order."""
    shape, entry = RIGHT[name].loop
    right = RIGHT[name].answer
    seen = []
    call(name, lambda *args: seen.append(args) or right(*args))
    missed = []
    for position in {i for args in seen for i, a in enumerate(args) if np.ndim(a) == 2}:

        def swapped(*args, position=position):
            turned = [a.T if i == position else a for i, a in enumerate(args)]
            return from_loop(lambda *_: shape(*turned), entry)(*args)

        feedback = call(name, swapped)
        if feedback.ok or not ORDER.search(feedback.message):
            missed.append(f"argument {position} read swapped: {feedback!r}")
    transposed = call(name, lambda *args: right(*args).T)
    if transposed.ok or not ORDER.search(transposed.message):
        missed.append(f"output transposed: {transposed!r}")
    assert not missed, "\n".join(missed)


def function_checks() -> list[str]:
    return sorted(
        n for n in RIGHT if callable(RIGHT[n].answer) and RIGHT[n].answer is not _callbacks
    )


@pytest.mark.parametrize("name", function_checks())
@pytest.mark.parametrize("error", [e for e in ERRORS if not isinstance(e, Mute)], ids=repr)
def test_a_function_that_raises_is_told_its_exception(name, error):
    feedback = call(name, Fn(error=error))
    assert not feedback.ok and type(error).__name__ in feedback.message, feedback


@pytest.mark.parametrize("name", function_checks())
def test_a_function_that_returns_the_wrong_type_is_told_the_type(name):
    wrong: list[Any] = [{"a": 1}, {1, 2}, object(), relu, int]
    wrong += [1, 0.5, ["x"], b"x"] if isinstance(outputs(name)[0], str) else ["text"]
    for result in wrong:
        message = call(name, Fn(result=result)).message
        said = type(result).__name__ in message or (isinstance(result, type) and "class" in message)
        assert said, (result, message)


def _is_keras(value: Any) -> bool:
    """A Keras layer, loss or callback (not a tensor: that is a number)."""
    return type(value).__module__.split(".")[0] == "keras" and not keras.ops.is_tensor(value)


def _with_classes(value: Any) -> Any:
    """``value`` with every Keras object in it replaced by its class."""
    if isinstance(value, (list, tuple)):
        return type(value)(_with_classes(v) for v in value)
    return type(value) if _is_keras(value) else value


def keras_answers(name: str) -> list[tuple]:
    """Fair answers of a check (as argument tuples) that hold Keras objects."""
    candidates = pair_forms()[::3] if RIGHT[name].pair else [(form,) for form in fair_forms(name)]
    flat = lambda args: [v for a in args for v in (a if isinstance(a, (list, tuple)) else [a])]  # noqa: E731
    return [args for args in candidates if any(_is_keras(v) for v in flat(args))]


@pytest.mark.parametrize("name", sorted(RIGHT))
def test_classes_instead_of_instances_are_accepted_or_told_to_be_called(name):
    """Keras accepts a loss's class (it makes the instance); a callback or a layer must be
    made first, and the hint says to call the class."""
    for args in keras_answers(name):
        feedback = call(name, *_with_classes(args))
        assert feedback.ok or CALL.search(feedback.message), (args, feedback)


MATH = {"exp": math.exp, "tanh": math.tanh, "log": math.log, "sqrt": math.sqrt}
MATH |= {"maximum": builtins.max, "minimum": builtins.min, "sum": math.fsum, "abs": builtins.abs}


def with_math(fn: Callable) -> Callable | None:
    """``fn`` with NumPy's element-wise functions replaced by the scalar ones of ``math`` (and
    ``max``, ``sum``...), as a learner writes it; ``None`` when ``fn`` uses none of them."""
    if not set(fn.__code__.co_names) & set(MATH):
        return None

    class MathFirst:
        def __getattr__(self, name: str) -> Any:
            return MATH.get(name) or getattr(np, name)

    return types.FunctionType(fn.__code__, {**fn.__globals__, "np": MathFirst()}, fn.__name__)


def math_version(name: str) -> Callable | None:
    """The right function of ``name`` written with ``math`` instead of NumPy, if it can be."""
    right = RIGHT[name]
    if right.loop:
        entry = with_math(right.loop[1])
        return entry and from_loop(right.loop[0], entry)
    return with_math(right.answer)


@pytest.mark.parametrize("name", [n for n in function_checks() if math_version(n)])
def test_a_scalar_math_function_on_arrays_is_pointed_to_numpy(name):
    feedback = call(name, math_version(name))
    assert not feedback.ok and re.search(r"np\.\w+", feedback.message), feedback


def few_words(name: str) -> list[str]:
    """The right function's answers when they are a few words (을 and 를), else []."""
    words = outputs(name)
    few = all(isinstance(w, str) for w in words) and 1 < len(set(words)) <= 5
    return sorted(set(words)) if few else []


@pytest.mark.parametrize("name", [n for n in function_checks() if few_words(n)])
def test_all_the_possible_answers_at_once_are_told_to_choose_one(name):
    every = few_words(name)
    for joined in ("/".join(every), " or ".join(every), every):
        feedback = call(name, Fn(result=joined))
        assert not feedback.ok and re.search(r"\bone\b", feedback.message), (joined, feedback)


# --- 4. a function check tests the whole range that matters -----------------------------------


def _elementwise() -> list[str]:
    found = []
    for name in function_checks():
        fn, z = RIGHT[name].answer, np.linspace(-3, 3, 7)
        try:
            whole = np.asarray(fn(z), dtype=float)
            one_by_one = np.array([float(np.asarray(fn(np.array([v])))[0]) for v in z])
        except Exception:  # noqa: BLE001 - not a function of one array
            continue
        if whole.shape == z.shape and np.allclose(whole, one_by_one):
            found.append(name)
    return found


@pytest.mark.parametrize("name", _elementwise())
@FAST
@given(limit=st.floats(0.5, 10))
def test_an_element_wise_function_right_only_near_zero_is_refused(name, limit):
    """Right on [-limit, limit] but flat beyond (np.clip(z, 0, 5) for ReLU): pre-activations
    reach tens, so a check must look past the small inputs."""
    fn = RIGHT[name].answer

    def saturated(z):
        return fn(np.clip(z, -limit, limit))

    grid = np.linspace(-20, 20, 401)
    if np.max(np.abs(saturated(grid) - fn(grid))) > 1e-3:
        assert not call(name, saturated).ok, (name, limit)
