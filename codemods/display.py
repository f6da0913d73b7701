"""Where a run's output goes: per-file lines on stderr, diffs on stdout, live progress on a terminal.

Built on rich (chosen over tqdm because one maintained library then gives the three things the
command line needs: a progress display that prints lines above itself, terminal and colour
detection that honours ``NO_COLOR`` / ``FORCE_COLOR`` / ``TERM=dumb``, and ANSI styles for the
diff). Diff text is never re-flowed: each line is wrapped in its style's escape codes as is
(tabs and trailing spaces kept), and written raw when stdout is not the display's terminal.
The display is drawn by the parent process only, and started after the worker pool. rich is
imported only when needed (a progress display, a coloured diff, deciding on colour): a run whose
output goes to a pipe starts its workers, and prints its first line, that much sooner.
"""

from __future__ import annotations

import functools
import os
import sys
from typing import TYPE_CHECKING, Literal, TextIO

if TYPE_CHECKING:
    from rich.progress import Progress
    from rich.style import Style

Color = Literal["auto", "always", "never"]

_DIFF_STYLES = {"+++": "bold", "---": "bold", "@@": "cyan", "+": "green", "-": "red"}


def _style_of(line: str) -> Style | None:
    from rich.style import Style  # noqa: PLC0415  (see the module docstring)

    for prefix in ("+++", "---", "@@", "+", "-"):
        if line.startswith(prefix):
            return Style.parse(_DIFF_STYLES[prefix])
    return None


def _progress(console: object, total: int) -> tuple[Progress, object]:
    """A started rich progress display of ``total`` files (files done / total, rate, ETA) on ``console``."""
    from rich.progress import (  # noqa: PLC0415  (see the module docstring)
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        Task,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text  # noqa: PLC0415

    class RateColumn(ProgressColumn):
        """Files per second."""

        def render(self, task: Task) -> Text:
            """The rate of ``task`` in files per second."""
            speed = task.finished_speed or task.speed
            return Text(f"{speed:,.0f} files/s" if speed else "", style="progress.data.speed")

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeRemainingColumn(),
        console=console,  # type: ignore[arg-type]
        transient=True,
        redirect_stdout=False,
        redirect_stderr=False,
    )
    progress.start()
    return progress, progress.add_task("migrating", total=total)


class Display:
    """The run's output; use as a context manager around the run (``start`` once the pool is up)."""

    def __init__(
        self, *, total: int, color: Color = "auto", quiet: bool = False, stdout: TextIO | None = None,
        stderr: TextIO | None = None,
    ) -> None:  # fmt: skip
        self.out = stdout or sys.stdout
        self.err = stderr or sys.stderr
        self.total = total
        self.color = color
        self.live = not quiet and total > 0 and _is_terminal(self.err)
        if self.live:  # loaded now, before the workers are forked and compete for the CPU
            import rich.progress  # noqa: F401, PLC0415
        self._progress: Progress | None = None
        self._task = None

    def start(self) -> None:
        """Start the live progress display (on a terminal, unless quiet)."""
        if not self.live or self._progress is not None:
            return
        from rich.console import Console  # noqa: PLC0415  (see the module docstring)

        self._progress, self._task = _progress(Console(file=self.err), self.total)

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
            from rich.text import Text  # noqa: PLC0415  (already loaded by the display)

            self._progress.console.print(Text(text), soft_wrap=True)
        else:
            self.err.write(text + "\n")
            self.err.flush()

    def diff(self, text: str) -> None:
        """A unified diff on stdout, coloured when asked (``--color``) or when stdout is a colour terminal."""
        if self._progress is not None and _is_terminal(self.out):
            from rich.text import Text  # noqa: PLC0415  (already loaded by the display)

            for line in text.splitlines():
                self._progress.console.print(Text(line, style=_style_of(line) or ""), soft_wrap=True)
            return
        colors = self._diff_colors()
        if colors is not None:
            text = "".join(_colored(line, colors) for line in text.splitlines(keepends=True))
        self.out.write(text)
        self.out.flush()

    @functools.cache  # noqa: B019  (one Display per run)
    def _diff_colors(self) -> object | None:
        """The colour system of the diff on stdout, None for no colour (rich honours NO_COLOR, FORCE_COLOR...)."""
        if self.color == "never":
            return None
        from rich.console import COLOR_SYSTEMS, Console  # noqa: PLC0415  (see the module docstring)

        system = Console(file=self.out, force_terminal=True if self.color == "always" else None).color_system
        if self.color == "always" and system is None:
            system = "standard"
        return COLOR_SYSTEMS[system] if system else None


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
