"""Shared helpers that the notebooks import: one concern a module."""
