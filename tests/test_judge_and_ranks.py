"""Who judges the win rates (an independent judge on real data), and which process does what under
torchrun/accelerate (rank 0 writes; training stages run everywhere)."""
import json
import threading
import time

import pytest

from rlaif_lib import distributed
from rlaif_lib.method.evaluate import GOLD_JUDGE, judge_record
from rlaif_lib.presets import get_preset


def test_toy_world_is_judged_by_the_gold_rater():
    assert judge_record(True, "Qwen/Qwen2.5-3B-Instruct", "smollm2")["description"] == GOLD_JUDGE


def test_real_data_judge_is_recorded_with_its_independence(capsys):
    own = judge_record(False, "Qwen/Qwen2.5-3B-Instruct", "Qwen/Qwen2.5-1.5B-Instruct")
    assert own["name"] == "Qwen/Qwen2.5-3B-Instruct" and own["independent_of_labeler"] and own["kind"] == "ai"
    assert capsys.readouterr().out == ""
    for judge in (None, "Qwen/Qwen2.5-1.5B-Instruct"):  # no judge, or the labeler itself: not independent
        rec = judge_record(False, judge, "Qwen/Qwen2.5-1.5B-Instruct")
        assert rec["name"] == "Qwen/Qwen2.5-1.5B-Instruct" and rec["independent_of_labeler"] is False
    assert not judge_record(False, "small", "big", same_size_labeler="small")["independent_of_labeler"]
    assert capsys.readouterr().out.count("WARNING") == 3


@pytest.mark.parametrize("name", ["colab", "gpu"])
def test_gpu_presets_have_a_larger_judge_than_any_labeler(name):
    from rlaif_lib.models import model_spec

    p = get_preset(name)
    labelers = [p.labeler] + ([p.same_size_labeler] if p.same_size_labeler else [])
    assert p.judge not in labelers
    assert all(model_spec(p.judge)["params"] > model_spec(x)["params"] for x in labelers)


def test_ranks(monkeypatch):
    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert distributed.is_main_process() and distributed.world_size() == 1 and distributed.runs_here("label")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert not distributed.is_main_process() and distributed.world_size() == 2
    assert [s for s in ("data", "sft", "sample", "label", "reward", "rl", "evaluate") if distributed.runs_here(s)] == \
        ["sft", "reward", "rl"]


def test_wait_for_reads_what_rank_0_writes(tmp_path, monkeypatch):
    marker = tmp_path / "done.json"
    threading.Timer(0.3, lambda: marker.write_text(json.dumps({"seconds": 1.0}))).start()
    start = time.time()
    assert distributed.wait_for(marker) == {"seconds": 1.0}
    assert time.time() - start >= 0.25
    monkeypatch.setenv("RLAIF_WAIT_TIMEOUT", "0.2")
    with pytest.raises(TimeoutError, match="RLAIF_WAIT_TIMEOUT"):
        distributed.wait_for(tmp_path / "never.json")
