"""The over-optimization study's arithmetic and its generated reading (the training is in test_pipeline.py)."""
import pytest

from rlaif_lib.experiments import overoptimization as oo


def test_moving_average_is_the_mean_of_the_window():
    assert oo.moving_average([1, 2, 3, 4], 2) == [1, 1.5, 2.5, 3.5]
    assert oo.moving_average([5.0], 10) == [5.0]


def _result(gold_low, gold_paper, steps=40):
    def curves(gold):
        return {"step": list(range(1, steps + 1)), "gold": gold, "reward_model": [i / steps for i in range(steps)],
                "kl": [i / 4 for i in range(steps)], "length": [20 + i / 4 for i in range(steps)]}
    result = {"config": {"steps": steps, "window": 5}, "paper_beta": 0.05,
              "curves": {"0.001": curves(gold_low), "0.05": curves(gold_paper)}}
    result["summary"] = oo.summary(result)
    return result


def test_a_gold_curve_that_rises_and_falls_reads_as_overoptimization():
    rise_fall = [0.3 + 0.02 * i for i in range(20)] + [0.7 - 0.02 * i for i in range(20)]
    held = [0.3 + 0.01 * min(i, 20) for i in range(40)]
    r = _result(rise_fall, held)
    s = r["summary"]["0.001"]
    assert s["gold_peak"] == pytest.approx(0.676) and 21 <= s["peak_step"] <= 23 and s["gold_end"] < 0.4
    text = oo.reading_text(r)
    assert "over-optimization" in text and f"{s['gold_peak']:.2f}" in text and "holds" in text


def test_a_gold_curve_that_keeps_rising_does_not():
    rising = [0.3 + 0.01 * i for i in range(40)]
    text = oo.reading_text(_result(rising, rising))
    assert "over-optimization" not in text and "no fall" in text


def test_a_run_shorter_than_the_window_reads_from_its_last_step():
    r = _result([0.3, 0.4, 0.5], [0.3, 0.3, 0.3], steps=3)
    s = r["summary"]["0.001"]
    assert s["gold_start"] == pytest.approx(0.4) and s["gold_end"] == pytest.approx(0.4)
    assert s["rm_start"] == s["rm_end"] and "beta = 0.001" in oo.reading_text(r)


def test_the_committed_curves_are_tiny_and_returned_only_for_tiny():
    assert oo.load_committed()["preset"] == "tiny" and oo.load_committed("tiny") is not None
    assert oo.load_committed("colab") is None
