"""helpers.checks, chapter 6: each check accepts the right answer and names common mistakes."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import checks, reference


def test_output_size():
    assert checks.check_output_size(16).ok
    assert not checks.check_output_size(None).attempted
    for wrong, words in [(15, "+ 1"), (14, "padding out"), (32, "stride out"), (17, "round")]:
        feedback = checks.check_output_size(wrong)
        assert not feedback.ok and words in feedback.message, (wrong, feedback)
    assert "not right yet" in checks.check_output_size(3).message


def test_conv_params():
    assert checks.check_conv_params(3 * 3 * 32 * 64 + 64).ok
    for wrong, words in [
        (18432, "only the weights"),
        (640, "all 32 input channels"),
        (36864, "one bias per filter"),
        (6208, "3 * 3 = 9"),
    ]:
        feedback = checks.check_conv_params(wrong)
        assert not feedback.ok and words in feedback.message, (wrong, feedback)


def _conv_loops(image, kernel):
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i : i + kh, j : j + kw] * kernel)
    return out


def test_conv2d_valid_accepts_a_correct_version_and_matches_keras():
    assert checks.check_conv2d_valid(_conv_loops).ok
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(0)
    image, kernel = rng.normal(size=(7, 8)).astype("float32"), rng.normal(size=(2, 3))
    conv = keras.layers.Conv2D(1, (2, 3), use_bias=False)
    conv.build((None, 7, 8, 1))
    conv.set_weights([kernel.reshape(2, 3, 1, 1)])
    from_keras = np.asarray(conv(image.reshape(1, 7, 8, 1)))[0, :, :, 0]
    np.testing.assert_allclose(reference.cross_correlate(image, kernel), from_keras, atol=1e-5)


def test_conv2d_valid_names_the_mistake():
    def flipped(image, kernel):
        return _conv_loops(image, kernel[::-1, ::-1])

    def same_size(image, kernel):
        return np.zeros_like(image)

    def square_only(image, kernel):
        k = kernel.shape[0]
        return _conv_loops(image, kernel[:k, :k])

    def off_by_one(image, kernel):
        return _conv_loops(image, kernel) + 0.5

    assert not checks.check_conv2d_valid(None).attempted
    assert "flipped" in checks.check_conv2d_valid(flipped).message
    assert "(h - k + 1, w - k + 1)" in checks.check_conv2d_valid(same_size).message
    assert "returned shape" in checks.check_conv2d_valid(square_only).message
    assert "output[0, 0]" in checks.check_conv2d_valid(off_by_one).message
    assert "raised ZeroDivisionError" in checks.check_conv2d_valid(lambda i, k: 1 / 0).message


def _pool_loops(fmap, size):
    out = np.zeros((fmap.shape[0] // size, fmap.shape[1] // size))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = fmap[i * size : (i + 1) * size, j * size : (j + 1) * size].max()
    return out


def test_max_pool_accepts_a_correct_version_and_matches_keras():
    assert checks.check_max_pool(_pool_loops).ok
    keras = pytest.importorskip("keras")
    fmap = np.random.default_rng(1).normal(size=(9, 8)).astype("float32")
    for size in (2, 3):
        pooled = np.asarray(keras.layers.MaxPooling2D(size)(fmap[None, :, :, None]))[0, :, :, 0]
        np.testing.assert_array_equal(reference.max_pool(fmap, size), pooled)


def test_max_pool_names_the_mistake():
    def average(fmap, size):
        h, w = fmap.shape[0] // size, fmap.shape[1] // size
        return fmap[: h * size, : w * size].reshape(h, size, w, size).mean(axis=(1, 3))

    def stride_one(fmap, size):
        return np.lib.stride_tricks.sliding_window_view(fmap, (size, size)).max(axis=(2, 3))

    def keeps_edges(fmap, size):
        h, w = -(-fmap.shape[0] // size), -(-fmap.shape[1] // size)
        return np.array(
            [
                [fmap[i * size : (i + 1) * size, j * size : (j + 1) * size].max() for j in range(w)]
                for i in range(h)
            ]
        )

    def fixed_two(fmap, size):
        return _pool_loops(fmap, 2)

    assert not checks.check_max_pool(None).attempted
    assert "average" in checks.check_max_pool(average).message
    assert "one pixel at a time" in checks.check_max_pool(stride_one).message
    assert "Keras drops them" in checks.check_max_pool(keeps_edges).message
    assert "returned shape" in checks.check_max_pool(fixed_two).message


def test_conv2d_valid_explains_a_square_only_version():
    def square_only(image, kernel):  # the natural first version: one k for both axes
        k = kernel.shape[0]
        out = np.zeros((image.shape[0] - k + 1, image.shape[1] - k + 1))
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                out[i, j] = np.sum(image[i : i + k, j : j + k] * kernel)
        return out

    feedback = checks.check_conv2d_valid(square_only)
    assert not feedback.ok and "kernel of shape (2, 3)" in feedback.message, feedback
    assert "not square" in feedback.message and "kh, kw = kernel.shape" in feedback.message
    assert "broadcast" in feedback.message  # the raw error is still shown, explained

    def square_part(image, kernel):  # no error: only the kernel's square corner is used
        k = min(kernel.shape)
        return _conv_loops(image, kernel[:k, :k])

    feedback = checks.check_conv2d_valid(square_part)
    assert not feedback.ok and "one kernel size for both axes" in feedback.message, feedback


def test_conv2d_valid_and_max_pool_explain_an_integer_output():
    def integer_output(image, kernel):
        return _conv_loops(image, kernel).astype(int)

    feedback = checks.check_conv2d_valid(integer_output)
    assert not feedback.ok and "dtype int64" in feedback.message, feedback
    assert "floats" in feedback.message

    def integer_pool(fmap, size):
        return _pool_loops(fmap, size).astype(int)

    feedback = checks.check_max_pool(integer_pool)
    assert not feedback.ok and "dtype int64" in feedback.message, feedback


def test_conv2d_valid_with_kh_and_kw_swapped_in_the_output_shape_is_told_so():
    def swapped(image, kernel):  # the window is right; the output's shape is not
        kh, kw = kernel.shape
        out = np.zeros((image.shape[0] - kw + 1, image.shape[1] - kh + 1))
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                out[i, j] = np.sum(image[i : i + kh, j : j + kw] * kernel)
        return out

    feedback = checks.check_conv2d_valid(swapped)
    assert not feedback.ok and "kh and kw are swapped in the output's shape" in feedback.message
    assert "not square" not in feedback.message, feedback
    transposed = checks.check_conv2d_valid(lambda image, kernel: _conv_loops(image, kernel).T)
    assert not transposed.ok and "transposed" in transposed.message, transposed


def test_max_pool_with_rows_and_columns_swapped_is_told_so():
    def swapped(fmap, size):
        out = np.zeros((fmap.shape[1] // size, fmap.shape[0] // size))
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                out[i, j] = fmap[i * size : (i + 1) * size, j * size : (j + 1) * size].max()
        return out

    feedback = checks.check_max_pool(swapped)
    assert not feedback.ok and "rows and columns are swapped" in feedback.message, feedback
