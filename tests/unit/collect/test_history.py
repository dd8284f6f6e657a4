"""The hand-over of patches from the history read to the secrets scan (one `git log -p` for both)."""

import threading
import time

import pytest

from ddkit.collect.history import PatchFeed


def test_everything_put_is_read_in_order_within_the_budget():
    feed = PatchFeed(budget=100)
    items = [(f"{i:040x}", bytes(30)) for i in range(50)]
    peak = []

    def produce():
        for sha, patch in items:
            feed.put(sha, patch)
            peak.append(feed._bytes)
        feed.close()
    t = threading.Thread(target=produce)
    t.start()
    time.sleep(0.05)            # the reader waits for the scanner: at most the budget (+ one patch) waits
    assert feed._bytes <= 100 + 30
    got = list(feed)
    t.join()
    assert got == items and max(peak) <= 130


def test_a_failed_read_is_raised_not_taken_for_a_whole_history():
    feed = PatchFeed()
    feed.put("a" * 40, b"diff --git a/x b/x\n")
    feed.close(OSError("git log died"))
    it = iter(feed)
    assert next(it)[0] == "a" * 40
    with pytest.raises(RuntimeError, match="history read") as e:
        next(it)
    assert isinstance(e.value.__cause__, OSError)


def test_a_scanner_that_stops_does_not_block_the_reader():
    feed = PatchFeed(budget=10)
    feed.put("a" * 40, bytes(20))            # over the budget: the next put would wait for the scanner
    feed.abandon()
    t0 = time.perf_counter()
    for _ in range(5):
        feed.put("b" * 40, bytes(20))
    assert time.perf_counter() - t0 < 1
    feed.close()
    assert list(feed) == []
