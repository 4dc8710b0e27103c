"""The notebook tests must fail when a chapter really breaks (see bench/breakage.py).

Each case writes a mutated, truncated copy of a notebook to a temporary folder and runs
the same nbval command as `course.py test` on it; the run must fail. Only the quick mutations
run here; `python3 course.py breakage` runs them all.
"""

from __future__ import annotations

import pytest

from bench import breakage

QUICK = [m for m in breakage.MUTATIONS if m.quick]


@pytest.mark.slow
@pytest.mark.parametrize("mutation", QUICK, ids=lambda m: m.key)
def test_a_real_bug_turns_the_tests_red(mutation):
    mutated, control = breakage.outcomes(mutation)
    assert mutated, f"the tests still pass with: {mutation.what}"
    assert not control, f"{mutation.key}: the truncated copy fails even without the mutation"


@pytest.mark.parametrize("mutation", breakage.MUTATIONS, ids=lambda m: m.key)
def test_every_mutation_still_applies(mutation, tmp_path):
    """A mutation whose text no longer exists would be 'caught' for the wrong reason."""
    copy = breakage.mutate(mutation, tmp_path)
    assert copy.parent == tmp_path, "a copy must never be written into the project"
