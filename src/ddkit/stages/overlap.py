"""What reads git beside the main thread, in one place (docs/performance.md).

Three things wait on git and run beside the main thread: the secrets in history, read in a thread from
the start (it needs nothing the other stages compute); one `git log -p` that feeds both history and
secrets when both must read the same range (a cold scan, a scan after new commits: git computes each diff
once); and blame, whose workers start as soon as the files at the ref are listed. On a cold scan they
blame beside the history read; otherwise they wait for the history, which gives their cache keys. The
stages that wait for them are marked ``waits``: the stages that need nothing from them (knowledge,
licenses, dependencies, vulnerabilities) run while blame finishes (runner.schedule), and findings and
warnings are put together in the order of the list, whatever order the stages ran in.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

# Set DDKIT_OVERLAP=0 to run one thing at a time (benchmarks compare): history and secrets each read their
# own `git log -p`, blame starts after the history, and the secrets history runs after the other stages.
ENABLED = os.environ.get("DDKIT_OVERLAP", "1") != "0"


class Background:
    """A call run in a thread: ``result()`` waits for it (and re-raises what it raised)."""

    def __init__(self, fn, *args, **kw):
        import threading
        self.seconds = 0.0
        self._out = self._err = None

        def target():
            import time
            t0 = time.perf_counter()
            try:
                self._out = fn(*args, **kw)
            except BaseException as e:  # handed to the caller
                self._err = e
            self.seconds = time.perf_counter() - t0
        self._t = threading.Thread(target=target, name="ddkit-secrets-history", daemon=True)
        self._target: Any = target
        if ENABLED:
            self._t.start()

    def result(self):
        if self._t.ident is not None:      # started (DDKIT_OVERLAP): wait for it
            self._t.join()
        elif self._target is not None:     # DDKIT_OVERLAP=0: run it now, after the other stages
            self._target()
            self._target = None
        if self._err is not None:
            raise self._err
        return self._out


@dataclass
class GitReaders:
    """The reads started before the stages: the history's plan, the secrets history (and the patch feed it
    shares with the history read) and the commit messages."""

    history_plan: Any = None
    secrets_plan: Any = None
    feed: Any = None                        # collect.history.PatchFeed, when history and secrets share one read
    secrets_history: Background | None = None
    messages: Background | None = None

    def start_blame(self, info, files, jobs: int):
        """Blame's workers, started as soon as the files at the ref are listed (beside the history read on
        a cold scan: speculate)."""
        from ..collect.blame import BlameJob
        return BlameJob(info.path, info.commit, files, jobs=jobs,
                        speculate=ENABLED and self.history_plan is not None and self.history_plan.base is None)


def start(info, rules, jobs: int, secrets: bool) -> GitReaders:
    """Start what reads git beside the stages (before the first stage)."""
    from ..collect.history import PatchFeed
    from ..collect.history import plan as history_plan
    out = GitReaders()
    # The secrets' cache first: when it has history to read, the secrets engine's compiled rules start
    # loading now (a native load beside the main thread: about 0.2 s, which a one-commit re-scan of pip
    # otherwise waited for at the secrets stage once the other stages got faster).
    if secrets and info.commit:
        from ..collect import secrets as secrets_mod
        out.secrets_plan = secrets_mod.plan(info.path, info.commit, rules=rules)
        if ENABLED and out.secrets_plan.reads(info.commit) is not None:
            secrets_mod.kingfisher_engine.preload()
    out.history_plan = history_plan(info.path, info.commit) if info.commit else None
    if secrets:
        hp, sp = out.history_plan, out.secrets_plan
        if (ENABLED and info.commit and hp is not None and sp is not None
                and hp.reads(info.commit) is not None and hp.reads(info.commit) == sp.reads(info.commit)):
            out.feed = PatchFeed()
        out.secrets_history = _start_secrets_history(info, rules, jobs, sp, out.feed)
    # The commit messages (AI markers, bulk-import subjects): one light `git log` beside the main thread.
    out.messages = Background(_messages, info.path, info.commit) if info.commit else None
    return out


def _start_secrets_history(info, rules, jobs, plan, feed) -> Background:
    from ..collect import secrets as secrets_mod

    def run():
        try:
            return secrets_mod.scan_history(info.path, info.commit, jobs=jobs, progress=None, rules=rules,
                                            plan_=plan, patches=feed)
        finally:
            if feed is not None:   # stopped early (an error): the history read must not wait for it
                feed.abandon()
    return Background(run)


def _messages(repo, commit):
    from ..collect.messages import collect_messages
    return collect_messages(repo, commit)
