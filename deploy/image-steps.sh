#!/usr/bin/env bash
# The Dockerfile's install steps as a plain script (no Docker engine runs on CI machines):
# a clean, non-editable install of the package into a fresh venv, then the image's entry
# point. It proves the wheel carries what the image needs (templates, lexicons, demo site).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet --upgrade pip
"$tmp/venv/bin/pip" install --quiet '.[browser]'  # Playwright: pages built by script
cd "$tmp"
"$tmp/venv/bin/govmon" --version
"$tmp/venv/bin/govmon" daemon --help >/dev/null
"$tmp/venv/bin/govmon" worker --help >/dev/null
"$tmp/venv/bin/python" -c "import crawler.scale.jobqueue"  # procrastinate and psycopg came with it
"$tmp/venv/bin/python" -c "import playwright.async_api, checks.readers.render"  # the browser extra
# package data the image needs at run time
"$tmp/venv/bin/python" - <<'PY'
from importlib.resources import files
assert (files("checks") / "data" / "typos.tsv").is_file()
assert (files("crawler") / "reports" / "templates" / "report.html").is_file()
assert (files("crawler") / "demo" / "district.toml").is_file()
print("image install steps: ok")
PY
"$tmp/venv/bin/govmon" demo --output "$tmp/demo" >/dev/null
test -s "$tmp/demo/report.json"
echo "image entry point: ok (demo report written)"
