"""The Summary's share figures: a share that rounds to 0.0% but is not zero is never shown as 0.0%."""

from ddkit.report.summary_sheet import _share_text


def test_small_nonzero_share_is_not_shown_as_zero():
    assert _share_text(3 / 19437) == "under 0.1%"      # requests: one AI-marked commit, 3 surviving lines
    assert _share_text(0.0) == "0.0%"
    assert _share_text(None) == "n/a"
    assert _share_text(0.0005) == "0.1%"
    assert _share_text(0.25) == "25.0%"
