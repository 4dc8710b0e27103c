"""Chapter 6 exercises: convolutional networks (output size, parameters, conv2d, pooling)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from helpers import reference
from helpers.checks.engine import (
    Feedback,
    as_numbers,
    call_learner,
    check_value,
    error_text,
    exercise,
    kind,
    shown,
)

__all__ = [
    "EX_OUTPUT_SIZE",
    "EX_CONV_PARAMS",
    "check_output_size",
    "check_conv_params",
    "check_conv2d_valid",
    "check_max_pool",
]

EX_OUTPUT_SIZE = {"n": 32, "k": 5, "p": 2, "s": 2}
EX_CONV_PARAMS = {"c_in": 32, "filters": 64, "k": 3}


@exercise("06")
def check_output_size(answer: Any) -> Feedback:
    """Ex. 6.1: width of a 32-pixel-wide input after a 5x5 kernel, padding 2, stride 2."""
    n, k, p, s = (EX_OUTPUT_SIZE[key] for key in "nkps")
    right = (n + 2 * p - k) // s + 1
    return check_value(
        answer,
        right,
        "answer_size",
        atol=0,
        hints={
            "one short: the formula ends with + 1 (a kernel that fits exactly once gives 1 "
            "output), and the padding goes on both sides (n + 2p).": lambda v: (
                v in ((n + 2 * p - k) // s, (n + p - k) // s + 1)
            ),
            (
                "you left the padding out; with padding 2 the padded input is 36 pixels wide."
            ): lambda v: v == (n - k) // s + 1,
            (
                "you left the stride out; with stride 2 the kernel moves 2 pixels at a time."
            ): lambda v: v == n + 2 * p - k + 1,
            (
                "round the division down (floor): a kernel that does not fit gives no output."
            ): lambda v: v == -(-(n + 2 * p - k) // s) + 1,
            "that is not a whole number; the division is rounded down.": lambda v: (
                float(v) != int(v)
            ),
        },
    )


@exercise("06")
def check_conv_params(answer: Any) -> Feedback:
    """Ex. 6.2: parameters of Conv2D(64, 3) on an input with 32 channels."""
    c_in, c_out, k = (EX_CONV_PARAMS[key] for key in ("c_in", "filters", "k"))
    weights = k * k * c_in * c_out
    return check_value(
        answer,
        weights + c_out,
        "answer_conv_params",
        atol=0,
        hints={
            "that is only the weights; each of the 64 filters also has one bias.": lambda v: (
                v == weights
            ),
            "each filter spans all 32 input channels: k * k * c_in weights per filter.": lambda v: (
                v in (k * k * c_out + c_out, k * k * c_out)
            ),
            "one bias per filter (64), not one per weight.": lambda v: v == 2 * weights,
            "a 3x3 kernel has 3 * 3 = 9 weights per input channel, not 3.": lambda v: (
                v in (k * c_in * c_out + c_out, k * c_in * c_out)
            ),
        },
    )


def _compare(
    call: str, got: Any, want: np.ndarray, hints: dict[str, np.ndarray]
) -> Feedback | None:
    """``None`` when ``got`` is ``want``; otherwise what is wrong with it, as feedback."""
    try:
        dtype = np.asarray(got).dtype
    except Exception:  # as_numbers below says what it is
        dtype = np.dtype(object)
    values = as_numbers(got)
    if values is None:
        return Feedback(
            False,
            f"{call} returned {kind(got)} ({shown(got, 60)}); it should return a 2-D array of "
            f"numbers of shape {want.shape}.",
        )
    got = values
    if got.shape != want.shape:
        return Feedback(False, f"{call} returned shape {got.shape}; expected {want.shape}.")
    if np.allclose(got, want, atol=1e-6):
        return None
    transposed = (
        "the output is transposed: its rows and columns are swapped (output[i, j] belongs to "
        "the window that starts at row i, column j)."
    )
    for message, wrong in {**hints, transposed: want.T}.items():
        if wrong.shape == got.shape and np.allclose(got, wrong, atol=1e-6):
            return Feedback(False, f"{call}: {message}")
    if np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.bool_):
        return Feedback(
            False,
            f"{call} returned whole numbers (dtype {dtype}): an integer "
            "array drops the fraction of every value stored in it. Create "
            "the output as floats, e.g. np.zeros(shape) (float64 unless you "
            "pass dtype=int).",
        )
    i, j = np.argwhere(~np.isclose(got, want, atol=1e-6))[0]
    return Feedback(
        False, f"{call}: output[{i}, {j}] is {got[i, j]:.6g}, expected {want[i, j]:.6g}."
    )


def _span(key: Any) -> tuple[int, int] | None:
    """``(start, stop)`` of a plain forward slice ``a:b``; ``None`` for any other index."""
    if not isinstance(key, slice) or key.step not in (None, 1):
        return None
    start = 0 if key.start is None else key.start
    if not isinstance(start, (int, np.integer)) or not isinstance(key.stop, (int, np.integer)):
        return None
    return (int(start), int(key.stop)) if 0 <= start <= key.stop else None


class _Roomy(np.ndarray):
    """An image whose slices past its edge are padded with NaN instead of cut short.

    Used only for a second look at a learner's loop that failed: with it, a loop that runs
    past the edge finishes, and the shape of its output says which dimensions it swapped.
    """

    def __getitem__(self, key: Any) -> Any:
        plain = self.view(np.ndarray)
        keys = key if isinstance(key, tuple) else (key,)
        spans = [_span(k) for k in keys] if len(keys) <= plain.ndim else [None]
        part = plain[key]
        if all(spans) and any(span[1] > dim for span, dim in zip(spans, plain.shape, strict=False)):
            size = [stop - start for start, stop in spans] + list(plain.shape[len(keys) :])
            roomy = np.full(size, np.nan)
            roomy[tuple(slice(0, n) for n in part.shape)] = part
            part = roomy
        return part.view(_Roomy) if isinstance(part, np.ndarray) else part


def _shape_past_the_edge(fn: Any, *args: Any) -> tuple[int, ...] | None:
    """The shape ``fn`` returns when its 2-D arguments let it read past their edges."""
    roomy = [np.array(a, dtype=float).view(_Roomy) if np.ndim(a) == 2 else a for a in args]
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = as_numbers(fn(*roomy))
    except Exception:  # it fails for another reason: nothing to learn here
        return None
    return None if values is None else values.shape


def _conv_shape_mistake(shape: tuple, image: np.ndarray, kernel: np.ndarray) -> str:
    """What a wrong output shape of conv2d_valid says about the learner's loop, or ''."""
    (h, w), (kh, kw) = image.shape, kernel.shape
    want = (h - kh + 1, w - kw + 1)
    if kh != kw and shape == (h - kw + 1, w - kh + 1):
        return (
            f"kh and kw are swapped in the output's shape: (h - kw + 1, w - kh + 1) = {shape} "
            f"instead of (h - kh + 1, w - kw + 1) = {want}. Rows go with kh, columns with kw."
        )
    if shape != want and shape in {want[::-1], (w - kh + 1, h - kw + 1)}:
        return (
            f"the output's rows and columns are swapped: shape {shape} instead of "
            f"(h - kh + 1, w - kw + 1) = {want}, with h, w = image.shape (rows first)."
        )
    return ""


def _explain_conv(
    err: Exception, call: str, fn: Any, image: np.ndarray, kernel: np.ndarray
) -> str | None:
    """The learner's conv2d_valid raised: a loop running past the image's edge (its output's
    shape swapped), or a window of the wrong shape (a square-only version), or ``None``."""
    text = error_text(err)
    if not isinstance(err, ValueError) or not ("broadcast" in text or "zero-size" in text):
        return None
    shape = _shape_past_the_edge(fn, image.copy(), kernel.copy())
    mistake = "" if shape is None else _conv_shape_mistake(shape, image, kernel)
    if mistake:
        return (
            f"{call} raised {text}: the loop runs past the image's edge, where the window is "
            f"cut short, because {mistake}"
        )
    kh, kw = kernel.shape
    if "broadcast" in text and kh != kw:
        return (
            f"{call} raised ValueError: the window and the kernel have different shapes "
            f"({err}). The kernel is {kh}x{kw}, not square: take kh, kw = kernel.shape and "
            "use the window image[i:i+kh, j:j+kw]."
        )
    return None


@exercise("06")
def check_conv2d_valid(conv2d_valid: Any) -> Feedback:
    """Ex. 6.3: ``conv2d_valid(image, kernel)`` for any (kh, kw) kernel, stride 1, no padding."""
    name = "my_conv2d_valid"
    rng = np.random.default_rng(6)
    cases = [
        (rng.integers(-3, 4, (5, 5)).astype(float), rng.integers(-2, 3, (3, 3)).astype(float)),
        (rng.normal(size=(6, 9)), rng.normal(size=(3, 3))),
        (rng.normal(size=(5, 7)), rng.normal(size=(2, 3))),
        (rng.normal(size=(6, 6)), rng.normal(size=(1, 4))),
    ]
    for image, kernel in cases:
        call = f"`{name}(image of shape {image.shape}, kernel of shape {kernel.shape})`"
        got, problem = call_learner(
            conv2d_valid,
            name,
            image.copy(),
            kernel.copy(),
            call=call,
            explain=lambda err, call=call, image=image, kernel=kernel: _explain_conv(
                err, call, conv2d_valid, image, kernel
            ),
        )
        if problem is not None:
            return problem
        want = reference.cross_correlate(image, kernel)
        values = as_numbers(got)
        got_shape = None if values is None else values.shape
        kh, kw = kernel.shape
        square = {(image.shape[0] - k + 1, image.shape[1] - k + 1) for k in (kh, kw)}
        if kh != kw and got_shape in square:
            return Feedback(
                False,
                f"{call} returned shape {got_shape}: it uses one kernel size "
                "for both axes. Take kh, kw = kernel.shape, slide over "
                "h - kh + 1 rows and w - kw + 1 columns, and multiply "
                "image[i:i+kh, j:j+kw] by the kernel.",
            )
        mistake = got_shape and _conv_shape_mistake(got_shape, image, kernel)
        if mistake:
            return Feedback(False, f"{call} returned shape {got_shape}: {mistake}")
        if got_shape == image.shape:
            return Feedback(
                False,
                f"{call} returned the input's shape {got_shape}: 'valid' "
                "keeps only the positions where the whole kernel fits, "
                f"(h - k + 1, w - k + 1) = {want.shape}.",
            )
        feedback = _compare(
            call,
            got,
            want,
            {
                (
                    "the kernel is flipped (that is convolution as mathematicians define it); "
                    "Conv2D does not flip it: multiply image[i:i+k, j:j+k] by the kernel as it is."
                ): reference.cross_correlate(image, kernel[::-1, ::-1]),
                (
                    "the kernel is transposed; use kernel[a, b] with image[i + a, j + b]."
                ): reference.cross_correlate(image, kernel.T)
                if kernel.shape[0] == kernel.shape[1]
                else np.zeros(0),
            },
        )
        if feedback is not None:
            return feedback
    return Feedback(
        True,
        f"`{name}` matches Conv2D's arithmetic on {len(cases)} images, with "
        "3x3, 2x3 and 1x4 kernels.",
    )


def _pool_shape_mistake(shape: tuple, fmap: np.ndarray, size: int) -> str:
    """What a wrong output shape of max_pool says about the learner's loop, or ''."""
    h, w = fmap.shape
    want = (h // size, w // size)
    if shape != want and shape == want[::-1]:
        return (
            f"the output's rows and columns are swapped: shape {shape} instead of "
            f"(h // size, w // size) = {want}, with h, w = fmap.shape (rows first)."
        )
    return ""


def _explain_pool(err: Exception, call: str, fn: Any, fmap: np.ndarray, size: int) -> str | None:
    """The learner's max_pool raised: a loop running past the map's edge, or ``None``."""
    if not isinstance(err, ValueError):
        return None
    shape = _shape_past_the_edge(fn, fmap.copy(), size)
    mistake = "" if shape is None else _pool_shape_mistake(shape, fmap, size)
    if mistake:
        return (
            f"{call} raised {error_text(err)}: the loop runs past the feature map's edge, "
            f"where a window is empty, because {mistake}"
        )
    return None


@exercise("06")
def check_max_pool(max_pool: Any) -> Feedback:
    """Ex. 6.4: ``max_pool(fmap, size)``: size x size windows, stride size, like MaxPooling2D."""
    name = "max_pool"
    rng = np.random.default_rng(7)
    cases = [
        (np.arange(16, dtype=float).reshape(4, 4)[::-1], 2),
        (rng.normal(size=(6, 8)), 2),
        (rng.normal(size=(5, 7)), 2),
        (rng.normal(size=(9, 8)), 3),
    ]
    for fmap, size in cases:
        call = f"`{name}(feature map of shape {fmap.shape}, {size})`"
        got, problem = call_learner(
            max_pool,
            name,
            fmap.copy(),
            size,
            call=call,
            context="An incomplete last row or column of windows is dropped, as in Keras.",
            explain=lambda err, call=call, fmap=fmap, size=size: _explain_pool(
                err, call, max_pool, fmap, size
            ),
        )
        if problem is not None:
            return problem
        want = reference.max_pool(fmap, size)
        h, w = want.shape
        average = fmap[: h * size, : w * size].reshape(h, size, w, size).mean(axis=(1, 3))
        stride_one = np.lib.stride_tricks.sliding_window_view(fmap, (size, size)).max(axis=(2, 3))
        values = as_numbers(got)
        got_shape = None if values is None else values.shape
        if got_shape == stride_one.shape and np.allclose(values, stride_one):
            return Feedback(
                False,
                f"{call} slides the window one pixel at a time (shape "
                f"{stride_one.shape}); MaxPooling2D's stride equals its "
                f"window, {size}, giving shape {want.shape}.",
            )
        if got_shape == (-(-fmap.shape[0] // size), -(-fmap.shape[1] // size)) != want.shape:
            return Feedback(
                False,
                f"{call} has shape {got_shape}: it keeps the incomplete "
                f"windows at the edge; Keras drops them, shape {want.shape}.",
            )
        mistake = got_shape and _pool_shape_mistake(got_shape, fmap, size)
        if mistake:
            return Feedback(False, f"{call} returned shape {got_shape}: {mistake}")
        feedback = _compare(
            call,
            got,
            want,
            {
                "that is the average of each window; max pooling keeps its largest value.": average,
            },
        )
        if feedback is not None:
            return feedback
    return Feedback(
        True,
        f"`{name}` matches MaxPooling2D on {len(cases)} feature maps, odd "
        "sizes and 3x3 windows included.",
    )
