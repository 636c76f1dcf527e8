"""Configuration: a TOML file validated once, completely, into frozen value objects.

:mod:`crawler.config.model` holds the types (what lower layers import),
:mod:`crawler.config.load` reads and validates a file, :mod:`crawler.config.schedule` the
``[schedule]`` section and :mod:`crawler.config.errors` the :class:`ConfigError` every problem
raises (file, key, reason): a bad config never starts a scan.
"""

from __future__ import annotations

# the types first: the checks the loader imports read them from this package while it loads
from crawler.config.model import (
    CATEGORIES,
    DEFAULT_USER_AGENT,
    SITE_KINDS,
    ChecksSettings,
    Column,
    Config,
    ContentSettings,
    CrawlSettings,
    NewMedia,
    NewMediaSettings,
    Rules,
    Schedule,
    Site,
)

# isort: split
from crawler.config.errors import ConfigError
from crawler.config.load import load_config, parse_config, parse_when
from crawler.config.schedule import parse_schedule

__all__ = [
    "CATEGORIES",
    "DEFAULT_USER_AGENT",
    "SITE_KINDS",
    "ChecksSettings",
    "Column",
    "Config",
    "ConfigError",
    "ContentSettings",
    "CrawlSettings",
    "NewMedia",
    "NewMediaSettings",
    "Rules",
    "Schedule",
    "Site",
    "load_config",
    "parse_config",
    "parse_schedule",
    "parse_when",
]
