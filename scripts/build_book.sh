#!/usr/bin/env bash
# Build the companion book (book/) to static HTML: offline, warnings are errors.
#
#   bash scripts/build_book.sh [--out DIR] [--figures] [--screenshot]
#
#   --out DIR      write the book to DIR/_build/html (default: book/_build/html)
#   --figures      first redraw book/figures/*.png from minigan (book/figures/make_figures.py)
#   --screenshot   afterwards save book/screenshot.png (the top of chapter 3, with typeset
#                  formulas) with headless Chromium
#
# Needs, in the active Python environment: minigan installed (the API appendix imports
# it) and jupyter-book>=1.0.4,<2.  Needs npm (Node.js) only the first time: MathJax 3 is
# installed with npm into book/_vendor/ (inside the repository, git-ignored; nothing is
# installed globally) and copied into the built book, so the book needs no CDN and works
# from file://.  MATHJAX_ES5_DIR=/path/to/mathjax/es5 uses another copy instead.
# --screenshot needs chromium (Debian: apt-get install chromium).
#
# Prints the build time and the number of pages; exits non-zero on any warning.
set -euo pipefail
cd "$(dirname "$0")/.."

out=book
figures=0
screenshot=0
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out="${2:?--out needs a directory}"; shift 2 ;;
        --figures) figures=1; shift ;;
        --screenshot) screenshot=1; shift ;;
        -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "build_book.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

die() { echo "build_book.sh: $*" >&2; exit 1; }

jb=$(command -v jupyter-book) || die "jupyter-book not found; install it with: pip install 'jupyter-book>=1.0.4,<2'"
version=$("$jb" --version 2>/dev/null | sed -n 's/^Jupyter Book *: *//p')
case "$version" in
    1.*) ;;
    *) die "need Jupyter Book 1.x (2.x fetches its theme at build time and cannot build offline); found '${version:-unknown}'" ;;
esac
python="$(dirname "$jb")/python"
[ -x "$python" ] || python=python3
"$python" -c "import minigan" 2>/dev/null \
    || die "'import minigan' fails in the Python that runs jupyter-book ($python); run: pip install -e ."

if [ -z "${MATHJAX_ES5_DIR:-}" ] && [ ! -f book/_vendor/node_modules/mathjax/es5/tex-chtml-full.js ]; then
    command -v npm >/dev/null || die "MathJax is not installed under book/_vendor and npm is missing (Debian: apt-get install npm)"
    echo "build_book.sh: installing MathJax 3 into book/_vendor (npm, once)"
    npm install --prefix book/_vendor --no-audit --no-fund --loglevel=error mathjax@3 >/dev/null
fi

if [ "$figures" = 1 ]; then
    "$python" book/figures/make_figures.py
fi

html="$out/_build/html"
rm -rf "$out/_build"
start=$(date +%s%N)
"$jb" build --all -W -n --keep-going --path-output "$out" book
end=$(date +%s%N)

# No page may load anything from the network.
if grep -rlE '<script[^>]+src="(https?:)?//|<link[^>]+href="(https?:)?//[^"]+\.css' "$html" --include='*.html'; then
    die "the pages above load a script or stylesheet from the network"
fi

# Pages = the documents of _toc.yml (Sphinx also writes an index, a search page and
# highlighted source listings of minigan's modules, counted separately).
pages=$(find "$html" -name '*.html' -not -path "$html/_*" -not -name genindex.html -not -name search.html \
    -not -name py-modindex.html -not -name index.html | wc -l)
listings=$(find "$html/_modules" -name '*.html' 2>/dev/null | wc -l)
ms=$(( (end - start) / 1000000 ))
printf 'build_book.sh: built %s pages (+ %s source listings, index, search) in %d.%d s: %s/index.html\n' \
    "$pages" "$listings" $((ms / 1000)) $((ms % 1000 / 100)) "$html"

if [ "$screenshot" = 1 ]; then
    chromium=$(command -v chromium || command -v chromium-browser || command -v google-chrome) \
        || die "--screenshot needs chromium (Debian: apt-get install chromium)"
    profile=$(mktemp -d)
    "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" --hide-scrollbars --window-size=1200,900 \
        --virtual-time-budget=10000 --screenshot=book/screenshot.png \
        "file://$(cd "$html" && pwd)/chapters/03_algorithm.html" 2>/dev/null
    rm -rf "$profile"
    echo "build_book.sh: wrote book/screenshot.png"
fi
