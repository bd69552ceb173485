"""The notebooks' small reading helpers (rlaif_lib/notebook.py): wording that follows the interval."""
from rlaif_lib.notebook import beats, pct, side, versus

ABOVE = {"value": 0.63, "ci_low": 0.6, "ci_high": 0.67, "n": 200}
ACROSS = {"value": 0.52, "ci_low": 0.48, "ci_high": 0.55, "n": 200}
NEAR = {"value": 0.58, "ci_low": 0.55, "ci_high": 0.62, "n": 200}
BELOW = {"value": 0.41, "ci_low": 0.38, "ci_high": 0.44, "n": 200}


def test_the_words_follow_the_interval():
    assert pct(ABOVE) == "63.0% [60.0, 67.0]" and pct(None) == "not measured"
    assert [side(d) for d in (ABOVE, ACROSS, BELOW)] == ["above", "contains", "below"] and side({}) == ""
    assert beats(ABOVE, "RLAIF", "SFT").startswith("RLAIF beats SFT (win rate 63.0%")
    assert beats(ACROSS, "RLAIF", "SFT").startswith("RLAIF and SFT cannot be told apart at this n")
    assert beats(BELOW, "RLAIF", "SFT").startswith("RLAIF loses to SFT")
    assert beats(None, "RLAIF", "SFT") == "RLAIF vs SFT: not measured in this run"
    assert (versus(ABOVE, BELOW), versus(BELOW, ABOVE), versus(ABOVE, NEAR), versus(ABOVE, None)) == (
        "above", "below", "overlap", "")
