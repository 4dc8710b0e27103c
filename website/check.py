"""Checks of a built site: nothing is loaded from another host, and every internal link resolves.

Used by the build (which warns) and by tests/test_site.py (which fails). HTML and CSS are read
exactly: every attribute and CSS rule that makes a browser load something must point into the
site. JavaScript cannot be read that way, so every absolute URL in a script must be one of
:data:`KNOWN_SCRIPT_URLS`, each with the reason it is never fetched; a new one fails the tests
until someone looks at it. tests/test_site_browser.py then proves the same thing in Chromium,
by blocking and recording every request that leaves the loopback interface.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

# Attributes through which an HTML element makes the browser fetch something.
LOADING_ATTRIBUTES = {
    "script": ("src",),
    "link": ("href",),  # stylesheets, preloads, icons, manifests (Sphinx writes no other kind)
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "iframe": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "input": ("src",),
    "image": ("href", "xlink:href"),
    "use": ("href", "xlink:href"),
}
# Attributes that only navigate (a click), checked as internal links when relative.
LINK_ATTRIBUTES = {"a": ("href",), "area": ("href",)}

# Absolute URLs that appear inside the site's scripts but are never fetched by them.
KNOWN_SCRIPT_URLS = {
    # MathJax's speech-rule engine (tex-chtml.js, ui/menu.js, a11y/sre.js): its built-in
    # defaults. MathJax sets the engine's path to its own copy ([mathjax]/sre/mathmaps, shipped
    # in the site); the IE maps and the XPath polyfill are for browsers without XPath (IE).
    "https://cdn.jsdelivr.net/npm/speech-rule-engine@": "a default MathJax overrides",
    "https://cdn.jsdelivr.net/npm/sre-mathmaps-ie@": "Internet Explorer only",
    "https://cdn.jsdelivr.net/npm/wicked-good-xpath@": "browsers without XPath only",
    "https://www.mathjax.org": "a link in MathJax's About box",
    "https://github.com/mhchem/": "a licence comment (MathJax's mhchem extension)",
    "http://www.apache.org/licenses/": "a licence comment",
    "https://pydata-sphinx-theme.readthedocs.io/": "a link in a console warning of the theme",
    "https://developer.mozilla.org/": "a comment in Sphinx's search code",
    "https://clipboardjs.com/": "a licence comment (clipboard.js)",
}
# Names, not addresses: XML namespaces and the like, which browsers never fetch.
NAMESPACE_HOSTS = ("www.w3.org",)

_ABSOLUTE_IN_TEXT = re.compile(r"""https?://[A-Za-z0-9.-]+[^\s"'`()<>\\]*""")
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]*)\1\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\(\s*)?['"]?([^'");\s]+)""", re.IGNORECASE)


def is_remote(url: str) -> bool:
    """True when fetching ``url`` from a page of the site would leave the site's host."""
    url = url.strip()
    if url.startswith("//"):
        return True
    scheme = urlsplit(url).scheme.lower()
    return scheme not in ("", "data", "blob", "about", "javascript", "mailto", "tel")


def _is_internal(url: str) -> bool:
    url = url.strip()
    return (
        bool(url)
        and not url.startswith("#")
        and urlsplit(url).scheme == ""
        and not url.startswith("//")
    )


def _srcset_urls(value: str) -> list[str]:
    return [part.strip().split()[0] for part in value.split(",") if part.strip()]


class _Page(HTMLParser):
    """Collects what an HTML page loads, what it links to, and its inline scripts and styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.loads: list[tuple[str, str]] = []  # (where, url)
        self.links: list[str] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        for name in LOADING_ATTRIBUTES.get(tag, ()):
            if name in values:
                urls = _srcset_urls(values[name]) if name == "srcset" else [values[name]]
                self.loads += [(f"<{tag} {name}>", url) for url in urls]
        for name in LINK_ATTRIBUTES.get(tag, ()):
            if name in values:
                self.links.append(values[name])
        if "style" in values:
            self.styles.append(values["style"])
        self._in = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.scripts.append(data)
        elif self._in == "style":
            self.styles.append(data)


def _css_refs(css: str) -> list[str]:
    return [m.group(2) for m in _CSS_URL.finditer(css)] + [
        m.group(1) for m in _CSS_IMPORT.finditer(css)
    ]


def _unexplained_script_urls(text: str) -> list[str]:
    found = []
    for url in _ABSOLUTE_IN_TEXT.findall(text):
        host = urlsplit(url).hostname or ""
        if host in NAMESPACE_HOSTS or any(url.startswith(known) for known in KNOWN_SCRIPT_URLS):
            continue
        found.append(url)
    return found


def _files(site: Path):
    """Each page, stylesheet and script of ``site``: ``(path, relative name, suffix, page, text)``.

    ``page`` is the parsed HTML (``None`` for CSS and scripts).
    """
    for path in sorted(site.rglob("*")):
        suffix = path.suffix.lower()
        if not path.is_file() or suffix not in (".html", ".htm", ".css", ".js", ".mjs"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        page = None
        if suffix in (".html", ".htm"):
            page = _Page()
            page.feed(text)
        yield path, path.relative_to(site).as_posix(), suffix, page, text


def remote_loads(site: Path) -> list[str]:
    """Everything in ``site`` that would make a browser fetch from another host (empty: none)."""
    problems = []
    for _, rel, suffix, page, text in _files(Path(site)):
        if page is not None:
            problems += [f"{rel}: {where} {url}" for where, url in page.loads if is_remote(url)]
            for css in page.styles:
                problems += [
                    f"{rel}: inline style {url}" for url in _css_refs(css) if is_remote(url)
                ]
            for script in page.scripts:
                problems += [
                    f"{rel}: inline script {url}" for url in _unexplained_script_urls(script)
                ]
        elif suffix == ".css":
            problems += [f"{rel}: css {url}" for url in _css_refs(text) if is_remote(url)]
        else:
            problems += [f"{rel}: script {url}" for url in _unexplained_script_urls(text)]
    return problems


def _target(base: Path, url: str) -> Path:
    parts = urlsplit(url.strip())
    target = (base / unquote(parts.path)) if parts.path else base
    return target / "index.html" if target.is_dir() else target


def broken_links(site: Path) -> list[str]:
    """Internal links, page resources and CSS references that point at no file in ``site``."""
    site = Path(site).resolve()
    problems = []
    for path, rel, suffix, page, text in _files(site):
        if page is not None:
            refs = [url for _, url in page.loads] + page.links
            refs += [url for css in page.styles for url in _css_refs(css)]
        elif suffix == ".css":
            refs = _css_refs(text)
        else:
            continue
        for url in refs:
            if not _is_internal(url):
                continue
            target = _target(path.parent, url).resolve()
            if not target.is_file() or site not in target.parents:
                problems.append(f"{rel}: {url}")
    return problems


def internal_links(page: Path) -> list[str]:
    """The relative links (``<a href>``) of one page, without their fragments."""
    parser = _Page()
    parser.feed(Path(page).read_text(encoding="utf-8", errors="replace"))
    return [urlsplit(url).path for url in parser.links if _is_internal(url)]
