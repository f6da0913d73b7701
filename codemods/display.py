"""Where a run's output goes: per-file lines on stderr, diffs on stdout, live progress on a terminal.

Built on rich (chosen over tqdm because one maintained library then gives the three things the
command line needs: a progress display that prints lines above itself, terminal and colour
detection that honours ``NO_COLOR`` / ``FORCE_COLOR`` / ``TERM=dumb``, and ANSI styles for the
diff). Diff text is never re-flowed: each line is wrapped in its style's escape codes as is
(tabs and trailing spaces kept), and written raw when stdout is not the display's terminal.
The display is drawn by the parent process only, and started after the worker pool.
"""

from __future__ import annotations

import os
import sys
from typing import Literal, TextIO

from rich.console import COLOR_SYSTEMS, Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.style import Style
from rich.text import Text

Color = Literal["auto", "always", "never"]

_DIFF_STYLES = {"+++": Style(bold=True), "---": Style(bold=True), "@@": Style(color="cyan"), "+": Style(color="green")}
_DIFF_STYLES["-"] = Style(color="red")


class _RateColumn(ProgressColumn):
    """Files per second."""

    def render(self, task: Task) -> Text:
        """The rate of ``task`` in files per second."""
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} files/s" if speed else "", style="progress.data.speed")


def _style_of(line: str) -> Style | None:
    for prefix in ("+++", "---", "@@", "+", "-"):
        if line.startswith(prefix):
            return _DIFF_STYLES[prefix]
    return None


class Display:
    """The run's output; use as a context manager around the run (``start`` once the pool is up)."""

    def __init__(
        self, *, total: int, color: Color = "auto", quiet: bool = False, stdout: TextIO | None = None,
        stderr: TextIO | None = None,
    ) -> None:  # fmt: skip
        self.out = stdout or sys.stdout
        self.err = stderr or sys.stderr
        self.total = total
        forced = {"always": True, "never": False}.get(color)
        diff_console = Console(file=self.out, force_terminal=forced, no_color=color == "never")
        system = diff_console.color_system if color != "never" else None
        if color == "always" and system is None:
            system = "standard"
        self._diff_colors = COLOR_SYSTEMS[system] if system else None
        self.live = not quiet and total > 0 and _is_terminal(self.err)
        self._progress: Progress | None = None
        self._task = None

    def start(self) -> None:
        """Start the live progress display (on a terminal, unless quiet)."""
        if not self.live or self._progress is not None:
            return
        console = Console(file=self.err)
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            _RateColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._progress.start()
        self._task = self._progress.add_task("migrating", total=self.total)

    def stop(self) -> None:
        """Remove the live display (idempotent)."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __enter__(self) -> Display:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def advance(self, files: int) -> None:
        """``files`` more files are examined."""
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, files)

    def line(self, text: str) -> None:
        """One line on stderr (above the live display when there is one)."""
        if self._progress is not None:
            self._progress.console.print(Text(text), soft_wrap=True)
        else:
            self.err.write(text + "\n")
            self.err.flush()

    def diff(self, text: str) -> None:
        """A unified diff on stdout, coloured when asked (``--color``) or when stdout is a colour terminal."""
        if self._progress is not None and _is_terminal(self.out):
            for line in text.splitlines():
                self._progress.console.print(Text(line, style=_style_of(line) or ""), soft_wrap=True)
            return
        if self._diff_colors is not None:
            text = "".join(_colored(line, self._diff_colors) for line in text.splitlines(keepends=True))
        self.out.write(text)
        self.out.flush()


def _colored(line: str, system: object) -> str:
    style = _style_of(line)
    if style is None:
        return line
    body = line.rstrip("\r\n")
    return style.render(body, color_system=system) + line[len(body) :]  # type: ignore[arg-type]


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False
