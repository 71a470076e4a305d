"""Numbers as people read them, shared by the CLI and the app."""

from __future__ import annotations

import os
from datetime import datetime, timezone


def duration(seconds: float) -> str:
    """Seconds as h:mm:ss; "…" while unknown (no rate measured yet)."""
    if seconds != seconds or seconds == float("inf"):
        return "…"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def display_path(path: str | os.PathLike[str]) -> str:
    """A path as text that any terminal, report or window can show.

    File names are bytes on POSIX; one that is not valid UTF-8 reaches Python
    with lone surrogates, which cannot be written as UTF-8. Those bytes are
    shown escaped (``broken-\\xe9.jpg``) instead of crashing whoever prints them.
    """
    text = str(path)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that is no escaped byte (a broken Windows name)
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def ago(stamp: str, now: datetime | None = None) -> str:
    """An ISO time stamp as "5 minutes ago", "yesterday at 14:05" or "on 3 Nov at 09:12" (local time)."""
    try:
        then = datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return "at an unknown time"
    if then.tzinfo is None:
        then = then.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    seconds = (now - then).total_seconds()
    local = then.astimezone()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        minutes = int(seconds // 60)
        return f"{minutes} minute{'s' * (minutes != 1)} ago"
    if seconds < 12 * 3600:
        hours = int(seconds // 3600)
        return f"{hours} hour{'s' * (hours != 1)} ago"
    if local.date() == now.astimezone().date():
        return f"today at {local:%H:%M}"
    if (now.astimezone().date() - local.date()).days == 1:
        return f"yesterday at {local:%H:%M}"
    return f"on {local.day} {local:%b %Y} at {local:%H:%M}"
