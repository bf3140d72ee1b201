"""Recorded conversations bundled for ``reverie demo`` (copies of the project's seed recordings)."""
