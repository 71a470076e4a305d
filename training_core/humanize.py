"""Numbers as people read them, shared by the CLI and the app."""

from __future__ import annotations


def duration(seconds: float) -> str:
    """Seconds as h:mm:ss; "…" while unknown (no rate measured yet)."""
    if seconds != seconds or seconds == float("inf"):
        return "…"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def display_path(path) -> str:
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
