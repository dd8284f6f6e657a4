"""Secrets in the history and at the ref, and the security-policy checklist (collect/secrets,
analyze/security.py); switched off with secrets=False (--no-secrets)."""

from __future__ import annotations

import pandas as pd

from .._version import installed_version
from .interface import Needs, Stage, StageResult


def run(c: Needs) -> StageResult:
    from ..analyze import security
    from ..collect import secrets as secrets_mod
    from ..collect.history import follow_renames
    info, files, changes, commits, rules = c["info"], c["files"], c["changes"], c["commits"], c["rules"]
    strict = c["secrets_strict"]
    background = c["readers"].secrets_history
    hist, stats = background.result()
    # Credential files known by their name alone (binary key stores): no line of theirs is ever scanned.
    named_hist, named_tree = secrets_mod.credential_files_by_name(changes, files, info.commit, rules)
    if len(named_hist):
        hist = pd.concat([hist, named_hist], ignore_index=True)
    if strict:
        hist = security.strict(hist)
    # Where is each file that once held a secret now? The history's own rename-following says, per
    # (commit, path): the path of that file at the ref, if it is still there.
    # (Plain lists: iterating the string columns themselves cost 0.5 ms on pip's files, 2 ms on requests' changes.)
    live = hist[hist["action"] != "suppress"]
    paths: set[str] = set()
    if len(live) and len(changes):
        at_ref = set(files["path"].tolist())
        ev = follow_renames(changes, commits, [])
        where = dict(zip(zip(ev["sha"].tolist(), ev["path"].tolist()), ev["path_at_ref"].tolist()))
        for key in set(zip(live["sha"].tolist(), live["path"].tolist())):
            now = where.get(key, key[1])      # a line git showed without a change record: its own path
            if isinstance(now, str) and now in at_ref:
                paths.add(now)
    tree, tstats = secrets_mod.scan_tree(info.path, info.commit, sorted(paths), rules=rules)
    if len(named_tree):
        tree = pd.concat([tree, named_tree], ignore_index=True)
    if strict:
        tree = security.strict(tree)
    stats.update(security.suppression_counts(hist, tree))
    stats["set_aside"], stats["set_aside_counts"] = security.set_aside(hist, tree)
    if tstats["long_lines"] and not stats["long_lines"]:
        max_line = secrets_mod.settings(rules)["max_line_bytes"]
        stats["warnings"] += secrets_mod.long_line_warning(tstats["long_lines"], max_line)
    recs, rows = security.secret_findings(rules, hist, tree, commits)
    recs2, rows2 = security.checklist(rules, files)
    return StageResult(tables={"security": security.security_table(rows + rows2)}, findings=recs + recs2,
                       warnings=stats.get("warnings", []), stats=stats,
                       versions={"kingfisher-secret-scanner": installed_version("kingfisher-secret-scanner")},
                       timings={"secrets history (overlapped)": background.seconds})


SECRETS = Stage("secrets", needs=("info", "rules", "secrets_strict", "readers", "files", "changes", "commits"),
                produces=("security",), run=run, when="secrets_on", waits=True)
