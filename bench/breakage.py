"""Prove that the notebook tests go red when a chapter really breaks.

    python3 course.py breakage              # every mutation (a few minutes)
    python3 course.py breakage --only 03    # the mutations of some chapters
    python3 course.py breakage --list

The notebooks compare only what is invariant across machines and assert every
claim about training with a floor (``tests/README.md``). A test that cannot
fail is worth nothing, so this applies one realistic bug at a time to a copy
of a notebook (a wrong gradient formula, a learning rate that stops learning,
a wrong loss, dropout removed, a solution that is wrong), runs the same nbval
command as ``course.py test`` on the copy, and expects it to FAIL. It reports
each mutation as "caught" or "MISSED" and exits 1 if any was missed.

To stay quick, each copy is cut after the cell that must catch the bug. The
copies are written to a temporary folder, never into the project (a second
test worker may be listing ``notebooks/`` at that moment), and removed with
it. ``tests/test_breakage.py`` runs the quickest of these in every test run;
this command runs them all.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from bench.common import ROOT, chapter_notebooks, kernel_env, pytest_command


@dataclass(frozen=True)
class Mutation:
    key: str
    notebook: str  # two-digit prefix
    what: str
    old: str  # text in exactly one code cell
    new: str
    stop_after: str | None = None  # cut the copy after the code cell containing this text
    quick: bool = False  # cheap enough for every test run


MUTATIONS = [
    Mutation(
        "02-gradient",
        "02",
        "chapter 2: a wrong sigmoid derivative in backpropagation",
        "delta1 = dL_dh * h * (1 - h)",
        "delta1 = dL_dh * (1 - h)",
        stop_after='helpers.record("max_gradient_error"',
        quick=True,
    ),
    Mutation(
        "03-learning-rate",
        "03",
        "chapter 3: a learning rate that stops the better model from learning",
        "keras.optimizers.Adam(learning_rate=1e-3)",
        "keras.optimizers.Adam(learning_rate=1e-7)",
        stop_after="BETTER_FLOOR, GAIN_FLOOR",
    ),
    Mutation(
        "04-loss",
        "04",
        "chapter 4: mean squared error with plain SGD instead of binary cross-entropy with RMSprop",
        'optimizer="rmsprop", loss="binary_crossentropy"',
        'optimizer="sgd", loss="mse"',
        stop_after="FINAL_FLOOR, FIX_MARGIN",
    ),
    Mutation(
        "05-dropout",
        "05",
        "chapter 5: dropout removed from the dropout model",
        '"256 units + Dropout(0.5)": dict(dropout_rate=0.5)',
        '"256 units + Dropout(0.5)": dict(dropout_rate=0.0)',
        stop_after="def smoothed(",
    ),
    Mutation(  # chapter 2's first solution: the cheapest chapter whose cut ends at a solution
        "02-solution",
        "02",
        "a solution cell whose answer is wrong (the chain rule without dz/dw)",
        "answer_grad = 2 * (y_ex - 1.0) * y_ex * (1 - y_ex) * 1.5",
        "answer_grad = 2 * (y_ex - 1.0) * y_ex * (1 - y_ex)",
        stop_after="answer_grad = 2 * (y_ex - 1.0) * y_ex * (1 - y_ex) * 1.5",
        quick=True,
    ),
]


def mutate(mutation: Mutation, folder: Path, apply: bool = True) -> Path:
    """Write the mutated, truncated copy into ``folder``; return its path.

    With ``apply=False`` the copy is truncated but not mutated: the control run, which
    must pass, so that a "caught" really comes from the mutation.
    """
    [path] = chapter_notebooks([mutation.notebook])
    nb = nbformat.read(path, as_version=4)
    hits = [c for c in nb.cells if c.cell_type == "code" and mutation.old in c.source]
    if len(hits) != 1:
        raise LookupError(
            f"{mutation.key}: {mutation.old!r} is in {len(hits)} code cells of "
            f"{path.name}, expected 1: update bench/breakage.py"
        )
    if mutation.stop_after:  # found before mutating: the cut may be the mutated cell
        ends = [
            i
            for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and mutation.stop_after in c.source
        ]
        if len(ends) != 1:
            raise LookupError(
                f"{mutation.key}: cut point {mutation.stop_after!r} is in "
                f"{len(ends)} code cells of {path.name}"
            )
        nb.cells = nb.cells[: ends[0] + 1]
    if apply:
        hits[0].source = hits[0].source.replace(mutation.old, mutation.new)
    copy = folder / f"_breakage_{mutation.key}{'' if apply else '_control'}.ipynb"
    nbformat.write(nb, copy)
    return copy


def outcomes(mutation: Mutation, python: str = sys.executable) -> tuple[bool, bool]:
    """Whether the nbval tests fail on the mutated copy, and on the control copy.

    The two runs go side by side (each is mostly a kernel starting and importing
    TensorFlow), in a temporary folder that is removed whatever happens. The
    environment is the one ``course.py test`` gives a kernel, with no progress log.
    """
    with tempfile.TemporaryDirectory(prefix="course-breakage-") as tmp:
        copies = [mutate(mutation, Path(tmp)), mutate(mutation, Path(tmp), apply=False)]
        env = kernel_env(COURSE_PROGRESS_FILE="off")
        procs: list[subprocess.Popen] = []
        try:
            for copy in copies:
                procs.append(
                    subprocess.Popen(
                        [*pytest_command([copy], python), "-p", "no:cacheprovider"],
                        cwd=ROOT,
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
            mutated, control = (proc.wait() != 0 for proc in procs)
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    return mutated, control


def caught(mutation: Mutation) -> bool:
    """True when the tests fail with the mutation and pass without it."""
    mutated, control = outcomes(mutation)
    return mutated and not control


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 course.py breakage",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--only", nargs="+", metavar="NN", help="chapters, e.g. 02 03")
    parser.add_argument("--quick", action="store_true", help="only the quick mutations")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    args = parser.parse_args(argv)
    chosen = [
        m
        for m in MUTATIONS
        if (not args.only or m.notebook in args.only) and (m.quick or not args.quick)
    ]
    if args.list:
        for m in chosen:
            print(f"{m.key:<18} {m.what}")
        return 0
    missed = []
    for m in chosen:
        print(f"{m.key}: {m.what} ...", flush=True)
        verdict = caught(m)
        print(
            f"  {'caught (the tests fail)' if verdict else 'MISSED (the tests still pass)'}",
            flush=True,
        )
        if not verdict:
            missed.append(m.key)
    print(f"\n{len(chosen) - len(missed)} of {len(chosen)} mutations caught.")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
