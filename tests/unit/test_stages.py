"""The list of stages (ddkit/stages): consistent, run in an order that lets background work finish, and
put together in the order of the list whatever order the stages ran in."""

from __future__ import annotations

import pytest

from ddkit.progress import Progress
from ddkit.stages import INPUTS, LAST, STAGES, Stage, StageResult
from ddkit.stages.runner import check, schedule, walk


def test_the_stage_list_is_consistent():
    assert check(STAGES, INPUTS) == []
    names = [s.name for s in STAGES]
    assert len(names) == len(set(names))
    # Every need is an input or a product of a stage listed before it (checked here without runner.check).
    produced: set[str] = set()
    for s in STAGES[:-1]:
        assert set(s.needs) <= set(INPUTS) | produced, s.name
        produced |= set(s.produces)
    assert LAST == "analyses" and STAGES[-1].produces == ("scan",)


def test_the_check_finds_what_is_wrong():
    # Positive control: each mistake is reported.
    def run(c):
        return StageResult()
    a = Stage("a", needs=("x",), produces=("p",), run=run)
    b = Stage("b", needs=("q",), produces=("p",), run=run)
    c = Stage("a", needs=("warnings",), produces=("x",), run=run, when="nope")
    errors = check([a, b, c, Stage("z", needs=(), produces=(), run=run)], inputs={"x"})
    assert any("'b' needs 'q'" in e for e in errors)
    assert any("'b' produces 'p', already produced by 'a'" in e for e in errors)
    assert any("name 'a' is used twice" in e for e in errors)
    assert any("only the last stage" in e for e in errors)
    assert any("switched by 'nope'" in e for e in errors)
    assert any("'a' produces 'x', already an input" in e for e in errors)
    # A need produced only by a stage listed later is not available.
    assert check([Stage("late", needs=("p",), produces=(), run=run), a], inputs={"x"})


def test_the_stages_that_wait_run_after_those_that_need_nothing_from_them():
    """Blame's workers and the secrets history run in the background: the stages that need neither run
    first (today's order, which the overlap of git reads relies on)."""
    order = [s.name for s in schedule(STAGES)]
    today = ["files", "history", "identities", "knowledge", "licenses", "dependencies", "vulnerabilities",
             "blame", "ownership", "ai", "bulk imports", "references", "secrets", "analyses"]
    assert [n for n in order if n in today] == today     # (a stage added later may run anywhere between)
    waiting = {s.name for s in STAGES if s.waits}
    assert waiting >= {"blame", "secrets"} and order[-1] == "analyses"
    at = {n: i for i, n in enumerate(order)}
    for s in STAGES:   # and every stage runs after the stages whose products it needs
        for n in s.needs:
            producer = next((p for p in STAGES if n in p.produces), None)
            assert producer is None or at[producer.name] < at[s.name], (s.name, n)


class _Recorder(Progress):
    def __init__(self) -> None:
        super().__init__()
        self.started: list[str] = []

    def start(self, name, total):
        self.started.append(name)


def _toy():
    def emit(name, needs=(), produces=(), waits=False, revise=None, when=None):
        def run(c):
            for n in needs:
                c[n]
            return StageResult(tables={p: f"{name}:{p}" for p in produces}, findings=[{"rule": f"{name}.f"}],
                               warnings=[f"{name} warned"], revise=revise, versions={name: "1"})
        return Stage(name, needs=needs, produces=produces, run=run, waits=waits, when=when)

    def final(c):
        return StageResult(tables={"out": (c["findings"], c["warnings"], c["versions"])})
    drop_a = lambda found: [f for f in found if f["rule"] != "a.f"]
    return [emit("a", produces=("pa",), waits=True), emit("b"), emit("c", needs=("pa",)),
            emit("d", revise=drop_a), emit("off", produces=("po",), when="on"),
            Stage("z", needs=("findings", "warnings", "versions"), produces=("out",), run=final)]


def test_findings_and_warnings_follow_the_list_not_the_order_they_ran_in():
    stages = _toy()
    assert check(stages, inputs={"on"}) == []
    p = _Recorder()
    values = walk(stages, {"on": False}, p, warnings=["before"], versions={"ddkit": "0"})
    assert p.started == ["b", "d", "a", "c", "z"]     # a waits: b and d ran first; "off" is switched off
    found, warnings, versions = values["out"]
    # In list order: a, b, c; then d revises those before it (drops a's) and adds its own.
    assert [f["rule"] for f in found] == ["b.f", "c.f", "d.f"]
    assert warnings == ["before", "a warned", "b warned", "c warned", "d warned"]
    assert list(versions) == ["ddkit", "a", "b", "c", "d"]
    assert values["po"] is None                          # a switched-off stage's products: None by default


def test_a_stage_reads_only_what_it_declared_and_produces_what_it_said():
    def greedy(c):
        return StageResult(tables={"p": c["secret"]})
    with pytest.raises(KeyError, match="stage 'g' reads 'secret'"):
        walk([Stage("g", needs=(), produces=("p",), run=greedy)], {"secret": 1}, Progress(), [], {})

    def sloppy(c):
        return StageResult(tables={"other": 1})
    with pytest.raises(RuntimeError, match="not its declared"):
        walk([Stage("s", needs=(), produces=("p",), run=sloppy)], {}, Progress(), [], {})
