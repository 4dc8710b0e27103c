"""How sure is a test accuracy? Two tools for honest comparisons of classifiers.

- :func:`wilson_interval`: a confidence interval for one accuracy (the Wilson score
  interval, which behaves well near 0 and 1, unlike "accuracy ± 1.96 standard errors").
- :func:`mcnemar_exact`: McNemar's exact test for two classifiers scored on the *same*
  test examples. Only the examples where exactly one of them is right carry information;
  if both were equally good, each of those would go either way with probability 1/2.
  :func:`mcnemar_p_value` gives its p-value from the two counts alone.
- :func:`compare`: both at once, for two vectors of predictions, with a one-line summary.
- :func:`over_seeds`: two *methods* compared over several training runs (seeds), paired
  seed by seed: the mean difference, its spread, a t-interval and the count of wins.
  McNemar's test compares two trained models; this asks how a comparison moves when
  the training itself is repeated.

The first three need only the binomial distribution and the normal quantile, which the
standard library gives exactly (``math.comb``, ``statistics.NormalDist``), so importing this
module costs a kernel no memory for SciPy's statistics package (:func:`over_seeds` loads
SciPy's t distribution when it is called). The tests check every number
against statsmodels, an independent implementation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

__all__ = [
    "Comparison",
    "McNemarResult",
    "SeedComparison",
    "compare",
    "mcnemar_exact",
    "mcnemar_p_value",
    "over_seeds",
    "wilson_interval",
]


def _check_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(
            f"{name} must be a whole number of test examples, 0 or more; got {value!r}. "
            "Pass counts (e.g. the number of correct predictions), not accuracies."
        )
    return int(value)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval for a proportion ``successes / n``.

    >>> low, high = wilson_interval(8_800, 10_000)  # 88% on 10,000 test images
    >>> round(low, 4), round(high, 4)
    (0.8735, 0.8862)
    """
    successes, n = _check_count("successes", successes), _check_count("n", n)
    if n == 0 or successes > n:
        raise ValueError(
            f"wilson_interval needs 0 <= successes <= n and n > 0; got successes={successes}, "
            f"n={n}. n is the number of test examples, successes how many were right."
        )
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie between 0 and 1 (e.g. 0.95); got {confidence!r}.")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)  # 1.96 for 95%
    share = successes / n
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class McNemarResult:
    """The discordant counts of two classifiers and the exact two-sided p-value."""

    only_a: int  # examples only the first classifier got right
    only_b: int  # examples only the second classifier got right
    p_value: float


def _as_correct(name: str, correct: object) -> np.ndarray:
    array = np.asarray(correct)
    if array.ndim != 1 or array.dtype != bool:
        raise ValueError(
            f"{name} must be a 1-D array of True/False, one per test example (True where the "
            f"prediction is right); got dtype {array.dtype} and shape {array.shape}. "
            "Build it with `predictions == labels`."
        )
    return array


def mcnemar_exact(correct_a: object, correct_b: object) -> McNemarResult:
    """McNemar's exact test: are two classifiers, scored on the same examples, equally good?

    ``correct_a`` and ``correct_b`` say, per test example, whether each classifier was right.
    A small p-value (below 0.05, say) means a split of the disagreements as lopsided as this
    one would be rare if both classifiers were equally accurate.
    """
    a, b = _as_correct("correct_a", correct_a), _as_correct("correct_b", correct_b)
    if a.shape != b.shape:
        raise ValueError(
            f"correct_a and correct_b must score the same test examples; got {a.shape[0]} and "
            f"{b.shape[0]} entries. Predict both models on the same test set."
        )
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    return McNemarResult(only_a, only_b, mcnemar_p_value(only_a, only_b))


def mcnemar_p_value(only_a: int, only_b: int) -> float:
    """McNemar's exact two-sided p-value from the two counts of disagreements.

    ``only_a``: examples only classifier A got right; ``only_b``: only B. 1.0 when they
    never disagree.
    """
    if only_a + only_b == 0:
        return 1.0
    # Two-sided: twice the chance of a split at least this uneven, each of the n
    # disagreements a fair coin toss. Whole numbers until the one division, so it is exact.
    n, fewer = only_a + only_b, min(only_a, only_b)
    tail = sum(math.comb(n, k) for k in range(fewer + 1))
    return min(1.0, 2 * tail / 2**n)


@dataclass(frozen=True)
class Comparison:
    """Two classifiers on the same test examples: accuracies, intervals and McNemar."""

    names: tuple[str, str]
    accuracy: tuple[float, float]
    interval: tuple[tuple[float, float], tuple[float, float]]
    mcnemar: McNemarResult
    n: int

    @property
    def difference(self) -> float:
        """Accuracy of the first minus accuracy of the second."""
        return self.accuracy[0] - self.accuracy[1]

    def summary(self) -> str:
        """One line a notebook can print."""
        (name_a, name_b), (acc_a, acc_b) = self.names, self.accuracy
        (lo_a, hi_a), (lo_b, hi_b) = self.interval
        m = self.mcnemar
        return (
            f"{name_a} {acc_a:.4f} (95% interval {lo_a:.4f} to {hi_a:.4f}), {name_b} {acc_b:.4f} "
            f"({lo_b:.4f} to {hi_b:.4f}) on {self.n:,} examples; they disagree on "
            f"{m.only_a + m.only_b:,}: only {name_a} right on {m.only_a:,}, only {name_b} right on "
            f"{m.only_b:,}; McNemar's exact p = {m.p_value:.2g}"
        )


def compare(
    labels: object, pred_a: object, pred_b: object, names: tuple[str, str] = ("A", "B")
) -> Comparison:
    """Compare two vectors of predicted labels against the true ``labels``."""
    y, pa, pb = (np.asarray(v).ravel() for v in (labels, pred_a, pred_b))
    if not y.shape == pa.shape == pb.shape:
        raise ValueError(
            f"labels, pred_a and pred_b must have one entry per test example; got {y.shape[0]}, "
            f"{pa.shape[0]} and {pb.shape[0]}. For probabilities, take argmax (or > 0.5) first."
        )
    if y.size == 0:
        raise ValueError("compare needs at least one test example; got none.")
    correct_a, correct_b = pa == y, pb == y
    n = int(y.size)
    hits = (int(correct_a.sum()), int(correct_b.sum()))
    return Comparison(
        names=(str(names[0]), str(names[1])),
        accuracy=(hits[0] / n, hits[1] / n),
        interval=(wilson_interval(hits[0], n), wilson_interval(hits[1], n)),
        mcnemar=mcnemar_exact(correct_a, correct_b),
        n=n,
    )


@dataclass(frozen=True)
class SeedComparison:
    """Two methods, each trained once per seed with everything else equal: paired differences."""

    names: tuple[str, str]
    measure: str
    differences: tuple[float, ...]  # the first method's value minus the second's, seed by seed
    lower_is_better: bool

    @property
    def mean(self) -> float:
        return float(np.mean(self.differences))

    @property
    def spread(self) -> float:
        """The sample standard deviation of the per-seed differences."""
        return float(np.std(self.differences, ddof=1))

    @property
    def wins(self) -> int:
        """Seeds on which the first method did better (a tie counts for neither)."""
        d = np.asarray(self.differences)
        return int(np.sum(d < 0) if self.lower_is_better else np.sum(d > 0))

    def interval(self, confidence: float = 0.95) -> tuple[float, float]:
        """A t-interval for the mean difference over seeds like these (n - 1 degrees of freedom)."""
        from scipy.stats import t  # here: only a call loads SciPy's statistics

        n = len(self.differences)
        half = float(t.ppf(0.5 + confidence / 2, n - 1)) * self.spread / math.sqrt(n)
        return self.mean - half, self.mean + half

    def summary(self) -> str:
        """Lines a notebook can print."""
        (a, b), n = self.names, len(self.differences)
        lo, hi = self.interval()
        better = "lower" if self.lower_is_better else "higher"
        per_seed = ", ".join(f"{d:+.3f}" for d in self.differences)
        return (
            f"{a} minus {b}, {self.measure} ({better} is better), seed by seed: {per_seed}\n"
            f"mean {self.mean:+.3f}, spread (standard deviation) {self.spread:.3f}; 95% interval "
            f"for the mean: {lo:+.3f} to {hi:+.3f} (t, {n - 1} degrees of freedom)\n"
            f"{a} better with {self.wins} of {n} seeds"
        )


def over_seeds(
    values_a: object,
    values_b: object,
    names: tuple[str, str] = ("A", "B"),
    measure: str = "score",
    lower_is_better: bool = False,
) -> SeedComparison:
    """Compare two methods run once per seed: ``values_a[i]`` and ``values_b[i]`` share seed i.

    Pairing by seed matters: when both methods start from the same weights and see
    the same batches, the seed's luck is shared and cancels in the difference.
    """
    a, b = (np.asarray(v, dtype="float64").ravel() for v in (values_a, values_b))
    if a.shape != b.shape or a.size < 2:
        raise ValueError(
            f"over_seeds needs the same number of results for both methods, at least 2 (one per "
            f"seed, in the same seed order); got {a.size} and {b.size}."
        )
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("over_seeds got a NaN or an infinite value: a training run diverged?")
    return SeedComparison(
        names=(str(names[0]), str(names[1])),
        measure=str(measure),
        differences=tuple(float(d) for d in a - b),
        lower_is_better=bool(lower_is_better),
    )
