"""Run events -> a progress bar on a terminal: cases per second and the time left (rich).

The library reports progress through the ``Progress`` protocol of ``engine.batch.run`` and never
prints; the CLI hands this bar a console. Off a terminal the bar stays quiet and only the notes
(a worker died, a shard was quarantined) are written, one line each.
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichBar
from rich.text import Text

from engine.batch.shard import ShardOutcome

__all__ = ["ProgressBar"]


class _Rate(ProgressColumn):
    """Cases scored and cases per second (the bar itself may count shards)."""

    def __init__(self, bar: ProgressBar) -> None:
        super().__init__()
        self.bar = bar

    def render(self, task: Task) -> Text:
        elapsed = max(time.monotonic() - self.bar.started, 1e-9)
        rate = self.bar.cases / elapsed
        return Text(f"{self.bar.cases:,} cases  {rate:,.0f} cases/s", style="progress.data.speed")


class ProgressBar:
    """A rich progress bar over cases when their number is known, else over shards."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.cases = 0
        self.started = time.monotonic()
        self.by_cases = False
        self._bar: RichBar | None = None
        self._task: TaskID | None = None

    def start(self, *, shards: int, cases: int | None, done: int, done_cases: int) -> None:
        self.started = time.monotonic()
        if not self.console.is_terminal:
            return
        self.by_cases = cases is not None
        label = "cases" if self.by_cases else "shards"
        self._bar = RichBar(
            TextColumn(f"[bold]scoring[/] {label}"),
            BarColumn(),
            MofNCompleteColumn(),
            _Rate(self),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        total = cases if cases is not None else shards
        self._task = task = self._bar.add_task("batch", total=total)
        self._bar.update(task, completed=done_cases if self.by_cases else done)
        self._bar.start()

    def advance(self, outcome: ShardOutcome) -> None:
        if outcome.seconds:  # shards done by an earlier run do not count towards the rate
            self.cases += outcome.cases
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task, outcome.cases if self.by_cases else 1)

    def note(self, message: str) -> None:
        self.console.print(message, markup=False, highlight=False, soft_wrap=True)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
