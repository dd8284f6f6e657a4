"""Progress reporting: a no-op by default; the command line plugs in rich progress bars."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator


class Progress:
    """Receives stage starts and ends; subclasses show them. Also records how long each stage took."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextlib.contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[Progress]:
        t0 = time.perf_counter()
        self.start(name, total)
        try:
            yield self
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - t0
            self.end(name)

    def start(self, name: str, total: int | None) -> None:  # pragma: no cover - hooks
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def set_total(self, total: int) -> None:
        pass

    def end(self, name: str) -> None:
        pass

    def close(self) -> None:
        """Stop any live display (before the final summary is printed)."""


def in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (a notebook, JupyterLab, VS Code's notebooks, Colab)."""
    import sys
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None) if ipython is not None else None
    shell = get() if get is not None else None
    return shell is not None and (type(shell).__name__ == "ZMQInteractiveShell" or "google.colab" in str(type(shell)))


class TextProgress(Progress):
    """One line per stage as it ends (name and seconds): for a notebook without ipywidgets, where a live
    display cannot update in place."""

    def __init__(self) -> None:
        super().__init__()
        self._t0: dict[str, float] = {}

    def start(self, name: str, total: int | None) -> None:
        self._t0[name] = time.perf_counter()

    def end(self, name: str) -> None:
        print(f"ddkit: {name} done in {time.perf_counter() - self._t0.pop(name, time.perf_counter()):.1f} s", flush=True)
