"""Terminal output: rich progress bars for long stages and a short summary at the end."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RProgress

from ..gitutil import strip_credentials
from ..progress import Progress, TextProgress, in_notebook
from ..text import printable

if TYPE_CHECKING:
    from ..model import Scan


class RichProgress(Progress):
    def __init__(self, notebook: bool = False) -> None:
        super().__init__()
        # In Jupyter rich renders into the cell (an ipywidgets Output); in a terminal, on stderr.
        self._p = RProgress(SpinnerColumn(), TextColumn("{task.description:<12}"), BarColumn(),
                            MofNCompleteColumn(), TimeElapsedColumn(),
                            console=Console() if notebook else Console(stderr=True), transient=False)
        self._task: TaskID | None = None
        self._started = False

    def start(self, name: str, total: int | None) -> None:
        if not self._started:
            self._p.start()
            self._started = True
        # The description is rendered as rich markup: escape it (stage names may one day carry repo text).
        self._task = self._p.add_task(escape(printable(name)), total=total)

    def set_total(self, total: int) -> None:
        if self._task is not None:
            self._p.update(self._task, total=total)

    def advance(self, n: int = 1) -> None:
        if self._task is not None:
            self._p.advance(self._task, n)

    def end(self, name: str) -> None:
        if self._task is not None:
            t = self._p.tasks[self._task] if isinstance(self._task, int) else None
            total = t.total if t is not None and t.total else 1
            self._p.update(self._task, total=total, completed=total)
        self._task = None

    def close(self) -> None:
        if self._started:
            self._p.stop()
            self._started = False

    def __del__(self) -> None:
        self.close()


def make_progress(progress: Progress | bool | None) -> Progress:
    """What ``ddkit.scan(progress=...)`` shows: a :class:`Progress` as given; ``False`` nothing; ``True`` a live
    display (rich: stage names, bars for blame and licenses; in Jupyter as a widget that updates in place);
    ``None`` (the default) the live display in a notebook and nothing elsewhere (a script stays quiet)."""
    if isinstance(progress, Progress):
        return progress
    if progress is False or (progress is None and not in_notebook()):
        return Progress()
    if in_notebook():
        try:
            import ipywidgets  # noqa: F401  (rich's live display in Jupyter is an ipywidgets Output)
        except ImportError:
            return TextProgress()
    return RichProgress(notebook=in_notebook())


class _PlainConsole:
    """Prints lines holding repository text (paths, names, warnings): no markup, no emoji codes, no
    highlighting, control characters escaped. An author called ``[/bold]`` is printed as written, and
    one whose name holds ESC sequences cannot drive the terminal."""

    def __init__(self) -> None:
        self._con = Console(file=sys.stdout, highlight=False, soft_wrap=True, emoji=False)

    def print(self, text: str) -> None:
        self._con.print(printable(strip_credentials(text) or text), markup=False, emoji=False, highlight=False)


def print_summary(s: Scan, out=None, json_path=None, sarif=None) -> None:
    con = _PlainConsole()
    sm = s.summary
    bysev = sm.get("findings_by_severity", {})
    sev = ", ".join(f"{n} {k}" for k, n in bysev.items() if n) or "none"
    con.print(f"ddkit: {s.repo.path} @ {(s.repo.commit or 'empty')[:12]} (as of {s.as_of})")
    line = f"  {sm.get('commits', 0)} commits, {sm.get('contributors', 0)} people, {sm.get('bots', 0)} bots"
    if "readiness_score" in sm:
        line += f"; readiness {sm['readiness_score']}/100 ({sm.get('rating')}{', partial' if sm.get('partial') else ''})"
    if sm.get("truck_factor") is not None:
        line += f"; truck factor {sm['truck_factor']}"
    con.print(line)
    con.print(f"  findings: {sev}")
    for what in sm.get("not_assessed") or []:
        con.print(f"  not assessed: {what}")
    for w in s.warnings[:5]:
        con.print(f"  warning: {w}")
    if len(s.warnings) > 5:
        con.print(f"  … {len(s.warnings) - 5} more warnings (see the Methodology sheet)")
    for label, p in (("workbook", out), ("json", json_path), ("sarif", sarif)):
        if p:
            con.print(f"  {label}: {p}")
    hint = next_step(s)
    if hint:
        con.print(f"  next: {hint}")


def next_step(s: Scan) -> str | None:
    """What the user should do next, in one line: without a roster, make one."""
    if len(s.roster):
        return None
    people = s.people
    unknown = people[(people["type"] == "unknown") & ~people["is_bot"]] if len(people) else people
    lines = int(unknown["surviving_lines"].sum()) if len(unknown) else 0
    total = int(people["surviving_lines"].sum()) if len(people) else 0
    share = f" ({lines / total:.0%} of surviving lines)" if total else ""
    return (f"no roster given: {len(unknown)} people holding {lines:,} surviving lines{share} could not be "
            f"classified; create one with `ddkit roster init {s.repo.path} -o roster.xlsx`, fill it in, and "
            f"re-scan with --roster roster.xlsx")
