"""Builders of hostile input files, shared by the tests (tests/unit/test_limits.py,
tests/test_hostile_bounds.py) and the benchmark (benchmarks/bench_hostile_inputs.py).

Each builder writes a small file that asks a parser for far more than it is: the tests check that ddkit
refuses it (or reads it in bounded time) and, as a positive control, that the file really asks for it.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

# ----------------------------------------------------------------------------- YAML


def yaml_laughs(levels: int = 9, fan: int = 9, key: str = "findings") -> str:
    """A "billion laughs": each level a list of *fan* aliases of the level below (fan**levels leaves),
    under *key* (a rules file's, a triage file's)."""
    lines = [f"{key}:", '  a0: &a0 "lol"']
    for i in range(1, levels + 1):
        lines.append(f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * fan) + "]")
    return "\n".join(lines) + "\n"


def yaml_merge_bomb(levels: int = 25) -> str:
    """Merge keys (``<<``) that copy the level below twice over: 2**levels pairs once constructed."""
    lines = ["l0: &l0 {k0: 1}"]
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} {{<<: [*l{i - 1}], k{i}: *l{i - 1}, j{i}: *l{i - 1}}}")
    return "\n".join(lines) + "\n"


def pubspec_bomb() -> str:
    """A pubspec.yaml (Dart) whose description is a billion laughs: ScanCode's reading walks it (hours)."""
    return "name: app\nversion: 1.0.0\n" + yaml_laughs(key="x") + "description: *a9\ndependencies:\n  foo: ^1.0.0\n"


def yaml_deep(depth: int = 3000) -> str:
    return "name: " + "[" * depth + "]" * depth + "\n"


def yaml_recursive() -> str:
    return "name: &x [1, *x]\n"


def write_yaml_bombs(folder):
    """The YAML inputs a user hands over, each a bomb: a --rules overlay folder, a company profile, a triage
    file, and a 3,000-deep file. Returns (rules folder, company, triage, deep)."""
    rules = folder / "rules"
    rules.mkdir()
    (rules / "findings.yaml").write_text(yaml_laughs(key="thresholds"))
    company = folder / "company.yaml"
    company.write_text(yaml_laughs(key="vendors"))
    triage = folder / "triage.yaml"
    triage.write_text(yaml_laughs())
    deep = folder / "deep.yaml"
    deep.write_text(yaml_deep(3000))
    return rules, company, triage, deep


def expanded_nodes(value, cap: int) -> int:
    """Nodes of a loaded YAML value once its shared parts are walked again (what json.dumps, a schema
    validation or a merge does), counted up to *cap* (iterative: a recursive structure counts to cap)."""
    n, todo = 0, [value]
    while todo and n <= cap:
        v = todo.pop()
        n += 1
        if isinstance(v, dict):
            todo.extend(v.keys())
            todo.extend(v.values())
        elif isinstance(v, list):
            todo.extend(v)
    return n


# ----------------------------------------------------------------------------- JSON


def deep_sbom(depth: int = 3000) -> str:
    """A CycloneDX document whose metadata nests *depth* levels deep."""
    return ('{"bomFormat": "CycloneDX", "specVersion": "1.5", "metadata": '
            + '{"a": ' * depth + "1" + "}" * depth + ', "components": []}')


def json_overflows(text: str) -> bool:
    """Whether Python's own JSON parser, in a fresh interpreter (the default recursion limit: a test
    process may have raised it), fails on *text* with a RecursionError."""
    import subprocess
    import sys
    p = subprocess.run([sys.executable, "-c", "import json, sys; json.loads(sys.stdin.read())"], input=text,
                       capture_output=True, text=True)
    return p.returncode != 0 and "RecursionError" in p.stderr


def valid_cyclonedx() -> dict:
    return {
        "bomFormat": "CycloneDX", "specVersion": "1.5",
        "metadata": {"component": {"type": "application", "name": "app", "version": "1.0"}},
        "components": [
            {"type": "library", "name": "requests", "version": "2.31.0", "purl": "pkg:pypi/requests@2.31.0",
             "licenses": [{"license": {"id": "Apache-2.0"}}],
             "components": [{"type": "library", "name": "urllib3", "version": "2.0.0",
                             "licenses": [{"expression": "MIT"}]}]},
            {"type": "library", "name": "left-pad", "version": "1.3.0", "purl": "pkg:npm/left-pad@1.3.0",
             "licenses": [{"license": {"name": "WTFPL"}}]},
        ],
    }


def valid_spdx() -> dict:
    return {
        "spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "doc",
        "packages": [
            {"SPDXID": "SPDXRef-1", "name": "flask", "versionInfo": "3.0.0", "licenseConcluded": "BSD-3-Clause",
             "licenseDeclared": "NOASSERTION",
             "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                               "referenceLocator": "pkg:pypi/flask@3.0.0"}]},
            {"SPDXID": "SPDXRef-2", "name": "jinja2", "versionInfo": "3.1.2", "licenseDeclared": "BSD-3-Clause"},
        ],
    }


def one_line_package_json(n: int = 20_000) -> bytes:
    """A package.json of *n* dependencies on one line (0.4 MB for 20,000)."""
    deps = {f"pkg-{i:05d}": f"^1.{i % 50}.0" for i in range(n)}
    return json.dumps({"name": "big", "version": "1.0.0", "dependencies": deps}).encode()


# ----------------------------------------------------------------------------- XML

def pom_with_entities(levels: int = 5, fan: int = 100, where: str = "artifactId") -> str:
    """A pom.xml whose one dependency's *where* element is an entity that expands to fan**levels "lol"s
    (or, with levels=0, an external entity naming /etc/hostname)."""
    if levels:
        ents = ['<!ENTITY l0 "lol">'] + [f'<!ENTITY l{i} "' + f"&l{i - 1};" * fan + '">'
                                          for i in range(1, levels + 1)]
        ref = f"&l{levels};"
    else:
        ents = ['<!ENTITY l0 SYSTEM "file:///etc/hostname">']
        ref = "&l0;"
    art = ref if where == "artifactId" else "commons-lang3"
    desc = f"<description>{ref}</description>" if where == "description" else ""
    return f"""<?xml version="1.0"?>
<!DOCTYPE project [
{chr(10).join(ents)}
]>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.example</groupId>
  <artifactId>demo</artifactId>
  <version>1.0</version>
  {desc}
  <dependencies>
    <dependency>
      <groupId>org.apache.commons</groupId>
      <artifactId>{art}</artifactId>
      <version>3.12.0</version>
    </dependency>
  </dependencies>
</project>
"""


# ----------------------------------------------------------------------------- XLSX

ROSTER_HEADER = ["person", "emails", "type"]


def roster_xlsx(path: Path, rows: list[list], formulas: dict[str, str] | None = None) -> Path:
    """A roster workbook written by openpyxl (which saves formulas without their values)."""
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(ROSTER_HEADER)
    for r in rows:
        ws.append(r)
    for ref, f in (formulas or {}).items():
        ws[ref] = f
    wb.save(path)
    return path


def _replace_part(src: Path, dst: Path, part: str, write) -> Path:
    """A copy of the workbook *src* with *part* rewritten by ``write(fh)`` (a streamed, deflated entry)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
        for info in zin.infolist():
            if info.filename == part:
                entry = zipfile.ZipInfo(part)
                entry.compress_type = zipfile.ZIP_DEFLATED
                with zout.open(entry, "w", force_zip64=True) as fh:
                    write(fh)
            else:
                zout.writestr(info, zin.read(info.filename), compress_type=zipfile.ZIP_DEFLATED)
    return dst


def sheet_bomb(src: Path, dst: Path, megabytes: int = 300, part: str = "xl/worksheets/sheet1.xml") -> Path:
    """*src* with its first sheet replaced by *megabytes* MB of rows that deflate about a thousand times
    (a few hundred kB on disk)."""
    head = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.'
            b'openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            b'<row r="1"><c r="A1" t="inlineStr"><is><t>person</t></is></c><c r="B1" t="inlineStr"><is><t>emails'
            b'</t></is></c><c r="C1" t="inlineStr"><is><t>type</t></is></c></row>')
    # Empty rows (no r attribute: openpyxl counts them) compress to almost nothing.
    filler = b"<row></row>" * (1 << 16)

    def write(fh):
        fh.write(head)
        for _ in range((megabytes << 20) // len(filler)):
            fh.write(filler)
        fh.write(b"</sheetData></worksheet>")
    return _replace_part(src, dst, part, write)


def wide_rows_sheet(src: Path, dst: Path, rows: int = 200, part: str = "xl/worksheets/sheet1.xml") -> Path:
    """*src* with its first sheet holding *rows* rows whose one cell is in column XFD: each row is read
    16,384 cells wide (a 10 kB file that reads as 3.3 million cells)."""
    body = b"".join(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>x</t></is></c><c r="XFD%d" t="inlineStr">'
                    b'<is><t>y</t></is></c></row>' % (i, i, i) for i in range(1, rows + 1))
    xml = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.'
           b'openxmlformats.org/spreadsheetml/2006/main"><sheetData>' + body + b"</sheetData></worksheet>")
    return _replace_part(src, dst, part, lambda fh: fh.write(xml))


def inflated_bytes(path: Path, part: str, cap: int) -> int:
    """How many bytes *part* of the zip really inflates to, counted up to *cap* (+ one chunk)."""
    n = 0
    with zipfile.ZipFile(path) as z, z.open(part) as fh:
        while n <= cap and (chunk := fh.read(1 << 20)):
            n += len(chunk)
    return n


# ----------------------------------------------------------------------------- measuring a command

def run_measured(args: list, cwd=None, env=None, timeout: float = 300):
    """Run *args*; (CompletedProcess with text output, seconds, peak RSS in MB of that one process).

    The peak is the process's own high-water mark (VmHWM in /proc/PID/status), read every 20 ms while
    it runs: the rusage of a waited-for child would include the memory of the process that forked it
    (Linux keeps the pre-exec high-water mark), a pytest process of 1.5 GB say. Where /proc is missing,
    the rusage is used."""
    import os
    import subprocess
    import threading
    import time
    t = time.perf_counter()
    p = subprocess.Popen([str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=env)
    out: dict[str, bytes] = {}
    readers = [threading.Thread(target=lambda n=n, f=f: out.__setitem__(n, f.read()))
               for n, f in (("out", p.stdout), ("err", p.stderr))]
    for r in readers:
        r.start()
    peak_kb = [0]
    done = threading.Event()

    def poll() -> None:
        status = f"/proc/{p.pid}/status"
        while not done.is_set():
            try:
                with open(status, encoding="ascii", errors="replace") as fh:
                    for line in fh:
                        if line.startswith("VmHWM:"):
                            peak_kb[0] = max(peak_kb[0], int(line.split()[1]))
            except (OSError, ValueError):
                pass
            done.wait(0.02)

    poller = threading.Thread(target=poll)
    poller.start()
    timer = threading.Timer(timeout, p.kill)
    timer.start()
    try:
        _pid, status, usage = os.wait4(p.pid, 0)
    finally:
        timer.cancel()
        done.set()
        poller.join()
    p.returncode = os.waitstatus_to_exitcode(status)
    for r in readers:
        r.join()
    seconds = time.perf_counter() - t
    result = subprocess.CompletedProcess(p.args, p.returncode, out["out"].decode("utf-8", "replace"),
                                         out["err"].decode("utf-8", "replace"))
    peak_mb = peak_kb[0] / 1024 if os.path.isdir("/proc/self") else usage.ru_maxrss / 1024
    return result, seconds, peak_mb
