"""The companion book (book/): it builds offline with warnings as errors, every page of its
table of contents exists, every internal link and anchor resolves, nothing is loaded from
the network, and in a real browser (headless Chromium, pages opened from file://) every
formula is typeset by the MathJax copy inside the book and every image loads.

Needs jupyter-book>=1.0.4,<2, selenium, Chromium with its driver (Debian: chromium,
chromium-driver) and, the first time, npm (MathJax is installed into book/_vendor).
With CI set, anything missing is a failure; elsewhere these tests skip and say why.
The book is built once per session, into a temporary directory, by scripts/build_book.sh.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from book_reader import LAYOUT_JS, MIN_VIEWER_WIDTH, page_defects

# Building the book takes about a minute, and the browser checks need Chromium.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
IN_CI = bool(os.environ.get("CI"))

# The article's numbering and headings (sections 1-6), as the book's pages must show them.
CHAPTER_HEADINGS = {
    "chapters/01_background": ["1 背景介绍"],
    "chapters/02_concepts": ["2 核心概念与联系", "2.1 生成模型", "2.2 图像生成", "2.3 联系"],
    "chapters/03_algorithm": ["3 核心算法原理和具体操作步骤以及数学模型公式详细讲解", "3.1 生成器（Generator）",
                              "3.2 判别器（Discriminator）", "3.3 生成模型的训练", "3.4 数学模型公式详细讲解"],
    "chapters/04_code": ["4 具体代码实例和详细解释说明", "4.1 生成器代码实例", "4.2 判别器代码实例",
                         "4.3 训练代码实例"],
    "chapters/05_future": ["5 未来发展趋势与挑战", "5.1 未来发展趋势", "5.2 挑战"],
    "chapters/06_faq": ["6 附录常见问题与解答", "6.1 常见问题1", "6.2 常见问题2", "6.3 常见问题3"],
}
# Pages that must contain typeset formulas and pictures.
MATH_PAGES = {"intro", "chapters/01_background", "chapters/02_concepts", "chapters/03_algorithm",
              "chapters/05_future", "chapters/06_faq", "appendix/derivations", "appendix/errata"}
IMAGE_PAGES = {"chapters/01_background", "chapters/02_concepts", "chapters/03_algorithm", "chapters/05_future"}


def toc_docnames() -> list[str]:
    """Every document named in book/_toc.yml (root, chapters, sections), in order."""
    text = (BOOK / "_toc.yml").read_text(encoding="utf-8")
    names = re.findall(r"^\s*(?:-\s*)?(?:root|file):\s*([^\s#]+)", text, flags=re.M)
    return [re.sub(r"\.(md|ipynb)$", "", n) for n in names]


DOCNAMES = toc_docnames()


def unavailable(what: str) -> None:
    """A missing tool: a failure in CI, a skip (with the reason) on a learner's machine."""
    if IN_CI:
        pytest.fail(f"CI needs {what}", pytrace=False)
    pytest.skip(f"book tests need {what}")


def find_jupyter_book() -> str | None:
    beside = Path(sys.executable).parent / "jupyter-book"
    return str(beside) if beside.exists() else shutil.which("jupyter-book")


# ---------------------------------------------------------------------------------------
# The build


@pytest.fixture(scope="session")
def built_book(tmp_path_factory) -> Path:
    """Build the book once with scripts/build_book.sh; return its HTML directory."""
    jb = find_jupyter_book()
    if jb is None:
        unavailable("jupyter-book>=1.0.4,<2 (pip install 'jupyter-book>=1.0.4,<2')")
    if (not os.environ.get("MATHJAX_ES5_DIR") and shutil.which("npm") is None
            and not (BOOK / "_vendor/node_modules/mathjax/es5/tex-chtml-full.js").is_file()):
        unavailable("npm, to install MathJax into book/_vendor (Debian: apt-get install npm)")
    out = tmp_path_factory.mktemp("book")
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(jb).parent), os.environ.get("PATH", "")]))
    proc = subprocess.run(["bash", str(ROOT / "scripts/build_book.sh"), "--out", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        pytest.fail(f"scripts/build_book.sh failed (exit {proc.returncode}):\n{log[-6000:]}", pytrace=False)
    assert re.search(r"built \d+ pages", log), log[-2000:]
    return out / "_build" / "html"


def test_every_toc_page_is_built_with_the_articles_headings(built_book):
    missing = [d for d in DOCNAMES if not (built_book / f"{d}.html").is_file()]
    assert not missing, f"pages of _toc.yml missing from the build: {missing}"
    assert set(CHAPTER_HEADINGS) <= set(DOCNAMES), "the six chapters must be in _toc.yml"
    for doc, headings in CHAPTER_HEADINGS.items():
        text = re.sub(r"<[^>]+>", "", (built_book / f"{doc}.html").read_text(encoding="utf-8"))
        text = re.sub(r"\s+", " ", text.replace("\xa0", " "))
        for heading in headings:
            assert heading in text, f"{doc}: heading {heading!r} not found"


class _Page(HTMLParser):
    """Collects a page's ids and the URLs it refers to (href of a/link, src of img/script...)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, url)
        self.stylesheets: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if a.get(key):
                self.ids.add(a[key])
        for key in ("href", "src"):
            if a.get(key) is not None:
                self.urls.append((tag, key, a[key]))
        if tag == "link" and "stylesheet" in (a.get("rel") or ""):
            self.stylesheets.append(a.get("href") or "")


def _parse_all(html_dir: Path) -> dict[Path, _Page]:
    pages = {}
    for path in sorted(html_dir.rglob("*.html")):
        page = _Page()
        page.feed(path.read_text(encoding="utf-8"))
        pages[path] = page
    return pages


@pytest.fixture(scope="session")
def parsed(built_book) -> dict[Path, _Page]:
    return _parse_all(built_book)


def test_internal_links_and_anchors_resolve(built_book, parsed):
    broken = []
    for path, page in parsed.items():
        if path.parent.name == "_static":
            continue  # the theme's template fragments, not pages
        for tag, attr, url in page.urls:
            parts = urlsplit(url)
            if parts.scheme or url.startswith("//"):
                continue  # external (checked by test_nothing_is_loaded_from_the_network)
            target = path if not parts.path else (path.parent / unquote(parts.path)).resolve()
            where = f"{path.relative_to(built_book)}: <{tag} {attr}={url!r}>"
            if not target.exists():
                broken.append(f"{where}: no file {target}")
            elif parts.fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else _parse_all(target.parent)[target].ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{where}: no anchor #{parts.fragment}")
    assert not broken, "\n".join(broken[:50])


def test_nothing_is_loaded_from_the_network(built_book, parsed):
    remote = []
    for path, page in parsed.items():
        for tag, attr, url in page.urls:
            external = bool(urlsplit(url).scheme in ("http", "https") or url.startswith("//"))
            if external and (tag in ("script", "img", "iframe") or url in page.stylesheets):
                remote.append(f"{path.relative_to(built_book)}: <{tag} {attr}={url}>")
    assert not remote, "\n".join(remote)
    # MathJax is served from the book itself: script, fonts, and the script tag pointing at it.
    mathjax = built_book / "_static/mathjax"
    assert (mathjax / "tex-chtml-full.js").is_file()
    assert any((mathjax / "output/chtml/fonts/woff-v2").glob("*.woff"))
    for doc in MATH_PAGES:
        scripts = [u for t, a, u in parsed[built_book / f"{doc}.html"].urls if t == "script"]
        assert any(u.endswith("_static/mathjax/tex-chtml-full.js") for u in scripts), f"{doc}: no local MathJax"


# ---------------------------------------------------------------------------------------
# In a real browser


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium driven by Selenium; every host name is unresolvable (offline)."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        unavailable("selenium (pip install selenium)")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists()
                                                   else None)
    if chromium is None or driver_path is None:
        unavailable("Chromium and its driver (Debian: apt-get install chromium chromium-driver)")
    profile = tempfile.mkdtemp(prefix="book-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1280,900",
                "--host-resolver-rules=MAP * ~NOTFOUND"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_script_timeout(30)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


# Waits for the page, its images, MathJax's typesetting and fonts; then reports.
REPORT_JS = r"""
const done = arguments[arguments.length - 1];
// Read once the document is complete (a cold first page may run this before its head is parsed).
let hasMathJax = false;
function report() {
  const main = document.querySelector('main') || document.body;
  const clone = main.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, .highlight, mjx-assistive-mml').forEach(e => e.remove());
  const maths = [...document.querySelectorAll('.math')];
  done({
    mathjax: hasMathJax ? (window.MathJax && MathJax.version) || null : 'none',
    maths: maths.length,
    untypeset: maths.filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 80)),
    containers: document.querySelectorAll('mjx-container').length,
    errors: [...document.querySelectorAll('mjx-merror')].map(e => e.textContent.slice(0, 80)),
    tooWide: [...document.querySelectorAll('mjx-container[display="true"]')]
      .filter(c => c.scrollWidth > c.clientWidth + 1)
      .map(c => (c.closest('[id]') || {id: '?'}).id + ': ' + c.textContent.slice(0, 40)),
    text: clone.textContent,
    images: [...document.images].map(i => ({src: i.src, ok: i.complete && i.naturalWidth > 0})),
    fonts: [...document.fonts].filter(f => f.family.replace(/"/g, '').startsWith('MJX')).map(f => f.status),
  });
}
function wait() {
  if (document.readyState !== 'complete') return setTimeout(wait, 50);
  hasMathJax = !!document.querySelector('script[src*="mathjax"]');
  if (!hasMathJax) return report();
  if (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) return setTimeout(wait, 50);
  MathJax.startup.promise.then(() => document.fonts.ready).then(report, e => done({failed: String(e)}));
}
wait();
"""

RAW_TEX = ("$$", "\\(", "\\)", "\\[", "\\]", "\\begin{", "\\frac", "\\mathbb", "\\log")


@pytest.mark.parametrize("doc", DOCNAMES)
def test_page_in_browser_typesets_formulas_and_loads_images(built_book, browser, doc):
    browser.get((built_book / f"{doc}.html").as_uri())
    r = browser.execute_async_script(REPORT_JS)
    assert "failed" not in r, f"{doc}: MathJax failed: {r.get('failed')}"
    if doc in MATH_PAGES:
        assert r["mathjax"] and r["mathjax"].startswith("3."), f"{doc}: MathJax 3 did not load ({r['mathjax']})"
        assert r["maths"] > 0, f"{doc}: expected formulas on this page"
    assert not r["untypeset"], f"{doc}: formulas left as TeX: {r['untypeset'][:5]}"
    assert r["containers"] >= r["maths"]
    assert not r["errors"], f"{doc}: MathJax errors: {r['errors']}"
    # At the window width of 1280 px every display formula fits its column (no sideways
    # scrolling): a long one is broken over lines with aligned/gathered.
    assert not r["tooWide"], f"{doc}: display formulas wider than the text column: {r['tooWide']}"
    leftover = [t for t in RAW_TEX if t in r["text"]]
    assert not leftover, f"{doc}: raw TeX {leftover} left in the page text"
    if r["maths"]:
        assert "loaded" in r["fonts"], f"{doc}: MathJax's fonts did not load from the book ({r['fonts']})"
    if doc in IMAGE_PAGES:
        assert r["images"], f"{doc}: expected figures on this page"
    bad = [i["src"] for i in r["images"] if not i["ok"]]
    assert not bad, f"{doc}: images that did not load: {bad}"
    severe = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not severe, f"{doc}: browser console errors: {severe}"


# ---------------------------------------------------------------------------------------
# The training viewer (minigan.viewer) embedded in chapter 3's notebook


def test_chapter_3_notebook_page_has_a_working_training_viewer(built_book, browser):
    """The notebook's JavaScript animation survives the build unsanitised, the page stays
    under 5 MB, and in the browser the slider moves the picture (offline: no icon font)."""
    page = built_book / "notebooks/03_algorithm.html"
    html = page.read_text(encoding="utf-8")
    assert page.stat().st_size < 5_000_000, f"{page.name} is {page.stat().st_size / 1e6:.1f} MB"
    assert re.search(r'<input[^>]*type="range"[^>]*class="anim-slider"', html), "no animation slider in the page"
    assert "font-awesome" not in html
    browser.get(page.as_uri())
    r = browser.execute_async_script(r"""
const done = arguments[arguments.length - 1];
function check() {
  const slider = document.querySelector('input.anim-slider');
  const img = slider && slider.closest('.animation').querySelector('img');
  if (!img || !img.complete || !img.naturalWidth) return setTimeout(check, 50);
  const first = img.src;
  slider.value = slider.max;
  slider.dispatchEvent(new Event('input'));
  const buttons = [...slider.closest('.animation').querySelectorAll('button')].map(b => b.textContent.trim());
  setTimeout(() => done({frames: +slider.max + 1, changed: img.src !== first, buttons: buttons}), 100);
}
check();
""")
    assert r["frames"] >= 10 and r["changed"], r
    assert all(r["buttons"]) and len(r["buttons"]) >= 7, f"buttons without a label: {r['buttons']}"


# ---------------------------------------------------------------------------------------
# The reader test (issue 23): the book as a reader sees it; tests/book_reader.py has the
# checks, tests/test_book_reader.py shows each text check failing on its defect.


def test_reader_every_page_has_no_raw_tex_stars_gaps_or_english_headers(built_book):
    """Over every page's text outside code and maths: raw $...$ or \\command, visible **,
    a space between two Chinese characters, English-only table headers on Chinese pages."""
    found = []
    for doc in DOCNAMES:
        for kind, excerpt in page_defects((built_book / f"{doc}.html").read_text(encoding="utf-8")):
            found.append(f"{doc}: {kind}: {excerpt!r}")
    assert not found, f"{len(found)} defects a reader sees:\n" + "\n".join(found[:40])


@pytest.mark.parametrize("doc", DOCNAMES)
def test_reader_layout_at_1280_px(built_book, browser, doc):
    """Nothing wider than the text column (a wide table scrolls with its first column in
    view), and a training viewer at least 640 px wide."""
    browser.get((built_book / f"{doc}.html").as_uri())
    r = browser.execute_async_script(LAYOUT_JS)
    assert not r["wide"], f"{doc} (column {r['column']} px): {r['wide']}"
    assert all(w >= MIN_VIEWER_WIDTH for w in r["viewers"]), f"{doc}: training viewer {r['viewers']} px wide"
    if doc == "notebooks/03_algorithm":
        assert r["viewers"], "chapter 3's notebook page should show the training viewer"


def test_reader_layout_checks_fail_on_their_defects(browser, tmp_path):
    """A page made by hand: a table and a picture wider than the column, a table that
    scrolls without keeping its first column, a viewer 388 px wide: each is reported."""
    wide_row = "".join(f"<td>column {k} with some text</td>" for k in range(30))
    pixel = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"
    page = tmp_path / "defects.html"
    page.write_text(f"""<!DOCTYPE html><html><body><article class="bd-article" style="width: 600px">
<table id="too-wide"><tbody><tr>{wide_row}</tr></tbody></table>
<div class="pst-scrollable-table-container" style="overflow-x: auto">
  <table id="scrolls"><tbody><tr>{wide_row}</tr></tbody></table></div>
<img id="big" alt="big" style="width: 900px" src="{pixel}">
<div class="animation"><img style="width: 388px" src="{pixel}"></div>
</article></body></html>""", encoding="utf-8")
    browser.get(page.as_uri())
    r = browser.execute_async_script(LAYOUT_JS)
    assert any(w.startswith("table too-wide") for w in r["wide"]), r
    assert any(w.startswith("table scrolls, first column not kept: scrolls") for w in r["wide"]), r
    assert any(w.startswith("picture big") for w in r["wide"]), r
    assert r["viewers"] == [388]
