"""Numbers as people read them, shared by the CLI and the app."""

from __future__ import annotations


def duration(seconds: float) -> str:
    """Seconds as h:mm:ss; "…" while unknown (no rate measured yet)."""
    if seconds != seconds or seconds == float("inf"):
        return "…"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
