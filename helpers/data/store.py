"""Where the course's data files are, how they are checked, and how they arrive.

One registry (:data:`FILES`, :data:`URLS`, :data:`UPSTREAM_SHA256`, :data:`SHIPPED`) and
one lookup (:func:`locate`), in this order:

1. the folder named by ``COURSE_DATA_DIR``;
2. the course's own ``data/`` folder (next to ``notebooks/``);
3. a classroom mirror, when ``COURSE_DATA_MIRROR`` is set;
4. the data's origin (Keras' download server; GitHub for the Korean corpora).

The one file the project carries itself (chapter 9's movie reviews, CC0, in
``shipped-data/``: :data:`SHIPPED`) has no origin to download from: after 1-2 it is read
from that committed copy, checked against its pinned hash, and ``fetch`` copies it from
there into a data folder. A data folder without it still serves every other chapter.

Where the data is, 1-2, has one answer for the whole project, given here and nowhere else:
:func:`data_folders` (the local folders, in lookup order) and :func:`default_data_dir` (the
first of them: where downloads go, and the default of ``fetch --to``, ``verify``,
``serve --dir`` and the classroom's ``--data``). Only :func:`chosen_data_dir` reads
``COURSE_DATA_DIR`` and only :data:`REPO_DATA_DIR` names the ``data/`` folder; the loaders,
the command line, the classroom, the benchmark and the tests ask these functions. (The
launcher, ``course.py``, which runs before the helpers are installed, makes a relative
``COURSE_DATA_DIR`` absolute once, by the same rule, for every process it starts.)

Local folders use the Keras cache layout and are checked against their own
``SHA256SUMS`` file when they have one (course copies need not be byte-identical
to the published files). Downloads from 3 and 4 go through pooch: they are
written atomically, checked against the mirror's ``SHA256SUMS`` or the hash the
origin is pinned to before they replace anything, and saved in the first folder
of 1-2, so the next load is offline.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
COURSE_ROOT = Path(__file__).resolve().parents[2]  # the course folder: notebooks/, data/, ...
REPO_DATA_DIR = COURSE_ROOT / "data"  # the course's own data/ folder; defined here only
SHIPPED_DIR = COURSE_ROOT / "shipped-data"  # the data the project commits (see SHIPPED)
SUMS_NAME = "SHA256SUMS"
FIX = "python -m helpers.datasets"  # the command line named in the error messages

# Relative paths in the Keras cache layout, per dataset.
FILES: dict[str, tuple[str, ...]] = {
    "mnist": ("mnist.npz",),
    "fashion_mnist": (
        "fashion-mnist/train-labels-idx1-ubyte.gz",
        "fashion-mnist/train-images-idx3-ubyte.gz",
        "fashion-mnist/t10k-labels-idx1-ubyte.gz",
        "fashion-mnist/t10k-images-idx3-ubyte.gz",
    ),
    "imdb": ("imdb.npz",),
    "imdb_word_index": ("imdb_word_index.json",),
    "chatbot": ("ChatbotData.csv",),  # chapter 8: plain files from public GitHub repositories
    "klue_ner": ("klue-ner-v1.1_dev.tsv",),
    "nsmc": ("nsmc-movies-v1.tsv.gz",),  # chapter 9: built for the course (CC0), committed
}
# The files the project carries itself, in SHIPPED_DIR: they have no single upstream file
# (the course built them), so there is no URL to fetch them from; fetch copies them instead.
SHIPPED = frozenset({"nsmc-movies-v1.tsv.gz"})
GITHUB_RAW = "https://raw.githubusercontent.com/"


def carried_datasets() -> dict[str, tuple[str, ...]]:
    """The datasets the project carries itself (name for ``fetch`` -> their files)."""
    return {name: tuple(rels) for name, rels in FILES.items() if set(rels) <= SHIPPED}


# Where each file is published (the files in SHIPPED are not).
URLS = {
    rel: KERAS_ORIGIN + Path(rel).name
    for files in FILES.values()
    for rel in files
    if rel not in SHIPPED
} | {
    "ChatbotData.csv": GITHUB_RAW + "songys/Chatbot_data/master/ChatbotData.csv",
    "klue-ner-v1.1_dev.tsv": GITHUB_RAW + "KLUE-benchmark/KLUE/main/klue_benchmark/"
    "klue-ner-v1.1/klue-ner-v1.1_dev.tsv",
}
# SHA-256 of the published files, where the publisher (Keras) or the course pins one.
UPSTREAM_SHA256 = {
    "mnist.npz": "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
    "imdb.npz": "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f",
    "ChatbotData.csv": "287eb129695b577321c80ad397bb3c2279164d4ca577874d129fd3db5b30afe2",
    "klue-ner-v1.1_dev.tsv": "0f4d5e818f7b82d299c3a87856fc40a706f5943207580ddb252397e387050a54",
    "nsmc-movies-v1.tsv.gz": "922757d36da9218b74b254a1b0d5d645a3ea5f39e9bc407cf1838ddaeb510456",
}


class DatasetError(RuntimeError):
    """A dataset could not be loaded, fetched or verified.

    The message is one paragraph that says what was tried and how to fix it.
    In Jupyter it is shown without a traceback: the traceback would only show
    the inside of this package, which is not where the learner can fix anything.
    """

    def _render_traceback_(self) -> list[str]:  # IPython's hook for custom display
        return [f"DatasetError: {self}"]


def damaged(path: Path, problem: str) -> DatasetError:
    """The one error for a file that is there but unusable: the problem, then the repair."""
    return DatasetError(
        f"{problem}. Delete it and download a fresh copy with `{FIX} fetch --to "
        f"{path.parent}` (or copy it again from where you got it); `{FIX} verify FOLDER` "
        "checks a folder that has a SHA256SUMS file."
    )


def unreadable(path: Path, label: str, err: BaseException) -> DatasetError:
    return damaged(
        path,
        f"{path.name} in {label} ({path}) could not be read: it looks "
        f"truncated or corrupt ({type(err).__name__}: {err})",
    )


# --- Checksums --------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_sums(folder: Path) -> dict[str, str] | None:
    """Parse ``folder/SHA256SUMS`` (the ``sha256sum`` format) or return None."""
    sums_file = Path(folder) / SUMS_NAME
    if not sums_file.is_file():
        return None
    sums: dict[str, str] = {}
    for number, line in enumerate(sums_file.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([0-9a-fA-F]{64}) [ *](.+)", line)
        if not match:
            raise DatasetError(
                f"Line {number} of {sums_file} is not a checksum line (expected '<64 hex "
                f"digits>  <file name>', as sha256sum writes). Regenerate the list with `{FIX} "
                "fetch --to FOLDER`, or delete it to skip verification."
            )
        sums[match.group(2).strip().removeprefix("./")] = match.group(1).lower()
    return sums


def write_sums(folder: Path) -> Path:
    """Write ``folder/SHA256SUMS`` for every known dataset file present in it (atomically)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        f"{sha256_of(folder / rel)}  {rel}"
        for files in FILES.values()
        for rel in files
        if (folder / rel).is_file()
    ]
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{SUMS_NAME}.", suffix=".part")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    os.replace(tmp, folder / SUMS_NAME)
    return folder / SUMS_NAME


def verify(folder: Path | str) -> list[tuple[str, str]]:
    """``[(relative_path, "OK" | "MISSING" | "MISMATCH"), ...]`` for ``folder/SHA256SUMS``."""
    folder = Path(folder)
    sums = read_sums(folder)
    if sums is None:
        raise DatasetError(
            f"There is no {SUMS_NAME} file in {folder}, so there is nothing to verify against. "
            f"`{FIX} fetch --to FOLDER` downloads the data and writes one; for files you "
            "copied yourself, copy the SHA256SUMS that came with them too."
        )
    return [
        (
            rel,
            "MISSING"
            if not (folder / rel).is_file()
            else "OK"
            if sha256_of(folder / rel) == expected
            else "MISMATCH",
        )
        for rel, expected in sums.items()
    ]


def _check_against_sums(folder: Path, rels: Iterable[str], label: str) -> None:
    sums = read_sums(folder) or {}
    for rel in rels:
        if rel in sums and (actual := sha256_of(folder / rel)) != sums[rel]:
            raise DatasetError(
                f"{rel} in {label} ({folder / rel}) does not match its checksum in {SUMS_NAME} "
                f"(expected {sums[rel][:12]}..., found {actual[:12]}...): the file was damaged "
                "or changed after the list was written. Copy it again from its source, or "
                f"delete it and run `{FIX} fetch --to {folder}` to download a fresh copy; "
                f"`{FIX} verify {folder}` checks the whole folder."
            )


# --- Downloads (pooch) -------------------------------------------------------------------


def make_folder(folder: Path) -> None:
    """Create ``folder`` (and its parents) for a download or copy, or say why it cannot be."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DatasetError(
            f"Cannot write into {folder} ({type(err).__name__}: {err.strerror or err}). "
            "Download into a folder you can write to: pass `--to FOLDER`, or point "
            "COURSE_DATA_DIR at a writable folder (or unset it to use the course's data/)."
        ) from None


def download(url: str, dest: Path, sha256: str | None = None) -> None:
    """Download ``url`` to ``dest``: whole and matching ``sha256``, or nothing at all."""
    import pooch
    import requests

    pooch.get_logger().setLevel("WARNING")  # our own lines say what happens
    make_folder(dest.parent)
    try:
        pooch.retrieve(
            url,
            known_hash=f"sha256:{sha256}" if sha256 else None,
            fname=dest.name,
            path=dest.parent,
            progressbar=False,
        )
    except ValueError as err:  # pooch: the hash does not match
        got = re.search(r"\(([0-9a-f]{64})\)", str(err))
        raise DatasetError(
            f"{dest.name} downloaded from {url} does not match its expected checksum (expected "
            f"{sha256[:12] if sha256 else '?'}..., got {got.group(1)[:12] if got else '?'}...). "
            "Nothing was saved. The source may be serving a different or damaged file: ask "
            f"whoever runs it to run `{FIX} verify` there."
        ) from None
    except (requests.RequestException, OSError) as err:
        reason = str(err).splitlines()[0] if str(err) else ""
        raise DatasetError(
            f"Could not download {url} ({type(err).__name__}: {reason}). Nothing was saved. "
            "Check the network or the mirror address, then run the command again."
        ) from None


def fetch(
    to: Path | str | None = None,
    mirror: str | None = None,
    datasets: Sequence[str] | None = None,
    quiet: bool = False,
) -> Path:
    """Download datasets into ``to`` in the Keras cache layout and write SHA256SUMS.

    ``to`` defaults to :func:`default_data_dir` (``COURSE_DATA_DIR``, else ``data/``), the
    folder the loaders download into too. From ``mirror`` (a URL serving a course data
    folder, e.g. ``helpers.datasets serve`` on a teacher's laptop) when given, else from the
    origins in :data:`URLS`. Files already present and matching the checksums are kept.
    The files the project carries (:data:`SHIPPED`) are copied from its committed copy,
    checked against their pinned hash, mirror or not; fetching everything skips them, with
    a note, where the helpers run without the course folder (an installed copy).
    """
    to = default_data_dir() if to is None else Path(to)
    names = list(datasets) if datasets else list(FILES)
    unknown = [n for n in names if n not in FILES]
    if unknown:
        raise DatasetError(f"Unknown dataset name(s) {unknown}; choose from {sorted(FILES)}.")
    expected = dict(UPSTREAM_SHA256)
    if mirror:
        mirror = mirror.rstrip("/") + "/"
        with tempfile.TemporaryDirectory() as tmp:
            try:
                download(mirror + SUMS_NAME, Path(tmp) / SUMS_NAME)
                expected = read_sums(Path(tmp)) or {}
            except DatasetError:
                expected = {}  # a mirror without SHA256SUMS: files are taken as served
    local = read_sums(to) or {}
    for name in names:
        shipped = all(rel in SHIPPED for rel in FILES[name])
        if mirror and not datasets and expected and not shipped:
            if not any(rel in expected for rel in FILES[name]):
                if not quiet:  # an older mirror: fetching everything skips what it lacks
                    print(f"  skipped     {', '.join(FILES[name])} (not on the mirror)")
                continue
        if shipped and not datasets and not all((SHIPPED_DIR / r).is_file() for r in FILES[name]):
            if not quiet:  # installed without the course folder: nothing to copy from
                print(f"  skipped     {', '.join(FILES[name])} ({SHIPPED_LABEL} is not here)")
            continue
        for rel in FILES[name]:
            dest = to / rel
            want = (UPSTREAM_SHA256 if rel in SHIPPED else expected).get(rel) or local.get(rel)
            if dest.is_file() and (want is None or sha256_of(dest) == want):
                action = "kept"
            elif rel in SHIPPED:
                copy_shipped(rel, dest)
                action = "copied"
            else:
                download(mirror + rel if mirror else URLS[rel], dest, expected.get(rel))
                action = "downloaded"
            if not quiet:
                print(f"  {action:<11} {rel}")
    sums = write_sums(to)
    if not quiet:
        print(f"Wrote {sums}.")
    return to


# --- The files the project carries itself ---------------------------------------------------

SHIPPED_LABEL = "the course's own copy"  # as the loaders' one line and errors name it


def restore_advice(rel: str) -> str:
    """How to get a committed file back, in a clone and where the helpers are installed."""
    try:
        where = (SHIPPED_DIR / rel).relative_to(COURSE_ROOT).as_posix()
    except ValueError:  # SHIPPED_DIR moved elsewhere (the tests do)
        where = str(SHIPPED_DIR / rel)
    dataset = next(name for name, files in FILES.items() if rel in files)
    return (
        f"A clone of the course has it as {where}: restore it with `git checkout -- {where}` "
        "in the course folder (or clone the course again). Where the helpers are installed "
        "without the course folder (a classroom's environment or image), the data folder "
        f"must hold it instead: `{FIX} fetch --only {dataset} --to FOLDER`, run in a clone, "
        "copies it there and adds it to FOLDER's SHA256SUMS."
    )


def shipped_copy(rel: str) -> Path:
    """The path of the project's committed copy of ``rel`` (one of :data:`SHIPPED`).

    Checked against the hash :data:`UPSTREAM_SHA256` pins (about 20 ms for 6 MB); a
    missing or changed copy raises a :class:`DatasetError` that says how to restore it.
    """
    path = SHIPPED_DIR / rel
    if not path.is_file():
        raise DatasetError(
            f"The course's own copy of {rel} is not where the helpers look for it ({path}). "
            f"{restore_advice(rel)}"
        )
    expected = UPSTREAM_SHA256.get(rel)
    if expected and (actual := sha256_of(path)) != expected:
        raise DatasetError(
            f"The course's own copy of {rel} ({path}) does not match the checksum the course "
            f"pins for it (expected {expected[:12]}..., found {actual[:12]}...): it was damaged "
            f"or changed. {restore_advice(rel)} A file you changed on purpose belongs in a "
            "data folder (COURSE_DATA_DIR), not in its place."
        )
    return path


def copy_shipped(rel: str, dest: Path) -> None:
    """Copy the committed copy of ``rel`` to ``dest``: whole and checked, or nothing at all.

    Written beside ``dest`` under a hidden temporary name, checked against the pinned hash,
    then renamed into place, so an interrupted copy never looks complete.
    """
    source = shipped_copy(rel)
    make_folder(dest.parent)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            shutil.copyfileobj(src, out)
        shutil.copymode(source, tmp)  # as readable as the course's copy, not mkstemp's 0600
        expected = UPSTREAM_SHA256.get(rel)
        if expected and (actual := sha256_of(Path(tmp))) != expected:
            raise DatasetError(
                f"The copy of {rel} written to {dest.parent} does not match its pinned "
                f"checksum (expected {expected[:12]}..., found {actual[:12]}...), though the "
                "course's own copy did: the disk may be full or failing. Nothing was saved."
            )
        os.replace(tmp, dest)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise DatasetError(
            f"Could not copy {rel} into {dest.parent} ({type(err).__name__}: "
            f"{err.strerror or err}). Nothing was saved. Free some space or choose another "
            "folder (`--to FOLDER`), then run the command again."
        ) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- Where the data is: the one resolver ---------------------------------------------------

COURSE_DATA_LABEL = "COURSE_DATA_DIR"  # as the loaders' one line and errors name the folders
REPO_DATA_LABEL = "the course's data/ folder"


def as_data_dir(value: str | os.PathLike[str]) -> Path:
    """A folder as a person wrote it: ``~`` expanded, and a relative path taken from the
    current directory (the rule ``course.py`` applies to ``COURSE_DATA_DIR`` too)."""
    return Path(os.path.abspath(os.path.expanduser(os.fspath(value))))


def chosen_data_dir(environ: Mapping[str, str] | None = None) -> Path | None:
    """The folder ``COURSE_DATA_DIR`` names (:func:`as_data_dir`), or None if unset or empty.

    The one place in the helpers that reads the variable (``environ`` defaults to
    ``os.environ``). A relative value is taken from the current directory of the process
    that reads it: the launcher makes it absolute before it starts Jupyter, so a kernel
    (which starts in ``notebooks/``) finds the same folder as the command line did.
    """
    value = (os.environ if environ is None else environ).get("COURSE_DATA_DIR", "")
    return as_data_dir(value) if value else None


def data_folders(environ: Mapping[str, str] | None = None) -> list[tuple[str, Path]]:
    """``(label, folder)`` of the local folders, in lookup order: ``COURSE_DATA_DIR`` when
    set, then the course's ``data/``. Downloads go to the first (:func:`default_data_dir`)."""
    chosen = chosen_data_dir(environ)
    folders = [(COURSE_DATA_LABEL, chosen)] if chosen else []
    if chosen != REPO_DATA_DIR:
        folders.append((REPO_DATA_LABEL, REPO_DATA_DIR))
    return folders


def default_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The data folder: ``COURSE_DATA_DIR`` when set, else the course's ``data/``.

    Where the loaders save what they download, and the default folder of ``fetch --to``,
    ``verify``, ``serve --dir``, ``fetch()`` and the classroom's ``--data``.
    """
    return data_folders(environ)[0][1]


# --- The lookup ---------------------------------------------------------------------------


def locate(dataset: str, name: str) -> tuple[str, Path]:
    """``(label, folder)`` of a folder holding every file of ``dataset``.

    Looks in the local folders, then downloads (from the mirror, else the origin) into
    the first of them; a dataset the project carries (:data:`SHIPPED`) is read from its
    committed copy instead, and nothing is written. ``name`` is the dataset's name in the
    error, if nothing works.
    """
    rels = FILES[dataset]
    tried = []
    for label, folder in data_folders():
        missing = [rel for rel in rels if not (folder / rel).is_file()]
        if not missing:
            _check_against_sums(folder, rels, label)
            return label, folder
        tried.append(f"{label} ({folder}: no {', '.join(missing)})")
    if all(rel in SHIPPED for rel in rels):
        missing = [rel for rel in rels if not (SHIPPED_DIR / rel).is_file()]
        if not missing:
            for rel in rels:
                shipped_copy(rel)  # checked against the pinned hash
            return SHIPPED_LABEL, SHIPPED_DIR
        raise DatasetError(
            f"Could not load {name}. Tried: {'; '.join(tried)}; and {SHIPPED_LABEL} "
            f"({SHIPPED_DIR}: no {', '.join(missing)}). The course carries this file itself, "
            f"so there is nothing to download. {restore_advice(missing[0])} Then set "
            "COURSE_DATA_DIR to FOLDER, e.g. `export COURSE_DATA_DIR=/path/to/datasets` "
            "before starting Jupyter."
        )
    target_label, target = data_folders()[0]
    mirror = os.environ.get("COURSE_DATA_MIRROR")
    if mirror:
        try:
            fetch(target, mirror=mirror, datasets=[dataset], quiet=True)
            return f"the classroom mirror (saved in {target_label})", target
        except DatasetError as err:
            tried.append(f"the classroom mirror {mirror} ({err})")
    else:
        tried.append("a classroom mirror (COURSE_DATA_MIRROR is not set)")
    origin = URLS[rels[0]] if len(rels) == 1 else KERAS_ORIGIN
    try:
        fetch(target, datasets=[dataset], quiet=True)
    except DatasetError as err:
        raise DatasetError(
            f"Could not load {name}. Tried: {'; '.join(tried)}; and the download from {origin}, "
            f"which failed ({err}) Two ways out: connect to the internet and run this cell "
            f"again (the data is saved in {target} for next time), or copy "
            f"{', '.join(rels)} into a folder and set COURSE_DATA_DIR to it, e.g. `export "
            "COURSE_DATA_DIR=/path/to/datasets` before starting Jupyter. In a classroom, the "
            f"teacher can run `{FIX} serve` and you set "
            "COURSE_DATA_MIRROR=http://TEACHER-ADDRESS:8765 instead."
        ) from None
    return f"{origin} (saved in {target_label})", target


def announce(name: str, n_train: int, n_test: int, source: str, unit: str) -> None:
    """The loaders' one line: what was loaded, how much, and from where."""
    print(f"{name}: {n_train:,} training and {n_test:,} test {unit}, from {source}.")
