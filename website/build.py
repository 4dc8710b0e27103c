"""Build the course website: every chapter notebook as a static page, from its committed outputs.

    python3 course.py site [--out DIR]     # default DIR: site/ next to course.py

Nothing is executed: Jupyter Book 1.x (Sphinx) renders the outputs the notebooks were committed
with, so the build takes seconds and needs no data, no TensorFlow and no network. The chapters,
their order, titles and what each teaches come from the course's chapter registry
(``helpers/chapters.py``), so a new chapter needs no change here. The build works on copies in
a temporary folder and never edits the committed notebooks:

- solution cells (hidden in JupyterLab through ``jupyter.source_hidden`` / ``outputs_hidden``)
  get Jupyter Book's ``hide-cell`` / ``hide-input`` / ``hide-output`` tags, and so do cells that
  only check or record a claim for CI;
- a widget cannot run on a static page: its output becomes a note saying where to run it;
- MathJax, the theme's scripts, styles and fonts, and NanumGothic (the Hangul font that
  ``koreanize-matplotlib`` ships, SIL Open Font License) are all served from the site itself,
  so the pages read the same with no network.

Other tools reuse :func:`default_out` (where the site is) and :func:`build`.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib.util
import io
import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from helpers import chapters as registry

ROOT = Path(__file__).resolve().parent.parent
STATIC = Path(__file__).resolve().parent / "static"
PUBLISHED = ROOT / "bench" / "published.json"
README = ROOT / "README.md"
# Written into every site this builds: --out refuses to replace a folder without it.
MARKER = ".course-site"
TITLE = "Deep learning, hands on"

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = (
    '<div class="course-widget-note" role="note"><strong>An interactive widget was here.'
    "</strong> A web page cannot run Python, so it is not shown. Run this notebook in "
    "JupyterLab (<code>python3 course.py lab</code>) to move its sliders and try it out.</div>"
)
# The tag of the notebooks' check cells (tests/README.md: a "# check: ..." first line and this
# tag): their code is folded and their printed verdicts shown, as in JupyterLab. An untagged
# cell whose code is nothing but asserts and helpers.record(...) calls is folded whole.
CHECK_TAGS = frozenset({"check"})
HIDE_TAGS = frozenset(
    {"hide-cell", "hide-input", "hide-output", "remove-cell", "remove-input", "remove-output"}
)
# Parts of MathJax 3 (es5 build of the django-static-mathjax package) the site needs: the TeX
# to HTML-CSS component, the TeX extensions it loads on demand, its web fonts, its menu and
# the accessibility pieces (speech included) the menu can switch on.
MATHJAX_PARTS = ("tex-chtml.js", "input/tex", "output/chtml", "ui", "a11y", "sre")
# The light face: the regular one has an empty table (TSI3) that browsers' font checker
# rejects, and the licence asks that a changed font be renamed. The light face is served as is.
HANGUL_FONT = "NanumGothicLight.ttf"
# The book's static files. Not "_static": Jupyter Book adds a <script> to every page for each
# .js file under a source folder of that name, which would load all of MathJax's pieces.
ASSETS = "assets"
# Jupyter Book's Sphinx extensions, less sphinx-thebe: it runs code on a remote Binder and
# puts the address of its script (on a CDN) into every page.
DROPPED_EXTENSIONS = ("sphinx_thebe",)


FOOTER = (
    "Built from the committed notebooks by <code>python3 course.py site</code>; nothing on "
    "these pages comes from another site. Maths by MathJax; Hangul in NanumGothic "
    '(<a href="_static/fonts/NanumGothic-LICENSE.txt">SIL Open Font License</a>).'
)


class SiteError(Exception):
    """The site cannot be built; the message says why and what to do."""


def default_out() -> Path:
    """Where ``course.py site`` writes the site unless told otherwise (git-ignored)."""
    return ROOT / "site"


def chapter_paths(root: Path = ROOT) -> list[Path]:
    """Every chapter notebook of the course at ``root``, in its registry's order."""
    return [root / "notebooks" / chapter.notebook for chapter in registry.load(root)]


# --- what the home page says about each chapter ------------------------------------------------


@dataclass
class Chapter:
    path: Path
    number: str
    name: str  # the registry's short title
    title: str  # the notebook's first heading
    teaches: str  # the registry's "what you learn"
    seconds: float | None
    peak_mb: int | None

    @property
    def stem(self) -> str:
        return self.path.stem


def readme_intro(text: str) -> str:
    """The README's first paragraph: what the course is."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("# ")), -1) + 1
    paragraph: list[str] = []
    for line in lines[start:]:
        if line.strip():
            paragraph.append(line.strip())
        elif paragraph:
            break
    return " ".join(paragraph)


def notebook_title(nb: dict) -> str:
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            for line in _source(cell).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return ""


def load_chapters(root: Path = ROOT, published: Path = PUBLISHED) -> tuple[list[Chapter], dict]:
    """The registry's chapters of the course at ``root``, with what the benchmark's published
    run says about them. SiteError if a chapter's notebook is missing."""
    bench = json.loads(published.read_text(encoding="utf-8")) if published.is_file() else {}
    measured = bench.get("notebooks", {})
    chapters = []
    for entry in registry.load(root):
        path = root / "notebooks" / entry.notebook
        if not path.is_file():
            raise SiteError(
                f"helpers/chapters.py lists chapter {entry.number} as {entry.notebook}, and "
                f"{path} does not exist: add the notebook, or correct its entry."
            )
        nb = json.loads(path.read_text(encoding="utf-8"))
        title = notebook_title(nb) or entry.stem.replace("_", " ")
        run = measured.get(entry.stem, {})
        chapters.append(
            Chapter(
                path,
                entry.number,
                entry.title,
                title,
                entry.learn,
                run.get("seconds"),
                run.get("peak_mb"),
            )
        )
    return chapters, bench


def _duration(seconds: float | None) -> str:
    return "not measured yet" if seconds is None else f"{round(seconds)} s"


def _machine(bench: dict) -> str:
    machine = bench.get("machine", {})
    when = str(bench.get("measured", ""))[:10]
    cores = f"{machine['cores']} CPU cores" if machine.get("cores") else ""
    cpu = f" ({machine['cpu']})" if cores and machine.get("cpu") else ""
    gpu = ", no GPU" if cores and machine.get("gpus") == 0 else ""
    where = f"{cores}{cpu}{gpu}"
    return f"Measured{' ' + when if when else ''} on {where or 'the benchmark machine'}"


def home_page(chapters: list[Chapter], bench: dict, intro: str) -> str:
    """The course map, as MyST Markdown."""
    rows = [
        f"| {ch.number} | [{ch.name}]({ch.path.name}) | {ch.teaches} | "
        f"{_duration(ch.seconds)} | "
        f"{f'{ch.peak_mb:,} MB' if ch.peak_mb is not None else '-'} |"
        for ch in chapters
    ]
    first = chapters[0].path.name if chapters else ""
    return "\n".join(
        [
            f"# {TITLE}",
            "",
            intro,
            "",
            "## The chapters",
            "",
            "| # | Chapter | What you learn | Time to run | Peak memory |",
            "|---|---|---|---:|---:|",
            *rows,
            "",
            f"{_machine(bench)}, by the course's benchmark: the wall time for a fresh kernel to "
            "run the notebook from top to bottom, and the kernel's peak memory. Reading the "
            "chapter and doing its exercises takes longer than running it.",
            "",
            "## How to start",
            "",
            f"Read here first: each page shows what its notebook printed and drew in a real run. "
            f"Start with [chapter {chapters[0].number if chapters else '00'}]({first}) and follow "
            "the links to the next chapter at the bottom of each page.",
            "",
            "To run the notebooks yourself, get the course folder (a laptop with Python 3.11 on "
            "Linux, Windows or macOS on Apple silicon will do) and, in it, run",
            "",
            "```bash",
            "python3 course.py lab",
            "```",
            "",
            "The first time, this sets up the course's own Python environment (a few minutes), "
            "then it opens JupyterLab on the notebooks. There the sliders move, the exercises "
            "check your answers and the solutions open when you click them. In a class, your "
            "teacher may give you an address instead: the course running on the class server, "
            "or a local copy of the data. The README's classroom guide says more.",
            "",
            "## About these pages",
            "",
            "The pages are built from the notebooks exactly as they were committed, without "
            "running them, and everything they need (maths, fonts, scripts) comes with the site, "
            "so they also work with no network. Solutions are folded away, and so is the code of "
            "the cells that check the chapter's claims for the course's tests (their verdicts "
            "stay visible): click to open them. "
            "Widgets need a running Python, so a note says where they would be.",
            "",
        ]
    )


# --- the notebooks, prepared for the site (copies only) ----------------------------------------


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def is_check_only(code: str) -> bool:
    """True for code that only asserts and records claims (``assert``, ``helpers.record``)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return False
    if not tree.body:
        return False
    for statement in tree.body:
        if isinstance(statement, ast.Assert):
            continue
        call = statement.value if isinstance(statement, ast.Expr) else None
        func = call.func if isinstance(call, ast.Call) else None
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name != "record":
            return False
    return True


def hide_tag(cell: dict) -> str | None:
    """The Jupyter Book tag that folds this cell as JupyterLab shows it, or None."""
    meta = cell.get("metadata", {})
    tags = set(meta.get("tags", []))
    if tags & HIDE_TAGS:
        return None  # already says how to show it
    jupyter = meta.get("jupyter", {})
    source_hidden = bool(jupyter.get("source_hidden"))
    outputs_hidden = bool(jupyter.get("outputs_hidden"))
    if cell.get("cell_type") != "code":
        return "hide-cell" if source_hidden else None
    if tags & CHECK_TAGS and not outputs_hidden:
        return "hide-input"  # as in JupyterLab: the code folded, the printed verdicts shown
    if (source_hidden and outputs_hidden) or "solution" in tags or is_check_only(_source(cell)):
        return "hide-cell"
    if source_hidden:
        return "hide-input"
    if outputs_hidden:
        return "hide-output"
    return None


def prepare_notebook(nb: dict) -> tuple[dict, dict[str, int]]:
    """A copy of ``nb`` for the site: folding tags added, widget outputs turned into a note."""
    nb = json.loads(json.dumps(nb))
    nb.get("metadata", {}).pop("widgets", None)  # no widget state: nothing to load for it
    counts = {"folded": 0, "widgets": 0}
    for cell in nb.get("cells", []):
        tag = hide_tag(cell)
        if tag:
            cell.setdefault("metadata", {}).setdefault("tags", []).append(tag)
            counts["folded"] += 1
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_MIME in data:
                output["data"] = {
                    "text/html": WIDGET_NOTE,
                    "text/plain": "(an interactive widget: run the notebook in "
                    "JupyterLab to use it)",
                }
                output["metadata"] = {}
                counts["widgets"] += 1
    return nb, counts


# --- static files: the course's CSS, the Hangul font, MathJax ----------------------------------


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SiteError(
            f"The package {name!r} is missing: run `python3 course.py site`, which "
            "installs requirements/site.txt into .venv."
        )
    return Path(next(iter(spec.submodule_search_locations)))


def copy_static(static: Path) -> None:
    """Fill the book's static folder (the site's ``_static/``) with everything pages load."""
    shutil.copytree(STATIC, static, dirs_exist_ok=True)

    fonts = static / "fonts"
    fonts.mkdir(exist_ok=True)
    font = _package_dir("koreanize_matplotlib") / "fonts" / HANGUL_FONT
    if not font.is_file():
        raise SiteError(
            f"{font} is missing: reinstall requirements/course.txt (koreanize-matplotlib "
            "ships the Hangul font the site serves)."
        )
    shutil.copy2(font, fonts / HANGUL_FONT)
    (fonts / "NanumGothic-LICENSE.txt").write_text(_font_licence(font), encoding="utf-8")

    mathjax = _package_dir("mathjax") / "static" / "mathjax"
    target = static / "mathjax"
    for part in MATHJAX_PARTS:
        source = mathjax / "es5" / part
        if source.is_dir():
            shutil.copytree(source, target / part)
        else:
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / part)
    shutil.copy2(mathjax / "LICENSE", target / "LICENSE")


def _font_licence(font: Path) -> str:
    """The font's own copyright notice, and the SIL Open Font License 1.1 it is under."""
    from fontTools.ttLib import TTFont  # matplotlib's dependency

    names = TTFont(font, lazy=True)["name"]
    head = (
        f"{names.getDebugName(4)} ({font.name}, unmodified, as the Python package "
        f"koreanize-matplotlib ships it)\n{names.getDebugName(0)}\n"
        "It is distributed under the SIL Open Font License, Version 1.1:\n\n"
    )
    try:  # matplotlib's STIX fonts are under the same licence: quote its text from there
        stix = _package_dir("matplotlib") / "mpl-data" / "fonts" / "ttf" / "LICENSE_STIX"
        text = stix.read_text(encoding="utf-8")
        return head + text[text.index("SIL OPEN FONT LICENSE Version 1.1") :]
    except (SiteError, OSError, ValueError):
        return head + "(the licence text: https://openfontlicense.org)\n"


# --- Jupyter Book ----------------------------------------------------------------------------


def book_config() -> dict:
    """Jupyter Book's _config.yml, as a dict: no execution, nothing loaded from the web."""
    from jupyter_book.config import get_default_sphinx_config

    extensions = [
        name for name in get_default_sphinx_config()["extensions"] if name not in DROPPED_EXTENSIONS
    ]
    return {
        "title": TITLE,
        "author": "the course's authors",
        "copyright": "",
        "only_build_toc_files": True,
        "exclude_patterns": ["_build", "**.ipynb_checkpoints", ASSETS],
        "execute": {"execute_notebooks": "off"},
        "parse": {"myst_enable_extensions": ["amsmath", "colon_fence", "dollarmath"]},
        "html": {
            "home_page_in_navbar": True,
            "use_repository_button": False,
            "use_issues_button": False,
            "use_edit_page_button": False,
            "use_multitoc_numbering": False,
        },
        "launch_buttons": {
            "binderhub_url": "",
            "jupyterhub_url": "",
            "colab_url": "",
            "deepnote_url": "",
            "thebe": False,
        },
        "repository": {"url": ""},
        "sphinx": {
            "config": {
                "extensions": extensions,
                "html_static_path": [ASSETS],
                "mathjax_path": "mathjax/tex-chtml.js",  # relative: under _static/
                "nb_ipywidgets_js": {},  # require.js and the widget manager come from a CDN
                "html_css_files": ["course.css"],
                "html_favicon": f"{ASSETS}/favicon.svg",  # else browsers ask for /favicon.ico
                "html_copy_source": False,
                "html_show_sourcelink": False,
                "nb_merge_streams": True,
                "html_last_updated_fmt": None,
                "html_theme_options": {
                    "use_download_button": False,
                    "use_fullscreen_button": True,
                    "show_prev_next": True,
                    "home_page_in_toc": True,
                    "navigation_with_keys": False,
                    "search_bar_text": "Search the course...",
                    "extra_footer": FOOTER,
                },
            },
        },
    }


def write_book(src: Path, chapters: list[Chapter], bench: dict, intro: str) -> dict[str, int]:
    """The book's sources in ``src``: config, table of contents, home page, notebook copies."""
    import yaml  # Jupyter Book's own dependency

    src.mkdir(parents=True, exist_ok=True)
    (src / "_config.yml").write_text(
        yaml.safe_dump(book_config(), sort_keys=False), encoding="utf-8"
    )
    toc = {"format": "jb-book", "root": "index", "chapters": [{"file": ch.stem} for ch in chapters]}
    (src / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False), encoding="utf-8")
    (src / "index.md").write_text(home_page(chapters, bench, intro), encoding="utf-8")
    totals = {"folded": 0, "widgets": 0}
    for ch in chapters:
        nb = json.loads(ch.path.read_text(encoding="utf-8"))
        copy, counts = prepare_notebook(nb)
        (src / ch.path.name).write_text(json.dumps(copy, ensure_ascii=False), encoding="utf-8")
        for key in totals:
            totals[key] += counts[key]
    copy_static(src / ASSETS)
    return totals


def _tidy(html_dir: Path) -> None:
    """Remove what a reader never needs: Sphinx's build records and the themes' templates."""
    for leftover in (".buildinfo", ".doctrees", "_sources"):
        path = html_dir / leftover
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    for template in (html_dir / "_static").glob("*.html"):  # Jinja macros, not pages
        template.unlink()


def _replace_site(built: Path, out: Path) -> None:
    """Put the built site at ``out``, replacing only an earlier site (never another folder)."""
    if out.exists():
        if not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).is_file()):
            raise SiteError(
                f"{out} exists and is not a site built by `course.py site`: "
                "choose another --out (nothing was overwritten)."
            )
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(built, out)
    (out / MARKER).write_text(
        "Built by `python3 course.py site`; rebuilt in place.\n", encoding="utf-8"
    )


def run_jupyter_book(src: Path, work: Path, quiet: bool) -> Path:
    """``jupyter-book build`` (its command line, run in this process); the HTML folder."""
    from jupyter_book.cli.main import main as jupyter_book

    args = ["build", str(src), "--path-output", str(work), "--all", "--builder", "html"]
    said = io.StringIO()
    try:
        with contextlib.redirect_stdout(said if quiet else sys.stdout):
            jupyter_book.main(args=[*args, *(["-q"] if quiet else [])], standalone_mode=False)
    except (Exception, SystemExit) as err:  # click exits; Sphinx raises its own errors
        raise SiteError(
            f"Jupyter Book failed ({err!r}). What it said:\n"
            f"{said.getvalue()[-3000:]}\nRun `python3 course.py site --verbose` "
            "for every message."
        ) from err
    html_dir = work / "_build" / "html"
    if not (html_dir / "index.html").is_file():
        raise SiteError(
            f"Jupyter Book wrote no {html_dir / 'index.html'}:\n{said.getvalue()[-3000:]}"
        )
    return html_dir


def build(out: Path | None = None, quiet: bool = True) -> dict:
    """Build the site into ``out`` (default :func:`default_out`); return a short report."""
    out = Path(out or default_out()).resolve()
    started = time.monotonic()
    chapters, bench = load_chapters()
    if not chapters:
        raise SiteError("helpers/chapters.py lists no chapters: there is nothing to build.")
    intro = readme_intro(README.read_text(encoding="utf-8")) if README.is_file() else ""
    with tempfile.TemporaryDirectory(prefix="course-site-") as tmp:
        src = Path(tmp) / "book"
        counts = write_book(src, chapters, bench, intro)
        html_dir = run_jupyter_book(src, Path(tmp), quiet)
        _tidy(html_dir)
        _replace_site(html_dir, out)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return {
        "out": out,
        "chapters": len(chapters),
        "seconds": time.monotonic() - started,
        "megabytes": size / 1e6,
        **counts,
    }


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 course.py site",
        description="Build the course as a static website from the committed notebooks "
        "(offline, nothing executed).",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=default_out(),
        help=f"folder to write the site to (default: {default_out().name}/)",
    )
    parser.add_argument("--verbose", action="store_true", help="show Sphinx's messages")
    args = parser.parse_args(argv)
    try:
        report = build(args.out, quiet=not args.verbose)
    except SiteError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    out = report["out"]
    try:
        shown = out.relative_to(Path.cwd())
    except ValueError:
        shown = out
    print(
        f"Built {report['chapters']} chapters in {report['seconds']:.0f} s "
        f"({report['megabytes']:.0f} MB, {report['folded']} cells folded, "
        f"{report['widgets']} widgets noted) into {shown}/."
    )
    print(
        f"Open {shown / 'index.html'} in a browser, or serve it: "
        f"python3 -m http.server -d {shown} 8000  (then http://localhost:8000/)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(_main())
