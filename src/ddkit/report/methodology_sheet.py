"""The Methodology sheet: what was scanned, with which versions and rules, the definitions and limits of
every figure, and the scan's warnings (one row per kind)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._version import __version__
from ..gitutil import strip_credentials
from .vulnerability_sheet import methodology_rows as vuln_methodology_rows  # vulns
from .xlsx_layout import (
    HEADER_FILL,
    HEADER_FONT,
    key_value_rows,
    page_setup,
    set_cell,
)
from .xlsx_sheet import (
    company_name,
)

if TYPE_CHECKING:
    from ..model import Scan


def methodology_rows(s: Scan) -> list[tuple[str, Any]]:
    from ..score import explanation
    f = s.files
    not_scanned = f[f["category"] != "text"] if len(f) else f
    v = s.versions or {}
    scanned = int((f["category"] == "text").sum()) if len(f) else 0
    rows: list[tuple[str, Any]] = [
        ("Report", "ddkit acquisition-readiness workbook: a technical due-diligence review of one git repository, "
                   "covering who wrote the code, whether the company can show it owns it, third-party licenses, "
                   "secrets and knowledge concentration."),
        ("Repository", strip_credentials(s.repo.path)),
        ("Remote", s.repo.remote or "(none)"),
        ("Ref scanned", s.repo.ref),
        ("Commit", s.repo.commit or "(empty repository)"),
        ("As of", s.as_of.isoformat()),
        ("Company profile", s.company.source or "(none given)"),
        ("Roster", "(none given)" if s.roster.empty else f"{len(s.roster)} people"),
        ("Triage file applied", s.options.get("triage") or "(none)"),
        ("The repository's own triage file", f"{len(s.triage_claims)} claimed decisions, not applied (Triage claims "
         f"sheet)" if len(s.triage_claims) else "(none)"),
        ("ddkit version", v.get("ddkit", __version__)),
        ("git version", v.get("git", "unknown")),
        ("ScanCode version", f"scancode-toolkit {v['scancode']}" if "scancode" in v else
         "ScanCode not run (licenses not scanned)"),
        ("Secrets engine version", "; ".join(f"{k} {x}" for k, x in v.items() if k not in ("ddkit", "git", "scancode"))
         or "not run (secrets not scanned)"),
        ("Rules in force", "; ".join(s.rules.sources)),
        ("Rules SHA-256", s.rules.sha256),
        ("Shallow history", "yes: history is truncated" if s.repo.is_shallow else "no"),
        ("Commits", len(s.commits)),
        ("Files at the ref", len(f)),
        ("Files scanned for ownership", scanned),
        ("Files not scanned for ownership", len(not_scanned)),
    ]
    if len(not_scanned):
        for cat, g in not_scanned.groupby("category"):
            reasons = [r for r in g["reason"].dropna().unique() if r][:3]
            rows.append((f"Not scanned: {cat}", f"{len(g)} files ({'; '.join(reasons) or cat}), e.g. " + "; ".join(
                g["path"].head(8))))
    ns = s.not_scanned_for_licenses
    if ns is not None and len(ns):
        for reason, g in ns.groupby("reason"):
            rows.append(("Not scanned for licenses", f"{reason}: {len(g)} files, e.g. " + "; ".join(g["path"].head(5))))
    rows += [
        ("Definition: surviving lines", "Lines at the scanned ref attributed by whitespace-insensitive blame "
         "(git blame -w), after .mailmap, in text files that are not vendored or generated, counted per person."),
        ("Definition: departed", "Roster end date on or before the as-of date; for someone not on the roster, "
         "no commit in the inactivity window before the as-of date. Bots never depart."),
        ("Definition: truck factor", "Avelino et al. (ICPC 2016) degree-of-authorship algorithm: the fewest "
         "authors whose removal leaves more than half of the source files without an author. A person is an "
         "author of a file when their degree of authorship (from creating the file and the number of their "
         "changes, against everyone else's) is above 75% of the file's best."),
        ("Definition: identities", "Raw git identities are resolved through the .mailmap at the scanned ref, "
         "GitHub/GitLab no-reply forms, bot patterns and the roster's e-mails. Identities that match no roster "
         "entry are listed as unresolved (People sheet, type unknown), never dropped."),
        ("Definition: IP findings", "Work before the incorporation date; work before the person's assignment "
         "was signed; contractors and vendors without a signed written assignment (software is not work made "
         "for hire); employees, founders, interns and advisors without a signed PIIA; contributors not on the "
         "roster; work after the end date. Dates are the author dates in the author's time zone. Each rule is "
         "explained on the Rules sheet."),
        ("Definition: remediation", "One row per gap in the chain of title: a person whose gaps need different "
         "documents or cover different periods has one row per gap, each with only the period it covers."),
        ("Definition: retention", "Current employees and founders (not departed), ranked by the source files "
         "only they know (orphaned if they leave), then the modules whose truck factor would drop, from the "
         "off-boarding simulation."),
        ("Definition: rewrite scope", "For each remediation subject: the surviving lines written in the gap "
         "periods (all of the subject's work when the gap has no period), their files and modules, and which "
         "current employees and founders are authors of those files: the size of a clean-room rewrite if the "
         "signature cannot be obtained."),
        ("Definition: licenses", "ScanCode (scancode-toolkit " + v.get("scancode", "unknown") + ") on the files at "
         "the ref, after a keyword screen; categories from ScanCode's license database; policy per outbound "
         "license in the rules." if s.options.get("licenses") else "Licenses were not scanned (--no-licenses)."),
        ("Definition: secrets", "The secrets engine (" + ("; ".join(f"{k} {x}" for k, x in v.items()
         if k not in ("ddkit", "git", "scancode")) or "see above") + ") on every line added in the history and on "
         "the files at the ref. Tiers: provider (a recognised credential format, e.g. an AWS key), generic (a "
         "password or token assigned in code), entropy (a random-looking string: a guess). A committed "
         "credential file (.netrc, .pgpass, Docker config.json, ...) is reported whatever its value looks like; "
         "a weak or placeholder value, or a test or documentation path, lowers it to low, with the reason. "
         "Matches judged not to be secrets (placeholders, hashes, test fixtures, documentation examples) are "
         "set aside and listed, with why, below the Security sheet's findings (--secrets-strict reports them). "
         "Reports show a fingerprint, never the secret." if s.options.get("secrets", True) else "Secrets were not scanned."),
        ("Definition: bulk imports", "A commit whose newly created files (not renames, copies, vendored or generated "
         "files) hold many added lines across many files at once (thresholds on the Rules sheet) and whose surviving "
         "lines are material. Severity from the facts: high before incorporation or the author's start date, without "
         "an assignment in force on that day, or with other copyright holders in those files; medium otherwise. A bulk "
         "import is a question to ask, not proof of copying: git cannot show where code came from."),
        ("Definition: copied code", "With --reference: winnowing fingerprints over normalised tokens (identifiers, "
         "strings and numbers replaced, comments and layout dropped), so copies are found after reformatting and "
         "renaming; one finding per file of this repository, with its line ranges and the reference files and lines "
         "it matches. Code copied and then rewritten beyond recognition, or copied from code not given as a "
         "reference, is not found." if s.options.get("references") else
         "No reference corpus was given (--reference): copied code was not compared. This is not a gap in the "
         "score (not listed under Not assessed): a reference is evidence about one case (a claimant's or a previous "
         "employer's code), not a check every scan can run; code that arrived fully formed is still judged from the "
         "history (bulk imports)."),
        ("Definition: AI-assisted code", "Commits carrying a marker of an AI tool (rules/ai.yaml): a tool's identity "
         "as author or Co-authored-by (Claude, Cursor, Codex, Devin, aider, the Copilot coding agent), aider's "
         "'(aider)' author suffix, an Assisted-by trailer naming a tool by identity or TOOL:MODEL form (never by a "
         "first name), a 'Generated with [tool]' line; and agent configuration files at the ref. Surviving lines "
         "'as generated' are those blame still gives to a marked commit. What git metadata cannot show: AI "
         "assistance nobody marked (editor completions, pasted chat answers, a squash that dropped the trailers), "
         "and how much of a marked commit the tool wrote rather than the person. The ledger is a floor, not a "
         "measurement of all AI use. An AI tool is never a person: the human author, co-author or committer is "
         "named as responsible."),
        ("Readiness score", explanation(s.rules)),
        ("Limits", "ddkit reads the repository, not the contracts: a finding says a document is needed or missing "
         "from the roster, not that rights are lacking. Blame shows who last changed a line, not who had the idea; "
         "code copied in by a person is theirs in this report unless a license notice says otherwise. Binary, "
         "vendored and generated files are not attributed. Secret detection finds known credential formats and "
         "high-entropy strings; it can miss others and flag test values. Dates and identities are as recorded by "
         "git and can be set by the author."),
    ]
    rows += vuln_methodology_rows(s)   # vulns
    unresolved = (s.people[~s.people["resolved"].astype(bool)] if len(s.people) and "resolved" in s.people
                  else s.people.iloc[:0])
    if len(unresolved):
        rows.append(("Identities not resolved", f"{len(unresolved)}: " + "; ".join(unresolved["person"].head(30)) +
                     (f" … and {len(unresolved) - 30} more (People sheet)" if len(unresolved) > 30 else "")))
    # Warnings: one row per kind, the first few in full.
    kinds: dict[str, list[str]] = {}
    for w in s.warnings:
        kinds.setdefault(w.split(":", 1)[0][:60], []).append(w)
    for k, ws_ in kinds.items():
        if len(ws_) <= 3:
            rows += [("Warning", w) for w in ws_]
        else:
            rows.append(("Warning", f"{k}: {len(ws_)} times, e.g. " + " | ".join(ws_[:3])))
    return rows


def add_methodology_sheet(wb, s: Scan) -> None:
    ws = wb.create_sheet("Methodology")
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 110
    for j, h in enumerate(("Item", "Value"), start=1):
        c = set_cell(ws, 1, j, h, HEADER_FONT)
        c.fill = HEADER_FILL
    last = key_value_rows(ws, methodology_rows(s), 2, (30, 110)) - 1
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
    page_setup(ws, company_name(s), s.as_of.isoformat(), 2, last)
