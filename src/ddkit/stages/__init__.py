"""The stages of a scan, in one list (docs/extending.md: a new stage is one module and one line here).

The order of the list is the order of the findings and warnings in every report. The stages run in that
order too, except that those that wait for background work (blame, the secrets history) run after the
stages that need nothing from them (runner.schedule; stages/overlap.py says what runs in the background).
"""

from __future__ import annotations

from .analyses import ANALYSES
from .dependencies import DEPENDENCIES, VULNERABILITIES
from .files import FILES
from .history import HISTORY
from .identities import IDENTITIES
from .interface import GATHERED, Needs, Stage, StageResult
from .knowledge import KNOWLEDGE
from .licenses import LICENSES
from .ownership import BLAME, OWNERSHIP
from .provenance import AI, BULK_IMPORTS, REFERENCES
from .secrets import SECRETS

STAGES: tuple[Stage, ...] = (
    FILES,
    HISTORY,
    IDENTITIES,
    BLAME,
    OWNERSHIP,
    KNOWLEDGE,
    LICENSES,
    AI,
    BULK_IMPORTS,
    REFERENCES,
    DEPENDENCIES,
    VULNERABILITIES,
    SECRETS,
    ANALYSES,
)

# When the last stage starts, every thread that reads git is done (the command line forks its workbook
# writer then).
LAST = STAGES[-1].name

# What the pipeline gives the stages before the first one runs (pipeline.scan checks and loads each).
INPUTS: dict[str, str] = {
    "info": "the repository (gitutil.RepoInfo: path, commit, bare, shallow)",
    "as_of": "the date the scan is as of",
    "rules": "the rules (config.Rules), with the rule catalogue",
    "profile": "the company profile as given (config.Company); the licenses stage's `company` may add the license",
    "roster": "the roster (a DataFrame; empty without one)",
    "jobs": "worker processes and threads",
    "progress": "the progress display, for stages that show bars",
    "readers": "what reads git in the background (stages/overlap.py)",
    "licenses_on": "licenses=True: the licenses stage runs",
    "secrets_on": "secrets=True: the secrets stage runs",
    "secrets_strict": "report what the secrets' context filter sets aside",
    "corpora": "the reference corpora (the references stage runs when there are any)",
    "dep_inputs": "the user's SBOMs and environments",
    "vuln_db": "the offline OSV data, or None",
    "decisions": "counsel's triage decisions",
    "claims": "the repository's own triage file, listed as its claims",
    "triage_path": "where the triage decisions came from",
    "options": "the options the Scan records (Scan.options)",
}

__all__ = ["GATHERED", "INPUTS", "LAST", "STAGES", "Needs", "Stage", "StageResult"]
