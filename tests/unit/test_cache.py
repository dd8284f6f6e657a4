"""ddkit.cache's one entry format: sealed, bound to its place and kind, validated by its codec; anything
else is a miss (counted for the warning), never a traceback and never deserialised."""

from __future__ import annotations

import hashlib
import hmac
import pickle

import pytest

from ddkit import cache


@pytest.fixture()
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / "c"))
    cache.take_write_failures()
    yield tmp_path / "c"
    cache.take_write_failures()


CODEC = cache.json_codec("test/counts", lambda v: isinstance(v, dict) and all(type(x) is int for x in v.values()))


def test_round_trip_and_miss(root):
    p = cache.cache_dir("t") / "a.json"
    assert cache.load(p, CODEC) is None                       # missing: a miss, nothing counted
    assert cache.take_write_failures() is None
    cache.save(p, CODEC, {"x": 1})
    assert cache.load(p, CODEC) == {"x": 1}
    assert cache.inspect(p) == ("test/counts", b'{"x": 1}')
    assert cache.load(None, CODEC) is None


def _planted(p, name: str, body: bytes, key: bytes) -> bytes:
    # An entry made exactly as ddkit makes one, but with another key (another user, another machine).
    magic = cache.FORMAT + b" " + name.encode() + b"\n" + p.relative_to(cache.cache_root()).as_posix().encode() + b"\n"
    return magic + hmac.new(key, magic + b"\0" + body, hashlib.sha256).hexdigest().encode() + body


def test_an_entry_sealed_with_another_key_is_never_deserialised(root):
    p = cache.cache_dir("t") / "a.pkl"
    codec = cache.pickle_codec("test/obj")
    body = pickle.dumps({"x": 1})
    # positive control: with this cache's own key the same bytes are read
    p.write_bytes(_planted(p, "test/obj", body, cache._key()))
    assert cache.load(p, codec) == {"x": 1}
    p.write_bytes(_planted(p, "test/obj", body, b"k" * 32))
    unpickled = []
    spy = cache.Codec("test/obj", codec.encode, lambda b: unpickled.append(b) or pickle.loads(b))
    assert cache.load(p, spy) is None and unpickled == []
    assert "1 cache entry was not written by this user's ddkit" in (cache.take_write_failures() or "")


def test_an_entry_moved_to_another_key_or_read_as_another_kind_is_a_miss(root):
    d = cache.cache_dir("t")
    cache.save(d / "a.json", CODEC, {"x": 1})
    (d / "b.json").write_bytes((d / "a.json").read_bytes())     # a valid entry, at another key
    assert cache.load(d / "b.json", CODEC) is None
    other = cache.json_codec("test/other")
    assert cache.load(d / "a.json", other) is None              # another kind of entry at the same place
    assert cache.load(d / "a.json", CODEC) == {"x": 1}          # (the entry itself is fine)


@pytest.mark.parametrize("damage", [lambda b: b[:-3], lambda b: b[:10], lambda b: b"", lambda b: b[:-2] + b"2}",
                                    lambda b: b.replace(b"ddkit-cache-1", b"ddkit-cache-0")])
def test_damaged_entries_are_misses_and_dropped_on_request(root, damage):
    p = cache.cache_dir("t") / "a.json"
    cache.save(p, CODEC, {"x": 1})
    p.write_bytes(damage(p.read_bytes()))
    assert cache.load(p, CODEC) is None and p.exists()
    assert cache.load(p, CODEC, drop=True) is None and not p.exists()
    assert "were not written by this user's ddkit or damaged (test/counts)" in cache.take_write_failures()


def test_a_sealed_value_of_the_wrong_shape_is_a_miss(root):
    p = cache.cache_dir("t") / "a.json"
    loose = cache.json_codec("test/counts")                     # the same kind, without the validation
    cache.save(p, loose, {"x": "many"})
    assert cache.load(p, loose) == {"x": "many"}                # positive control: sealed and readable
    assert cache.load(p, CODEC) is None


def test_a_value_the_codec_cannot_encode_is_not_kept(root):
    p = cache.cache_dir("t") / "a.pkl"
    cache.save(p, cache.pickle_codec("test/obj"), lambda: 1)    # a lambda does not pickle: only the time
    assert not p.exists()


def test_the_key_builder_includes_code_and_tools(root, monkeypatch):
    k = cache.entry_key("a", 1, tools=("pyyaml",))
    assert k == cache.entry_key("a", 1, tools=("pyyaml",)) and len(k) == 64
    assert k != cache.entry_key("a", 2, tools=("pyyaml",))
    assert k != cache.entry_key("a", 1)
    assert len(cache.entry_key("a", length=16)) == 16
    for name, other in (("code_fingerprint", lambda: "other code"), ("tool_version", lambda t: "9.9")):
        cache._key_base.cache_clear()
        try:
            with monkeypatch.context() as m:
                m.setattr(cache, name, other)
                assert k != cache.entry_key("a", 1, tools=("pyyaml",))
        finally:
            cache._key_base.cache_clear()
    assert k == cache.entry_key("a", 1, tools=("pyyaml",))
