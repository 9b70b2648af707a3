"""A progress bar for long operations, drawn only on a terminal."""

from __future__ import annotations

import shutil
from typing import Self, TextIO

__all__ = ["Progress", "is_terminal"]

_MIN_BAR = 10


def is_terminal(stream: TextIO) -> bool:
    """Tell whether *stream* is a terminal; a closed or odd stream is not."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class Progress:
    """A one-line bar on *stream*, redrawn in place, e.g. ``Sending [#####.....] 40/80``.

    When *stream* is not a terminal (a pipe, a file, a test's capture), nothing at all is
    written, so scripts and logs stay clean.

    Args:
        total: How many steps make the whole.
        label: What is going on, shown before the bar.
        stream: Where to draw (standard error).
    """

    def __init__(self, total: int, label: str, stream: TextIO) -> None:
        self.total = max(total, 0)
        self.done = 0
        self.label = label
        self._stream = stream
        self.enabled = total > 0 and is_terminal(stream)

    def __enter__(self) -> Self:
        self._draw()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def advance(self, steps: int = 1) -> None:
        """Count *steps* more as done and redraw."""
        self.done = min(self.done + steps, self.total)
        self._draw()

    def close(self) -> None:
        """End the bar's line, leaving the last state on screen."""
        if self.enabled:
            self._stream.write("\n")
            self._stream.flush()
            self.enabled = False

    def _draw(self) -> None:
        if not self.enabled:
            return
        columns = shutil.get_terminal_size((80, 24)).columns
        counts = f"{self.done}/{self.total}"
        width = max(columns - len(self.label) - len(counts) - 5, _MIN_BAR)
        filled = width * self.done // self.total
        bar = "#" * filled + "." * (width - filled)
        self._stream.write(f"\r{self.label} [{bar}] {counts}")
        self._stream.flush()
