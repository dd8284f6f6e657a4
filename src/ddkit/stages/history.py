"""The history (collect/history.py): commits and per-file changes, and blame's workers started beside it."""

from __future__ import annotations

from ..collect.history import collect_history, implausible_dates
from .interface import Needs, Stage, StageResult


def run(c: Needs) -> StageResult:
    info, readers = c["info"], c["readers"]
    feed = readers.feed
    blamer = readers.start_blame(info, c["files"], c["jobs"])
    try:
        hist = collect_history(info.path, info.commit, plan_=readers.history_plan,
                               on_patch=feed.put if feed is not None else None)
    except BaseException as e:
        if feed is not None:
            feed.close(e)
        blamer.cancel()
        raise
    if feed is not None:
        feed.close()
    blamer.know(hist.changes, hist.commits["sha"])
    return StageResult(tables={"raw_commits": hist.commits, "changes": hist.changes, "blame_job": blamer},
                       warnings=hist.warnings + implausible_dates(hist.commits, c["as_of"]))


HISTORY = Stage("history", needs=("info", "readers", "files", "jobs", "as_of"),
                produces=("raw_commits", "changes", "blame_job"), run=run)
