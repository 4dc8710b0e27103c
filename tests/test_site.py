"""The course as a website (issue 19): `python3 course.py site` builds offline, and the pages work.

One build per test session (module fixture, a few seconds): the launcher's own install step
(`course.install_extra`, requirements/site.txt), then `python -m website.build` with the network
switched off (`unshare -n`; where that is not allowed, in a Python that refuses and records
every outgoing connection). Then:

- without a browser: every chapter has a page, the home page is the course map, each chapter
  links to the one before and after, solutions are folded, widgets became a note, no page,
  stylesheet or script loads anything from another host, every internal link resolves, the
  committed notebooks are untouched, and the data mirror serves the site under /site/;
- in Chromium (Playwright, as tests/test_browser_widgets.py; skipped with a message when
  Chromium is missing), with every request that leaves 127.0.0.1 blocked and recorded:
  chapter 2's maths is typeset and its images load, chapter 8 shows its Hangul (in the site's
  own NanumGothic) and its plots, and the home page links to every chapter.
"""

from __future__ import annotations

import hashlib
import html
import http.server
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `website` is a top-level folder, not an installed package
    sys.path.insert(0, str(ROOT))

# One set of flags, shared with the widget smoke test; Chromium is found by tests/conftest.py.
from classroom.browser import FLAGS as SMOKE_FLAGS  # noqa: E402
from website import build as site_build  # noqa: E402
from website import check  # noqa: E402

pytestmark = pytest.mark.site  # the tests that need the build (a few seconds) are slow

CHAPTERS = site_build.chapter_paths()


def _chapter(number: str) -> Path:
    return next(p for p in CHAPTERS if p.name.startswith(f"{number}_"))


TIMEOUT_MS = 30_000
# The browser smoke test's flags (less --headless, which Playwright adds), and no translation
# or hint services that would try to reach the network.
CHROMIUM_FLAGS = [f for f in SMOKE_FLAGS if f != "--headless"] + [
    "--disable-features=Translate,OptimizationHints"
]

# Run in place of `python -m website.build` where `unshare -n` is not allowed: every socket
# connection to another machine is refused and written down; the build must make none.
NO_NETWORK = r"""
import runpy, socket, sys
attempts = []
def _refuse(address):
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and not host.startswith(("127.", "::1", "/")):
        attempts.append(repr(address))
        raise OSError("network is off for this build (tests/test_site.py)")
_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex
socket.socket.connect = lambda self, address: (_refuse(address), _connect(self, address))[1]
socket.socket.connect_ex = lambda self, address: (_refuse(address), _connect_ex(self, address))[1]
_getaddrinfo = socket.getaddrinfo
def _lookup(host, *args, **kwargs):
    _refuse((host,))
    return _getaddrinfo(host, *args, **kwargs)
socket.getaddrinfo = _lookup
sys.argv = ["website.build", *sys.argv[1:]]
try:
    runpy.run_module("website.build", run_name="__main__")
finally:
    if attempts:
        print("connections attempted:", attempts, file=sys.stderr)
        sys.exit(3)
"""


def _course():
    spec = importlib.util.spec_from_file_location("course_for_site", ROOT / "course.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _install_site_requirements() -> None:
    """What `course.py site` does before it builds: requirements/site.txt into .venv, once."""
    course = _course()
    if Path(sys.prefix).resolve() == course.VENV.resolve() and course.STAMP.is_file():
        try:
            course.install_extra(Path(sys.executable), "requirements/site.txt")
        except course.SetupError as err:
            pytest.fail(f"installing requirements/site.txt failed:\n{err}")
    elif importlib.util.find_spec("jupyter_book") is None:
        pytest.skip(
            "site build skipped: this Python is not the course's .venv and has no "
            "jupyter-book; run the tests with `python3 course.py test`."
        )


def _network_off() -> tuple[list[str], str]:
    """A command prefix that runs a program with no network, and how it does so."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n", "--"], "unshare -n"
    return [], "a Python that refuses every outgoing connection"


def _digests() -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in CHAPTERS}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    _install_site_requirements()
    out = tmp_path_factory.mktemp("site") / "site"
    before = _digests()
    prefix, how = _network_off()
    if prefix:
        command = [*prefix, sys.executable, "-m", "website.build", "--out", str(out)]
    else:
        command = [sys.executable, "-c", NO_NETWORK, "--out", str(out)]
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    seconds = time.monotonic() - started
    assert result.returncode == 0, (
        f"the site build failed with the network off ({how}):\n"
        f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    print(f"site built with the network off ({how}) in {seconds:.1f} s: {result.stdout}")
    return {"out": out, "before": before, "stdout": result.stdout}


def _page(site, stem: str) -> str:
    return (site["out"] / f"{stem}.html").read_text(encoding="utf-8")


def _text(page: str) -> str:
    """A page's words, without its tags (code is split into highlighted spans)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", page)).split())


# --- the build ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_every_chapter_has_a_page(site):
    assert len(CHAPTERS) >= 9, "the chapters are found by name: notebooks/NN_*.ipynb"
    for path in CHAPTERS:
        page = site["out"] / f"{path.stem}.html"
        assert page.is_file(), f"no page for {path.name}"
        title = site_build.notebook_title(json.loads(path.read_text(encoding="utf-8")))
        words = re.findall(r"\w+", title)[:4]
        text = re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8"))
        assert all(word in text for word in words), f"{page.name} lacks its title {title!r}"
    assert (site["out"] / "index.html").is_file()
    assert (site["out"] / site_build.MARKER).is_file()


@pytest.mark.slow
def test_the_home_page_is_the_course_map(site):
    home = _text(_page(site, "index"))
    links = check.internal_links(site["out"] / "index.html")
    chapters, bench = site_build.load_chapters()
    for chapter in chapters:
        assert f"{chapter.stem}.html" in links, f"the home page does not link {chapter.stem}"
        assert chapter.teaches, f"README's chapter table has no row for {chapter.path.name}"
        # what it teaches (the README's words) and its measured run time (bench/published.json)
        assert re.sub(r"\W+", "", chapter.teaches.split(";")[0][:30]) in re.sub(r"\W+", "", home)
        seconds = bench.get("notebooks", {}).get(chapter.stem, {}).get("seconds")
        assert site_build._duration(seconds) in home
    assert "python3 course.py lab" in home


@pytest.mark.slow
def test_each_chapter_links_to_the_one_before_and_after(site):
    pages = ["index.html"] + [f"{p.stem}.html" for p in CHAPTERS]
    for before, page, after in zip(pages[:-1], pages[1:], [*pages[2:], None], strict=True):
        links = check.internal_links(site["out"] / page)
        assert before in links, f"{page} does not link back to {before}"
        if after:
            assert after in links, f"{page} does not link on to {after}"


@pytest.mark.slow
def test_solutions_stay_folded_and_widgets_become_a_note(site):
    for path in CHAPTERS:
        nb = json.loads(path.read_text(encoding="utf-8"))
        solutions = sum("solution" in c.get("metadata", {}).get("tags", []) for c in nb["cells"])
        widgets = sum(
            site_build.WIDGET_MIME in o.get("data", {})
            for c in nb["cells"]
            for o in c.get("outputs", [])
        )
        page = _page(site, path.stem)
        folded = re.findall(r'class="cell [^"]*tag_solution[^"]*"', page)
        assert len(folded) == solutions, path.name
        assert all("tag_hide-cell" in cls for cls in folded), f"{path.name}: a solution shows"
        assert page.count('class="course-widget-note"') == widgets, path.name
        assert site_build.WIDGET_MIME not in page and "require.min.js" not in page


@pytest.mark.slow
def test_nothing_is_loaded_from_another_host(site):
    problems = check.remote_loads(site["out"])
    assert not problems, "the site loads from another host:\n" + "\n".join(problems[:40])
    home = _page(site, "index")
    maths_page = _page(site, _chapter("02").stem)
    assert re.search(r'<script[^>]+src="_static/mathjax/tex-chtml\.js', maths_page)
    assert "thebe" not in home.lower()


@pytest.mark.slow
def test_every_internal_link_resolves(site):
    problems = check.broken_links(site["out"])
    assert not problems, "links to files that are not in the site:\n" + "\n".join(problems[:40])


@pytest.mark.slow
def test_the_committed_notebooks_are_untouched(site):
    assert _digests() == site["before"]


@pytest.mark.slow
def test_the_data_mirror_serves_the_site(site, tmp_path):
    from helpers import datasets

    data = tmp_path / "data"
    data.mkdir()
    (data / "SHA256SUMS").write_text("")
    server = datasets.make_server(data, port=0, bind="127.0.0.1", site=site["out"])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with urllib.request.urlopen(f"{base}/site/", timeout=10) as response:  # noqa: S310
            assert site_build.TITLE in response.read().decode("utf-8")
        url = f"{base}/site/{_chapter('08').stem}.html"
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
            assert "일상다반사" in response.read().decode("utf-8")
        with urllib.request.urlopen(f"{base}/SHA256SUMS", timeout=10) as response:
            assert response.status == 200  # the data is still where it was
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{base}/site/../../etc/passwd", timeout=10)  # noqa: S310
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# --- the pieces, without a build -----------------------------------------------------------


def test_the_checker_finds_remote_loads_and_broken_links(tmp_path):
    (tmp_path / "a.html").write_text(
        '<link rel="stylesheet" href="https://cdn.example.org/x.css">'
        '<script src="//unpkg.com/thing.js"></script><img src="missing.png">'
        '<img srcset="ok.png 1x, http://example.org/b.png 2x"><a href="https://example.org">ok</a>'
        '<a href="gone.html#top">gone</a><div style="background: url(http://e.org/i.png)"></div>'
        '<script>const LIB = "https://cdn.jsdelivr.net/npm/lib@1/x.js";</script>'
    )
    (tmp_path / "ok.png").write_bytes(b"")
    (tmp_path / "s.css").write_text(
        '@import "https://fonts.example.com/f.css";\n@font-face { src: url("fonts/none.woff2"); }'
    )
    (tmp_path / "s.js").write_text(
        'load("https://unpkg.com/other@2/y.js"); // http://www.w3.org/2000/svg'
    )
    remote = "\n".join(check.remote_loads(tmp_path))
    for url in (
        "cdn.example.org",
        "//unpkg.com/thing.js",
        "http://example.org/b.png",
        "http://e.org/i.png",
        "cdn.jsdelivr.net/npm/lib",
        "fonts.example.com",
        "unpkg.com/other",
    ):
        assert url in remote
    assert "https://example.org\n" not in remote + "\n" and "w3.org" not in remote
    broken = "\n".join(check.broken_links(tmp_path))
    assert "missing.png" in broken and "gone.html" in broken and "fonts/none.woff2" in broken
    assert "ok.png" not in broken


@pytest.mark.parametrize(
    "metadata, expected",
    [
        (
            {"jupyter": {"source_hidden": True, "outputs_hidden": True}, "tags": ["solution"]},
            "hide-cell",
        ),
        ({"jupyter": {"source_hidden": True}}, "hide-input"),
        ({"jupyter": {"outputs_hidden": True}}, "hide-output"),
        ({"tags": ["check"], "jupyter": {"source_hidden": True}}, "hide-input"),
        (
            {"tags": ["check"], "jupyter": {"source_hidden": True, "outputs_hidden": True}},
            "hide-cell",
        ),
        ({"tags": ["remove-input"], "jupyter": {"source_hidden": True}}, None),
        ({}, None),
    ],
)
def test_folding_follows_jupyterlab(metadata, expected):
    cell = {"cell_type": "code", "metadata": metadata, "source": "x = 1\n", "outputs": []}
    assert site_build.hide_tag(cell) == expected


def test_a_cell_that_only_checks_claims_is_folded():
    assert site_build.is_check_only('helpers.record("acc", acc)\nassert acc > 0.9, acc\n')
    assert not site_build.is_check_only("acc = model.evaluate(x, y)\nassert acc > 0.9\n")
    assert not site_build.is_check_only("%timeit f()\n")


def test_a_copy_gets_the_note_and_the_original_keeps_its_widget():
    nb = {
        "metadata": {"widgets": {"state": {}}},
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "source": "w",
                "outputs": [
                    {
                        "output_type": "display_data",
                        "metadata": {},
                        "data": {
                            site_build.WIDGET_MIME: {"model_id": "x"},
                            "text/plain": "IntSlider()",
                        },
                    }
                ],
            }
        ],
    }
    copy, counts = site_build.prepare_notebook(nb)
    assert counts == {"folded": 0, "widgets": 1}
    assert "JupyterLab" in copy["cells"][0]["outputs"][0]["data"]["text/html"]
    assert "widgets" not in copy["metadata"]
    assert site_build.WIDGET_MIME in nb["cells"][0]["outputs"][0]["data"]  # not edited


def test_a_folder_that_is_not_a_site_is_never_replaced(tmp_path):
    built = tmp_path / "built"
    built.mkdir()
    (built / "index.html").write_text("new")
    other = tmp_path / "notes"
    other.mkdir()
    (other / "mine.txt").write_text("keep me")
    with pytest.raises(site_build.SiteError, match="not a site"):
        site_build._replace_site(built, other)
    assert (other / "mine.txt").read_text() == "keep me"
    site_build._replace_site(built, tmp_path / "site")
    (built / "index.html").write_text("newer")
    site_build._replace_site(built, tmp_path / "site")  # an earlier site is replaced
    assert (tmp_path / "site" / "index.html").read_text() == "newer"


def test_the_site_is_git_ignored():
    git = shutil.which("git")
    if not git or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    for path in ("site/index.html", ".cache/site/x"):
        result = subprocess.run([git, "check-ignore", "-q", path], cwd=ROOT)
        assert result.returncode == 0, f"{path} is not git-ignored"
    assert site_build.default_out() == ROOT / "site"


# --- in a real browser -------------------------------------------------------------------------


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
        pass


@pytest.fixture(scope="module")
def browser_page(site, tmp_path_factory, chromium, sync_playwright):
    """Chromium on the site, served from 127.0.0.1; every other request is blocked and kept."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(_Quiet, directory=str(site["out"]))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    blocked: list[str] = []
    failed: list[str] = []

    def route(request_route):
        host = urlsplit(request_route.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            request_route.continue_()
        else:
            blocked.append(request_route.request.url)
            request_route.abort()

    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=chromium, headless=True, chromium_sandbox=False, args=CHROMIUM_FLAGS
            )
            try:
                context = browser.new_context()
                context.set_default_timeout(TIMEOUT_MS)
                context.route("**/*", route)
                page = context.new_page()
                # A request the page itself cancels as the next test navigates away (the
                # favicon, say) fails as net::ERR_ABORTED; a missing file answers 404 below.
                page.on(
                    "requestfailed",
                    lambda r: (
                        failed.append(f"{r.url} ({r.failure})")
                        if r.url not in blocked and "ERR_ABORTED" not in (r.failure or "")
                        else None
                    ),
                )
                page.on(
                    "response",
                    lambda r: failed.append(f"{r.url} ({r.status})") if r.status >= 400 else None,
                )
                yield {
                    "page": page,
                    "base": f"http://127.0.0.1:{server.server_address[1]}",
                    "blocked": blocked,
                    "failed": failed,
                    "shot": tmp_path_factory.mktemp("shots"),
                }
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    assert not blocked, f"the site asked for resources from other hosts: {blocked}"


def _open(browser_page, stem: str):
    page = browser_page["page"]
    page.goto(f"{browser_page['base']}/{stem}.html", wait_until="load")
    return page


def _nothing_failed_or_left_the_machine(browser_page) -> None:
    assert not browser_page["blocked"], (
        f"the page asked for resources from other hosts: {browser_page['blocked']}"
    )
    assert not browser_page["failed"], f"requests that failed: {browser_page['failed']}"


def _images_load(page) -> int:
    page.wait_for_function(
        "() => [...document.querySelectorAll('article img')].every(img => img.complete)"
    )
    sizes = page.eval_on_selector_all("article img", "imgs => imgs.map(i => i.naturalWidth)")
    assert sizes and all(width > 0 for width in sizes), f"images that did not load: {sizes}"
    return len(sizes)


def _visible_text_outside_code(page) -> str:
    return page.evaluate("""() => {
        const article = document.querySelector('article').cloneNode(true);
        article.querySelectorAll('pre, code, mjx-container, script, style')
               .forEach(e => e.remove());
        return article.textContent;
    }""")


@pytest.mark.slow
@pytest.mark.browser
def test_chapter_2_maths_is_typeset_and_its_images_load(browser_page):
    page = _open(browser_page, _chapter("02").stem)
    try:
        page.wait_for_function("""() => {
            const maths = document.querySelectorAll('article .math');
            return maths.length > 0
                && [...maths].every(m => m.querySelector('mjx-container'));
        }""")
        assert page.locator("article .math").count() >= 5
        assert page.locator("mjx-merror").count() == 0, "MathJax could not typeset some TeX"
        text = _visible_text_outside_code(page)
        assert "$$" not in text and "\\frac" not in text and "\\(" not in text, (
            "raw TeX shows on the page"
        )
        assert _images_load(page) >= 3
        _nothing_failed_or_left_the_machine(browser_page)
    except Exception:
        page.screenshot(path=str(browser_page["shot"] / "chapter2.png"), full_page=True)
        raise


@pytest.mark.slow
@pytest.mark.browser
def test_chapter_8_shows_its_hangul_and_plots(browser_page):
    page = _open(browser_page, _chapter("08").stem)
    try:
        hangul = _visible_text_outside_code(page)
        assert len(re.findall(r"[\uac00-\ud7af]", hangul)) > 20
        assert page.get_by_text("일상다반사").first.is_visible()
        # The page drew its Hangul with the site's own font (this machine may have none).
        page.wait_for_function("""() => [...document.fonts].some(f =>
            f.family.replace(/["']/g, '') === 'NanumGothic' && f.status === 'loaded')""")
        assert page.evaluate("() => document.fonts.check('16px NanumGothic', '한글')")
        assert _images_load(page) >= 2
        assert page.locator(".course-widget-note").first.is_visible()
        _nothing_failed_or_left_the_machine(browser_page)
    except Exception:
        page.screenshot(path=str(browser_page["shot"] / "chapter8.png"), full_page=True)
        raise


@pytest.mark.slow
@pytest.mark.browser
def test_the_home_page_links_to_every_chapter(browser_page):
    page = _open(browser_page, "index")
    for path in CHAPTERS:
        assert page.locator(f'article a[href="{path.stem}.html"]').count() >= 1, path.stem
    page.locator(f'article a[href="{CHAPTERS[0].stem}.html"]').first.click()
    page.wait_for_url(f"**/{CHAPTERS[0].stem}.html")
    _nothing_failed_or_left_the_machine(browser_page)
