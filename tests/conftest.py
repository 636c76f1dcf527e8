"""Fixtures shared by several test modules."""

from tests.pgserver import pg, server  # noqa: F401  (pytest fixtures)
