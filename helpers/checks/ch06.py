"""Chapter 6 exercises: convolutional networks (output size, parameters, conv2d, pooling)."""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers import reference
from helpers.checks.engine import Feedback, call_learner, check_value, exercise

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
    name: str, call: str, got: Any, want: np.ndarray, hints: dict[str, np.ndarray]
) -> Feedback | None:
    dtype = np.asarray(got).dtype
    got = np.asarray(got, dtype=float)
    if got.shape != want.shape:
        return Feedback(False, f"{call} returned shape {got.shape}; expected {want.shape}.")
    if np.allclose(got, want, atol=1e-6):
        return None
    for message, wrong in hints.items():
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


def _explain_conv(err: Exception, call: str, kernel_shape: tuple[int, ...]) -> str:
    """The learner's conv2d_valid raised: a broadcast error on a non-square kernel means a
    window of the wrong shape, in practice a square-only implementation."""
    kh, kw = kernel_shape
    if isinstance(err, ValueError) and "broadcast" in str(err) and kh != kw:
        return (
            f"{call} raised ValueError: the window and the kernel have different shapes "
            f"({err}). The kernel is {kh}x{kw}, not square: take kh, kw = kernel.shape and "
            "use the window image[i:i+kh, j:j+kw]."
        )
    return f"{call} raised {type(err).__name__}: {err}"


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
            explain=lambda err, call=call, kernel=kernel: _explain_conv(err, call, kernel.shape),
        )
        if problem is not None:
            return problem
        want = reference.cross_correlate(image, kernel)
        got_shape = np.shape(got)
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
        if got_shape == image.shape:
            return Feedback(
                False,
                f"{call} returned the input's shape {got_shape}: 'valid' "
                "keeps only the positions where the whole kernel fits, "
                f"(h - k + 1, w - k + 1) = {want.shape}.",
            )
        feedback = _compare(
            name,
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
            explain=lambda err, call=call: (
                f"{call} raised {type(err).__name__}: {err}. An "
                "incomplete last row or column of windows is dropped, "
                "as in Keras."
            ),
        )
        if problem is not None:
            return problem
        want = reference.max_pool(fmap, size)
        h, w = want.shape
        average = fmap[: h * size, : w * size].reshape(h, size, w, size).mean(axis=(1, 3))
        stride_one = np.lib.stride_tricks.sliding_window_view(fmap, (size, size)).max(axis=(2, 3))
        if np.shape(got) == stride_one.shape and np.allclose(got, stride_one):
            return Feedback(
                False,
                f"{call} slides the window one pixel at a time (shape "
                f"{stride_one.shape}); MaxPooling2D's stride equals its "
                f"window, {size}, giving shape {want.shape}.",
            )
        if np.shape(got) == (-(-fmap.shape[0] // size), -(-fmap.shape[1] // size)) != want.shape:
            return Feedback(
                False,
                f"{call} has shape {np.shape(got)}: it keeps the incomplete "
                f"windows at the edge; Keras drops them, shape {want.shape}.",
            )
        feedback = _compare(
            name,
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
