"""helpers.stats against statsmodels, an independent implementation of both tests."""

import numpy as np
import pytest
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint

from helpers import stats


@pytest.mark.parametrize(
    ("successes", "n", "confidence"),
    [
        (8_800, 10_000, 0.95),
        (0, 25, 0.95),
        (25, 25, 0.95),
        (1, 3, 0.9),
        (4_517, 5_000, 0.99),
        (81, 263, 0.95),
    ],
)
def test_wilson_matches_statsmodels(successes, n, confidence):
    low, high = stats.wilson_interval(successes, n, confidence)
    ref_low, ref_high = proportion_confint(successes, n, alpha=1 - confidence, method="wilson")
    assert low == pytest.approx(ref_low, abs=1e-12)
    assert high == pytest.approx(ref_high, abs=1e-12)
    assert 0 <= low <= successes / n <= high <= 1


def test_wilson_width_at_ten_thousand_is_about_point_six_points():
    low, high = stats.wilson_interval(8_800, 10_000)
    assert 0.0055 < (high - low) / 2 < 0.0070  # the "±0.6 points" the chapters quote


def _correct_vectors(both, only_a, only_b, neither):
    a = np.array([True] * both + [True] * only_a + [False] * only_b + [False] * neither)
    b = np.array([True] * both + [False] * only_a + [True] * only_b + [False] * neither)
    return a, b


@pytest.mark.parametrize(
    ("both", "only_a", "only_b", "neither"),
    [
        (8_500, 120, 80, 1_300),
        (50, 3, 12, 5),
        (10, 0, 7, 1),
        (10, 5, 5, 0),
        (900, 1, 0, 99),
        (8_000, 400, 310, 1_290),
    ],
)
def test_mcnemar_matches_statsmodels(both, only_a, only_b, neither):
    a, b = _correct_vectors(both, only_a, only_b, neither)
    result = stats.mcnemar_exact(a, b)
    table = [[both, only_a], [only_b, neither]]
    reference = mcnemar(table, exact=True).pvalue
    assert (result.only_a, result.only_b) == (only_a, only_b)
    assert result.p_value == pytest.approx(reference, rel=1e-9, abs=1e-15)
    assert stats.mcnemar_exact(b, a).p_value == pytest.approx(result.p_value)  # symmetric


def test_mcnemar_p_value_from_counts_matches_statsmodels():
    for only_a, only_b in ((20, 10), (3, 0), (0, 0), (7, 7), (400, 350)):
        reference = mcnemar([[5, only_a], [only_b, 5]], exact=True).pvalue
        assert stats.mcnemar_p_value(only_a, only_b) == pytest.approx(reference, rel=1e-12)


def test_mcnemar_no_disagreement_is_p_one():
    a = np.array([True, False, True])
    assert stats.mcnemar_exact(a, a) == stats.McNemarResult(0, 0, 1.0)


def test_compare_counts_and_summary():
    labels = np.array([0, 1, 2, 1, 0, 2, 1, 1])
    pred_a = np.array([0, 1, 2, 1, 0, 2, 0, 0])  # 6 right
    pred_b = np.array([0, 1, 1, 0, 0, 2, 1, 0])  # 5 right
    result = stats.compare(labels, pred_a, pred_b, names=("cnn", "mlp"))
    assert result.accuracy == (6 / 8, 5 / 8)
    assert result.difference == pytest.approx(1 / 8)
    assert (result.mcnemar.only_a, result.mcnemar.only_b) == (2, 1)
    assert result.interval[0] == stats.wilson_interval(6, 8)
    line = result.summary()
    assert "cnn 0.7500" in line and "only mlp right on 1" in line and "p = 1" in line


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: stats.wilson_interval(0.88, 10_000), "whole number"),
        (lambda: stats.wilson_interval(11, 10), "successes <= n"),
        (lambda: stats.wilson_interval(5, 0), "n > 0"),
        (lambda: stats.wilson_interval(5, 10, confidence=95), "between 0 and 1"),
        (lambda: stats.mcnemar_exact([1, 0], [True, False]), "True/False"),
        (lambda: stats.mcnemar_exact(np.ones(3, bool), np.ones(4, bool)), "same test examples"),
        (lambda: stats.compare([0, 1], [0, 1, 1], [0, 1]), "one entry per test example"),
        (lambda: stats.compare([], [], []), "at least one"),
    ],
)
def test_bad_input_says_what_to_do(call, words):
    with pytest.raises(ValueError, match=words):
        call()


def test_mcnemar_extreme_splits_and_no_scipy_import():
    import subprocess
    import sys

    lopsided = stats.mcnemar_exact(*_correct_vectors(0, 5_000, 100, 0))
    assert lopsided.p_value == 0.0  # below the smallest float, not an error
    even = stats.mcnemar_exact(*_correct_vectors(0, 4_000, 4_000, 0))
    assert even.p_value == pytest.approx(1.0)
    code = "import sys, helpers.stats; print('scipy.stats' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # a kernel pays no memory for SciPy's statistics


def test_over_seeds_pairs_by_seed_and_matches_scipy():
    from scipy import stats as scipy_stats

    adam, momentum = [0.31, 0.29, 0.35, 0.30], [0.36, 0.36, 0.38, 0.33]
    result = stats.over_seeds(
        adam, momentum, names=("Adam", "momentum"), measure="val loss", lower_is_better=True
    )
    d = np.subtract(adam, momentum)
    assert result.mean == pytest.approx(d.mean()) and result.spread == pytest.approx(d.std(ddof=1))
    low, high = scipy_stats.ttest_rel(adam, momentum).confidence_interval(0.95)
    assert result.interval() == pytest.approx((low, high))
    assert result.wins == 4
    assert stats.over_seeds(adam, momentum).wins == 0  # higher is better by default
    text = result.summary()
    assert "Adam minus momentum" in text and "4 of 4 seeds" in text and "3 degrees" in text


@pytest.mark.parametrize(
    ("a", "b", "says"),
    [
        ([1.0], [2.0], "at least 2"),
        ([1.0, 2.0], [1.0, 2.0, 3.0], "same number"),
        ([1.0, np.nan], [1.0, 2.0], "diverged"),
    ],
)
def test_over_seeds_refuses_what_it_cannot_compare(a, b, says):
    with pytest.raises(ValueError, match=says):
        stats.over_seeds(a, b)
