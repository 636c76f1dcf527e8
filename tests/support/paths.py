"""Where things are, for tests at any depth of ``tests/``."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]  # the clone: pyproject.toml, crawler/, docs/ ...
DEMO_SITE = REPO_ROOT / "crawler" / "demo" / "site"  # the bundled demo district's static files
