"""Worker processes that are safe from any caller: ``python -m ddkit.workerpool`` over a pipe.

Why not ``multiprocessing``: its ``spawn`` and ``forkserver`` children re-import the caller's main
module, so a plain script without an ``if __name__ == "__main__":`` guard that calls ``ddkit.scan()``
crashes (the child runs the script again and tries to start workers while bootstrapping), and
``python -`` (a script on stdin) cannot be re-imported at all. A worker started here is a fresh
interpreter that imports only ddkit.

Lifetime: a worker must never outlive the process that started it (ScanCode workers hold about
1.2 GB each). It exits as soon as its task pipe reaches end-of-file, which happens when the parent
closes it or dies, even by SIGKILL, and, should another process hold the pipe open, when it sees
that its parent process has changed. Workers ignore SIGINT: Ctrl-C reaches the whole foreground
process group, and the parent, which gets it too, stops them itself (no worker tracebacks, no
waiting for a file to finish).

Protocol: length-prefixed pickles. Parent → worker: ``(task id, "module:function", args)``; worker →
parent: ``(task id, ok, result or error text)``. Only functions of ddkit modules can be named. The
worker's own standard output and input are /dev/null, so a library that prints cannot corrupt the pipe.
"""

from __future__ import annotations

import concurrent.futures
import importlib
import os
import pickle
import queue
import selectors
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .errors import InternalError

_LEN = struct.Struct("!Q")


def _read_msg(fh) -> Any | None:
    head = fh.read(_LEN.size)
    if len(head) < _LEN.size:
        return None
    n = _LEN.unpack(head)[0]
    body = fh.read(n)
    if len(body) < n:
        return None
    return pickle.loads(body)


def _pack(obj: Any) -> bytes:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return _LEN.pack(len(data)) + data


def _function(spec: str) -> Callable[..., Any]:
    module, _, name = spec.partition(":")
    if not (module == "ddkit" or module.startswith("ddkit.")) or not name:
        raise ValueError(f"not a ddkit function: {spec}")
    return getattr(importlib.import_module(module), name)


# ----------------------------------------------------------------------------- worker side
_on_exit: list[Callable[[], None]] = []   # cleanups to run when the parent goes away (temp folders)


def at_parent_exit(fn: Callable[[], None]) -> None:
    _on_exit.append(fn)


def _die() -> None:
    for fn in _on_exit:
        try:
            fn()
        except Exception:   # the worker is ending: a cleanup that fails leaves a temporary folder
            pass
    os._exit(0)


def _worker_main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    tasks_in = os.fdopen(os.dup(0), "rb")
    results_out = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    q: queue.Queue[Any] = queue.Queue()

    def reader() -> None:
        while True:
            msg = _read_msg(tasks_in)
            if msg is None:     # end of file: the parent closed the pipe or died
                _die()
            q.put(msg)

    def watchdog() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                _die()

    threading.Thread(target=reader, daemon=True).start()
    threading.Thread(target=watchdog, daemon=True).start()
    init = os.environ.get("DDKIT_WORKER_INIT")
    if init:
        _function(init)()
    while True:
        tid, spec, args = q.get()
        try:
            out = (tid, True, _function(spec)(*args))
        except Exception as e:
            out = (tid, False, f"{type(e).__name__}: {e}"[:500])
        results_out.write(_pack(out))
        results_out.flush()


# ----------------------------------------------------------------------------- parent side
class WorkerError(InternalError, RuntimeError):
    """A task failed in the worker, or the worker died while running it."""


class WorkerPool:
    """*n* worker processes; :meth:`map` runs a ddkit function over tasks and yields results in order.

    *init* ("module:function") runs once in each worker before its first task (e.g. loading an index).
    Use as a context manager: leaving it, normally or by an exception (KeyboardInterrupt included),
    stops every worker.
    """

    def __init__(self, n: int, init: str | None = None):
        self.n = max(1, n)
        self.init = init
        self.procs: list[subprocess.Popen] = []
        self.started = 0
        self._lock = threading.Lock()

    def _start(self) -> subprocess.Popen:
        env = dict(os.environ)
        # The worker imports the very ddkit the caller runs, wherever that was found.
        src = str(Path(__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join([src] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        env.pop("DDKIT_WORKER_INIT", None)
        if self.init:
            env["DDKIT_WORKER_INIT"] = self.init
        debug = bool(os.environ.get("DDKIT_DEBUG"))
        p = subprocess.Popen([sys.executable, "-m", "ddkit.workerpool"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=None if debug else subprocess.DEVNULL, env=env,
                             close_fds=True)
        with self._lock:
            self.procs.append(p)
            self.started += 1
        return p

    def map(self, spec: str, tasks: Iterable[tuple], on_result: Callable[[], None] | None = None,
            on_error: Callable[[str], Any] | None = None) -> list[Any]:
        """Results of ``spec(*task)`` in task order. A task whose worker fails gives ``on_error(message)``
        (or raises WorkerError when there is no on_error)."""
        todo = list(enumerate(tasks))
        results: dict[int, Any] = {}
        if not todo:
            return []
        sel = selectors.DefaultSelector()
        busy: dict[subprocess.Popen, int] = {}
        pending = list(reversed(todo))

        def feed(p: subprocess.Popen) -> None:
            tid, args = pending.pop()
            busy[p] = tid
            assert p.stdin is not None
            p.stdin.write(_pack((tid, spec, args)))
            p.stdin.flush()

        def fail(tid: int, msg: str) -> None:
            if on_error is None:
                raise WorkerError(msg)
            results[tid] = on_error(msg)

        live = [p for p in self.procs if p.poll() is None]
        while len(live) < min(self.n, len(todo)):
            live.append(self._start())
        for p in live:
            assert p.stdout is not None
            sel.register(p.stdout, selectors.EVENT_READ, p)
            if pending:
                feed(p)
        try:
            while len(results) < len(todo):
                for key, _ in sel.select():
                    p = key.data
                    msg = _read_msg(p.stdout)
                    if msg is None:            # the worker died (killed, out of memory)
                        sel.unregister(p.stdout)
                        tid = busy.pop(p, None)
                        if tid is not None:
                            fail(tid, f"worker process died (exit code {p.wait()})")
                        if pending:
                            q = self._start()
                            assert q.stdout is not None
                            sel.register(q.stdout, selectors.EVENT_READ, q)
                            feed(q)
                        continue
                    tid, ok, value = msg
                    busy.pop(p, None)
                    if ok:
                        results[tid] = value
                    else:
                        fail(tid, value)
                    if on_result is not None:
                        on_result()
                    if pending:
                        feed(p)
        finally:
            sel.close()
        return [results[i] for i in range(len(todo))]

    def close(self, kill: bool = False) -> None:
        for p in self.procs:
            if kill:
                p.kill()
            elif p.stdin:
                try:
                    p.stdin.close()        # end of file: the worker exits
                except OSError:   # the worker is gone already
                    pass
        for p in self.procs:
            try:
                p.wait(timeout=None if kill else 10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            for f in (p.stdin, p.stdout):
                try:
                    if f:
                        f.close()
                except OSError:   # already closed
                    pass
        self.procs = []

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        # On an error or Ctrl-C, stop at once: no worker finishes a file nobody will read.
        self.close(kill=exc_type is not None)


class WorkerExecutor(concurrent.futures.Executor):
    """A :class:`concurrent.futures.Executor` on ddkit worker processes (see the module's docstring).

    ``submit(fn, *args)`` runs a ddkit module-level function in one of *n* workers, one task at a time
    per worker. A task that raises, or whose worker dies, fails its future with :class:`WorkerError`.
    ``shutdown(wait=False)`` (and leaving a ``with`` block by an exception) kills the workers at once.
    """

    def __init__(self, n: int, init: str | None = None):
        self._pool = WorkerPool(n, init)
        self._q: queue.Queue[Any] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._closed = False

    def submit(self, fn, /, *args, **kwargs):
        if self._closed:
            raise RuntimeError("cannot submit after shutdown")
        if kwargs:
            raise TypeError("WorkerExecutor.submit takes positional arguments only")
        spec = fn if isinstance(fn, str) else f"{fn.__module__}:{fn.__qualname__}"
        fut: concurrent.futures.Future = concurrent.futures.Future()
        self._q.put((fut, spec, args))
        if len(self._threads) < self._pool.n:
            t = threading.Thread(target=self._run, daemon=True, name="ddkit-worker-feeder")
            t.start()
            self._threads.append(t)
        return fut

    def _run(self) -> None:
        p: subprocess.Popen | None = None
        while True:
            item = self._q.get()
            if item is None:
                return
            fut, spec, args = item
            if not fut.set_running_or_notify_cancel():
                continue
            if p is None or p.poll() is not None:
                p = self._pool._start()
            try:
                assert p.stdin is not None and p.stdout is not None
                p.stdin.write(_pack((0, spec, args)))
                p.stdin.flush()
                msg = _read_msg(p.stdout)
            except (OSError, ValueError):
                msg = None
            if msg is None:
                code = p.poll()
                p = None
                fut.set_exception(WorkerError(f"worker process died (exit code {code})"))
            elif msg[1]:
                fut.set_result(msg[2])
            else:
                fut.set_exception(WorkerError(msg[2]))

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._closed = True
        if cancel_futures or not wait:
            while True:
                try:
                    item = self._q.get_nowait()
                except queue.Empty:   # drained
                    break
                if item is not None:
                    item[0].cancel()
        for _ in self._threads:
            self._q.put(None)
        if wait:
            for t in self._threads:
                t.join()
            self._pool.close()
        else:
            self._pool.close(kill=True)   # Ctrl-C or an error: running tasks are abandoned

    def __exit__(self, exc_type, exc, tb):
        self.shutdown(wait=exc_type is None, cancel_futures=exc_type is not None)
        return False


if __name__ == "__main__":
    # Run the worker from the module as imported by name, so that the ddkit modules it runs and this
    # loop share one module object (at_parent_exit registrations, for one).
    from ddkit.workerpool import _worker_main as _main
    _main()
