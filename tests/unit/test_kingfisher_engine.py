"""Kingfisher's compiled rules go through ddkit's sealed cache: its native library only ever sees a folder
made for one load, holding what this user's ddkit sealed."""

from __future__ import annotations

import os
from pathlib import Path

from ddkit import cache
from ddkit.collect.secrets import kingfisher_engine as ke


class FakeRules:
    """What the SDK does with its cache folder: load a database found there, else compile and store one."""
    seen: list[dict[str, bytes]] = []

    def __init__(self, confidence: str, cache_dir: str | None = None, cache: bool = True):
        files = {p.name: p.read_bytes() for p in Path(cache_dir).iterdir()} if cache_dir else {}
        FakeRules.seen.append(files)
        if files.get("db.vscdb") == b"compiled":
            self.cache_status = "loaded"
        else:
            self.cache_status = "stored"
            Path(cache_dir, "db.vscdb").write_bytes(b"compiled")


def test_compiled_rules_are_sealed_and_only_sealed_ones_handed_over(tmp_path, monkeypatch):
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / "c"))
    FakeRules.seen = []
    assert ke._load_rules(FakeRules).cache_status == "stored"              # cold: compiled, then sealed
    folder = cache.cache_dir("kingfisher")
    entries = list(folder.iterdir())
    assert len(entries) == 1 and cache.inspect(entries[0]) is not None     # one sealed entry, no staging left
    assert ke._load_rules(FakeRules).cache_status == "loaded"              # warm: the sealed copy is handed over
    assert FakeRules.seen[1] == {"db.vscdb": b"compiled"}
    # A database planted beside it, or the entry rewritten by someone without the key, is never handed over.
    (folder / "db.vscdb").write_bytes(b"planted")
    raw = entries[0].read_bytes()
    entries[0].write_bytes(raw.replace(b"compiled", b"planted!"))
    assert ke._load_rules(FakeRules).cache_status == "stored"
    assert FakeRules.seen[2] == {}
    assert "kingfisher-rules" in (cache.take_write_failures() or "")
    assert ke._load_rules(FakeRules).cache_status == "loaded"              # rewritten, sealed again
    assert sorted(os.listdir(folder)) == sorted(["db.vscdb", entries[0].name])
