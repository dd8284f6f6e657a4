"""Which of ddkit's engines reports each gitleaks default rule (docs/secrets.md, "gitleaks' families").

Usage: python benchmarks/bench_gitleaks_families.py GITLEAKS_TOML   (config/gitleaks.toml of a gitleaks checkout)

For each rule, a sample is generated from the rule's own regular expression (a seeded random string the
expression matches, with at least the rule's entropy), or written by hand where a generated string would
not look like real code (the rules that need a keyword in context); then kingfisher and ddkit's detectors
scan it, and the context filter judges it at an ordinary source path (src/app.py, config/app.yaml). The
output is a Markdown table per family: the rule, the engine and detector that reports it, or "none".
Nothing here is a real secret: every value is random.
"""

from __future__ import annotations

import base64
import collections
import math
import random
import re
import string
import sys
from pathlib import Path

import tomllib

try:
    import re._constants as C  # type: ignore[import-not-found]
    import re._parser as sre_parse  # type: ignore[import-not-found]
except ImportError:  # Python < 3.11
    import sre_constants as C  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

R = random.Random(20261206)
WORD = string.ascii_letters + string.digits + "_"
POSIX = {"[:alnum:]": "a-zA-Z0-9", "[:alpha:]": "a-zA-Z", "[:digit:]": "0-9", "[:upper:]": "A-Z", "[:lower:]": "a-z",
         "[:xdigit:]": "0-9a-fA-F", "[:space:]": r"\s", "[:punct:]": "!-/:-@\\[-`{-~", "[:word:]": r"\w"}

def py_regex(rx):
    for k, v in POSIX.items():
        rx = rx.replace(k, v)
    rx = rx.replace(r"\z", r"\Z")
    if "(?i)" in rx[1:]:
        rx = "(?i)" + rx.replace("(?i)", "")
    return rx

def chars_of(items, ignore):
    pool = []
    neg = False
    for op, av in items:
        if op == C.NEGATE:
            neg = True
        elif op == C.LITERAL:
            pool.append(chr(av))
        elif op == C.RANGE:
            pool += [chr(c) for c in range(av[0], av[1] + 1)]
        elif op == C.CATEGORY:
            pool += {C.CATEGORY_DIGIT: list(string.digits), C.CATEGORY_WORD: list(WORD),
                     C.CATEGORY_SPACE: [" "], C.CATEGORY_NOT_SPACE: list(WORD),
                     C.CATEGORY_NOT_DIGIT: list(string.ascii_letters), C.CATEGORY_NOT_WORD: list("-.")}.get(av, list(WORD))
    if neg:
        pool = [c for c in WORD if c not in set(pool)] or ["a"]
    # prefer alphanumerics (a secret), and printable characters
    pool = [c for c in pool if c.isprintable() and c not in "\n\r\t"] or [" "]
    return pool

def gen(tree, mode, flags=0):
    out = []
    for op, av in tree:
        if op == C.LITERAL:
            out.append(chr(av))
        elif op == C.NOT_LITERAL:
            out.append("a" if chr(av) != "a" else "b")
        elif op == C.ANY:
            out.append(R.choice(WORD))
        elif op == C.IN:
            out.append(R.choice(chars_of(av, flags)))
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", None)):
            lo, hi, sub = av
            if hi == C.MAXREPEAT:
                hi = lo + 40
            if mode == "min":
                n = lo if lo > 0 else 0
                if lo <= 1 and hi > 8 and _has_class(sub):
                    n = min(hi, 20)
            else:
                n = R.randint(lo, min(hi, lo + 30))
            for _ in range(n):
                out.append(gen(sub, mode, flags))
        elif op == C.SUBPATTERN:
            out.append(gen(av[-1], mode, flags))
        elif op == C.BRANCH:
            alts = av[1]
            out.append(gen(alts[0] if mode == "min" else R.choice(alts), mode, flags))
        elif op in (C.AT, C.ASSERT, C.ASSERT_NOT):
            pass
        elif op == C.GROUPREF:
            pass
        else:
            pass
    return "".join(out)

def _has_class(sub):
    return any(op in (C.IN, C.ANY) for op, _ in sub)

def entropy(s):
    if not s:
        return 0
    c = collections.Counter(s)
    return -sum(v / len(s) * math.log2(v / len(s)) for v in c.values())

def samples(toml_path):
    cfg = tomllib.load(open(toml_path, "rb"))
    out = []
    for rule in cfg["rules"]:
        rid = rule["id"]
        if "regex" not in rule:
            out.append((rid, None, rule.get("path"), "path-only rule"))
            continue
        rx = py_regex(rule["regex"])
        try:
            crx = re.compile(rx)
            tree = sre_parse.parse(rx)
        except Exception as e:
            out.append((rid, None, None, f"regex not parsed: {e}"))
            continue
        grp = rule.get("secretGroup", 1 if crx.groups else 0)
        best = None
        for attempt in range(300):
            s = gen(tree, "min" if attempt % 3 == 0 else "rand")
            m = crx.search(s)
            if not m:
                continue
            sec = m.group(grp) if grp <= crx.groups else m.group(0)
            if sec is None:
                continue
            if entropy(sec) >= rule.get("entropy", 0) and not re.search(r"(?i)example|xxxx", sec):
                best = s
                break
        out.append((rid, best, rule.get("path"), "" if best else "no sample generated"))
    return out



def hand_samples() -> dict[str, tuple[str, str]]:
    """(path, text) for the rules whose generated sample would not look like code."""
    R2 = random.Random(7)
    A = string.ascii_letters + string.digits
    L = string.ascii_lowercase + string.digits

    def r(n, a=A):
        return "".join(R2.choice(a) for _ in range(n))
    HAND = {
     "algolia-api-key": ("src/search.js", f'const algoliaApiKey = "{r(32, L)}";'),
     "alibaba-access-key-id": ("src/oss.py", f'ALIBABA_ACCESS_KEY_ID = "LTAI{r(20, L)}"'),
     "alibaba-secret-key": ("src/oss.py", f'alibaba_secret_key = "{r(30, L)}"'),
     "artifactory-api-key": ("ci/publish.sh", f'ARTIFACTORY_API_KEY=AKCp{r(69)}'),
     "artifactory-reference-token": ("ci/publish.sh", f'ARTIFACTORY_TOKEN=cmVmd{r(59)}'),
     "atlassian-api-token": ("ci/jira.py", f'atlassian_api_token = "{r(24, L)}"'),
     "azure-ad-client-secret": ("infra/azure.py", f'client_secret = "{r(3)}8Q~{r(34)}"'),
     "clickhouse-cloud-api-secret-key": ("src/ch.py", f'CLICKHOUSE_SECRET = "4b1d{r(38)}"'),
     "codecov-access-token": ("ci/codecov.yml", f'codecov_token: {r(32, L)}'),
     "etsy-access-token": ("src/shop.py", f'etsy_api_key = "{r(24, L)}"'),
     "flyio-access-token": ("deploy/fly.sh", f'FLY_API_TOKEN=fo1_{r(43)}'),
     "generic-api-key": ("src/client.py", f'api_key = "{r(32)}"'),
     "grafana-cloud-api-token": ("ops/grafana.py", f'GRAFANA_TOKEN = "glc_{r(80)}="'),
     "harness-api-key": ("ci/harness.sh", f'HARNESS_KEY=pat.{r(22)}.{r(24)}.{r(20)}'),
     "hashicorp-tf-password": ("infra/db.tf", f'  administrator_login_password = "{r(16)}"'),
     "jfrog-api-key": ("ci/jfrog.sh", f'JFROG_API_KEY="{r(73)}"'),
     "jfrog-identity-token": ("ci/jfrog.sh", f'JFROG_IDENTITY_TOKEN="{r(64, L)}"'),
     "kubernetes-secret-yaml": ("k8s/secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n"
                                "  password: " + base64.b64encode(r(18).encode()).decode()),
     "nuget-config-password": ("nuget.config", f'<add key="ClearTextPassword" value="{r(16)}" />'),
     "planetscale-api-token": ("src/db.ts", f'const token = "pscale_tkn_{r(43)}";'),
     "stripe-access-token": ("billing/stripe.py", f'stripe.api_key = "sk_test_{r(24)}"'),
     "pkcs12-file": ("certs/client.p12", "(binary PKCS#12 file: path-only rule)"),
     "curl-auth-header": ("scripts/api.sh", f'curl -H "Authorization: Bearer {r(40)}" https://api.acme.example/v1'),
     "flutterwave-secret-key": ("pay/flw.py", f'FLW = "FLWSECK_TEST-{r(32, "0123456789abcdef")}-X"'),
    }

    return HAND


def family(rule_id: str) -> str:
    for multi in ("new-relic", "hashicorp-tf", "microsoft-teams", "defined-networking", "octopus-deploy",
                  "cisco-meraki", "kubernetes-secret", "curl-auth", "generic-api", "private-key", "pkcs12-file",
                  "1password", "clickhouse-cloud", "aws"):
        if rule_id.startswith(multi):
            return multi
    return rule_id.split("-")[0]


def main() -> int:
    from ddkit.collect.secrets import kingfisher_engine
    from ddkit.collect.secrets.context import Context
    from ddkit.collect.secrets.detectors import DetectorSet, all_detectors
    from ddkit.globs import first_match
    ctx = Context.from_rules()
    dets = DetectorSet(all_detectors(ctx.cfg), screen=False)
    by_name = [c for c in ctx.cfg["credential_files"] if c.get("by_name")]
    hand = hand_samples()
    rows = []
    for rid, sample, _path_rx, note in samples(sys.argv[1]):
        paths = ["src/app.py", "config/app.yaml"]
        if rid in hand:
            paths, sample = [hand[rid][0]], hand[rid][1]
        who = []
        if any(first_match(paths[0], c["files"]) for c in by_name):
            who.append("ddkit " + next(c["id"] for c in by_name if first_match(paths[0], c["files"])) + " (by name)")
        for text in ([sample] if sample else []):
            b = text.encode()
            for ln, det, _name, tier, value in kingfisher_engine.scan(b):
                if ctx.decide(tier, det, paths[0], b.split(b"\n")[ln], value)[0] != "suppress":
                    who.append(f"kingfisher {det}")
            for p in paths:
                for line in b.split(b"\n"):
                    for d, rx in zip(dets.detectors, dets.compiled):
                        if d.paths and not first_match(p, d.paths):
                            continue
                        for m in rx.finditer(line):
                            if ctx.decide(d.tier, "ddkit." + d.id, p, line, m.group("secret"))[0] != "suppress":
                                who.append(f"ddkit {d.id} ({d.tier})")
        rows.append((family(rid), rid, sorted(set(who)), note if not sample and not who else ""))
    fams = collections.defaultdict(list)
    for fam, rid, who, note in rows:
        fams[fam].append((rid, who, note))
    print("| family | gitleaks rules | reported by |")
    print("|---|---|---|")
    for fam in sorted(fams):
        items = fams[fam]
        engines = sorted({w.split(" ")[0] for _r, who, _n in items for w in who})
        detail = "; ".join(f"`{rid}`: " + (", ".join(who) if who else f"none ({note or 'not found'})")
                           for rid, who, note in items)
        print(f"| {fam} | {len(items)} | {' + '.join(engines) or 'none'} — {detail} |")
    missing = [rid for _f, rid, who, _n in rows if not who]
    print(f"\n{len(rows)} rules, {len(fams)} families; rules no engine reports: {', '.join(missing) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
