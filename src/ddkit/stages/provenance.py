"""Where the code came from: the AI-assisted code ledger (analyze/ai.py), bulk imports and code copied from
a reference corpus (analyze/provenance.py)."""

from __future__ import annotations

from .interface import Needs, Stage, StageResult


def run_ai(c: Needs) -> StageResult:
    from ..analyze import ai as ai_mod
    from ..analyze.provenance import excluded_paths
    rules, people = c["rules"], c["people"]
    messages = c["readers"].messages.result() if c["readers"].messages is not None else None
    ledger = ai_mod.ledger(rules, c["commits"], messages, c["blame"], c["files"], c["changes"], c["identities"],
                           people, c["as_of"], excluded_paths(rules, c["company"], c["files"]))
    return StageResult(tables={"ai": ledger, "messages": messages},
                       findings=ai_mod.ai_findings(rules, ledger, people, roster_given=len(c["roster"]) > 0))


def run_bulk_imports(c: Needs) -> StageResult:
    from ..analyze.provenance import bulk_imports
    return StageResult(findings=bulk_imports(c["rules"], c["company"], c["commits"], c["changes"], c["blame"],
                                             c["files"], c["people"], c["licenses"], c["messages"],
                                             repo=c["info"].path, roster_given=len(c["roster"]) > 0))


def run_references(c: Needs) -> StageResult:
    from ..analyze.provenance import copied_code
    found, copied = copied_code(c["rules"], c["corpora"], c["info"].path, c["files"], c["blame"], c["commits"])
    return StageResult(tables={"copied_code": copied}, findings=found)


AI = Stage("ai", needs=("rules", "company", "roster", "as_of", "readers", "files", "changes", "commits", "identities",
                        "people", "blame"),
           produces=("ai", "messages"), run=run_ai, waits=True)   # (the commit messages, read in the background)
BULK_IMPORTS = Stage("bulk imports", needs=("info", "rules", "company", "roster", "files", "changes", "commits",
                                            "people", "blame", "licenses", "messages"),
                     produces=(), run=run_bulk_imports)
REFERENCES = Stage("references", needs=("rules", "corpora", "info", "files", "commits", "blame"),
                   produces=("copied_code",), run=run_references, when="corpora")
