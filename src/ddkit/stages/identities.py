"""Who is who (resolve/): the .mailmap, the roster and the company profile turn commit authors into people."""

from __future__ import annotations

import pandas as pd

from ..analyze import people as people_mod
from ..resolve.identities import resolve_identities
from ..resolve.mailmap import read_mailmap
from .interface import Needs, Stage, StageResult


def run(c: Needs) -> StageResult:
    info, files, raw, rules = c["info"], c["files"], c["raw_commits"], c["rules"]
    # Co-authors (Co-authored-by: trailers) are authors for copyright: resolved like commit authors.
    co = people_mod.coauthor_rows(raw)
    idents = pd.concat([raw[["author_name_raw", "author_email_raw"]],
                        co[["author_name_raw", "author_email_raw"]]], ignore_index=True)
    # Plain lists: iterating the string columns themselves cost 5 ms on pip's 17k rows. Where the
    # .mailmap is, the files stage has listed (no git process asked again).
    mm = files[files["path"] == ".mailmap"]
    mailmap = read_mailmap(info.path, info.commit,
                           zip(idents["author_name_raw"].tolist(), idents["author_email_raw"].tolist()),
                           tree={".mailmap": ("commit" if mm["category"].iloc[0] == "submodule" else "blob",
                                              mm["blob"].iloc[0])} if len(mm) else {})
    res = resolve_identities(idents, c["roster"], c["profile"], rules, mailmap)
    commits = people_mod.attach_people(raw, res.identities)
    coauthored = people_mod.attach_coauthors(co, commits, res.identities)
    inactivity = int(rules.get("identities", {}).get("inactivity_days", 365))
    people = people_mod.people_table(res.people, commits, c["as_of"], inactivity)
    return StageResult(tables={"commits": commits, "identities": res.identities, "people": people,
                               "coauthored": coauthored},
                       warnings=mailmap.warnings + res.warnings)


IDENTITIES = Stage("identities", needs=("info", "files", "raw_commits", "rules", "roster", "profile", "as_of"),
                   produces=("commits", "identities", "people", "coauthored"), run=run)
