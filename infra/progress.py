"""Progress for long commands: a line when a phase starts and ends (with elapsed seconds), and a closing checklist.

    with phase("foundation: terraform apply") as step:
        ...
        step.note("42 resources")          # shown on the closing line
        step.fail("Error: ...")            # or raise: the phase is reported FAILED either way
    checklist([Check("keys", True, "3 KMS keys exist and rotate"), Check("buckets", False, problems=[...])])

On a terminal it uses rich (colour, a spinner per running phase); anywhere else (CI logs, pipes,
``NO_COLOR``/``TERM=dumb``) it prints plain lines with no escape codes, one per event, so logs read
top to bottom. Phases may run on several threads at once (deploy-local applies a wave's stacks
in parallel). Progress goes to stderr, results and checklists to stdout.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

_LOCK = threading.RLock()


def _is_terminal(stream: IO[str]) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _console(stream: IO[str]) -> Console | None:
    """A rich console for a terminal, None for plain output."""
    if not _is_terminal(stream):
        return None
    from rich.console import Console

    return Console(file=stream, highlight=False)


def _elapsed(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 120 else f"{int(seconds // 60)} min {seconds % 60:.0f} s"


@dataclass
class Phase:
    """A running phase: add a note for its closing line, or mark it failed."""

    name: str
    started: float = field(default_factory=time.monotonic)
    notes: list[str] = field(default_factory=list)
    failure: str | None = None

    def note(self, text: str) -> None:
        self.notes.append(text)

    def fail(self, detail: str = "") -> None:
        self.failure = detail or "failed"

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started


class _Spinners:
    """One rich Progress shared by every running phase (threads included); stopped when none is left."""

    def __init__(self) -> None:
        self.progress: Progress | None = None
        self.running = 0

    def start(self, console: Console, name: str) -> TaskID:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with _LOCK:
            if self.progress is None:
                self.progress = Progress(
                    SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=True
                )
                self.progress.start()
            self.running += 1
            return self.progress.add_task(name, total=None)

    def stop(self, task: TaskID, line: str) -> None:
        with _LOCK:
            assert self.progress is not None
            self.progress.remove_task(task)
            self.progress.console.print(line)
            self.running -= 1
            if self.running == 0:
                self.progress.stop()
                self.progress = None


_SPINNERS = _Spinners()


@contextmanager
def phase(name: str, *, enabled: bool = True, stream: IO[str] | None = None) -> Iterator[Phase]:
    """Report ``name`` starting and finishing, with elapsed time; an exception marks it FAILED and propagates.

    With ``enabled=False`` nothing is printed (library calls, tests, the background deploy).
    """
    if not enabled:
        yield Phase(name)
        return
    out = stream or sys.stderr
    step = Phase(name)
    task = None
    with _LOCK:
        # While spinners run, rich has replaced sys.stderr with a proxy that is no terminal: join them.
        live = _SPINNERS.progress if stream is None else None
        console = live.console if live is not None else _console(out)
        if console is None:
            _plain(out, f"[....] {name} ...")
        else:
            task = _SPINNERS.start(console, name)
    try:
        yield step
    except BaseException as exc:
        step.fail(f"{type(exc).__name__}: {exc}".splitlines()[0])
        raise
    finally:
        notes = f" ({'; '.join(step.notes)})" if step.notes else ""
        if console is None:
            status = " ok " if step.ok else "FAIL"
            _plain(out, f"[{status}] {name}{notes} in {_elapsed(step.seconds)}")
        else:
            from rich.markup import escape

            mark = "[green]✓[/green]" if step.ok else "[bold red]✗[/bold red]"
            assert task is not None
            _SPINNERS.stop(task, f"{mark} {escape(name)}{escape(notes)} [dim]{_elapsed(step.seconds)}[/dim]")


def _plain(out: IO[str], line: str) -> None:
    with _LOCK:
        print(line, file=out, flush=True)


@dataclass(frozen=True)
class Check:
    """One checked guarantee (or group of them): ok, failed with its problems, or None when it was not checked."""

    name: str
    ok: bool | None
    what: str = ""
    problems: Sequence[str] = ()
    notes: Sequence[str] = ()


def checklist(results: Sequence[Check], *, title: str = "Checklist", stream: IO[str] | None = None) -> bool:
    """Print every check with its result and problems; True when none failed."""
    out = stream or sys.stdout
    console = _console(out)
    width = max((len(c.name) for c in results), default=0)
    failed = sum(c.ok is False for c in results)
    passed = sum(c.ok is True for c in results)
    summary = f"{passed} ok, {failed} failed" + (
        f", {len(results) - passed - failed} not checked" if passed + failed < len(results) else ""
    )
    if console is None:
        lines = [f"{title}: {summary}"]
        for check in results:
            status = {True: "ok", False: "FAILED", None: "skipped"}[check.ok]
            lines.append(f"  {status:<8}{check.name:<{width}}  {check.what}".rstrip())
            indent = " " * (12 + width)
            lines += [f"{indent}- {problem}" for problem in check.problems]
            lines += [f"{indent}note: {note}" for note in check.notes]
        with _LOCK:
            print("\n".join(lines), file=out, flush=True)
        return failed == 0

    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"{title}: {summary}", title_justify="left", show_header=False, box=None, pad_edge=False)
    table.add_column(no_wrap=True)
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for check in results:
        mark = {True: "[green]✓ ok[/green]", False: "[bold red]✗ FAILED[/bold red]", None: "[yellow]- skipped[/yellow]"}[check.ok]
        detail = escape(check.what)
        detail += "".join(f"\n[red]• {escape(p)}[/red]" for p in check.problems)
        detail += "".join(f"\n[dim]note: {escape(n)}[/dim]" for n in check.notes)
        table.add_row(mark, escape(check.name), detail)
    with _LOCK:
        console.print(table)
    return failed == 0
