"""``python -m crawler``: the govmon command line."""

import sys

from crawler.cli import main

sys.exit(main())
