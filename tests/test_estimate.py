"""The GPU presets' stated budgets, as ESTIMATES (derived from FLOPs and stated throughputs, not
measured): colab within 60 minutes on a T4 and gpu within 45 on an A100/H100, each stage within the
GPU's memory; the estimate scales with the budgets, and is printed before a stage on a GPU only."""
from dataclasses import replace

import pytest

from rlaif_lib import estimate
from rlaif_lib.device import DevicePolicy
from rlaif_lib.presets import get_preset


@pytest.mark.parametrize("preset, device_class, minutes", [("colab", "t4", 60), ("gpu", "a100", 45), ("gpu", "h100", 45)])
def test_presets_fit_their_session(preset, device_class, minutes):
    est = estimate.estimate_preset(get_preset(preset), device_class)
    assert est["total"]["seconds"] <= minutes * 60
    assert all(v["memory_gb"] <= estimate.DEVICE_CLASSES[device_class].memory_gb for v in est.values())
    assert set(est) == {"data", "sft", "sample", "label", "reward", "rl", "evaluate", "total"}


def test_estimate_scales_with_the_budget():
    colab = get_preset("colab")
    one, two = (estimate.estimate_preset(replace(colab, n_sft=n), "t4")["sft"]["seconds"] for n in (4000, 8000))
    assert 1.8 < two / one < 2.0  # the same model load, twice the tokens
    rl = estimate.estimate_preset(colab, "t4")["rl"]["seconds"]
    assert estimate.estimate_preset(replace(colab, rl=replace(colab.rl, max_steps=100)), "t4")["rl"]["seconds"] > 1.5 * rl
    total = {cls: estimate.estimate_preset(colab, cls)["total"]["seconds"] for cls in ("t4", "h100")}
    assert total["h100"] < total["t4"]


def test_announce_prints_an_estimate_on_a_gpu_only(capsys, monkeypatch):
    from rlaif_lib import device

    t4 = DevicePolicy(kind="cuda-fp16", device="cuda:0", gpu_name="Tesla T4", memory_gb=15.0, capability=(7, 5))
    monkeypatch.setattr(device, "get_policy", lambda: t4)
    line = estimate.announce(get_preset("colab"), "sft")
    assert line.startswith("[sft] ESTIMATE (derived from FLOPs, not measured) on one NVIDIA T4") and "GB GPU memory" in line
    monkeypatch.setattr(device, "get_policy", lambda: DevicePolicy(kind="cpu", device="cpu"))
    assert estimate.announce(get_preset("colab"), "sft") is None
    assert capsys.readouterr().out.count("ESTIMATE") == 1


def test_device_classes_by_name_then_capability():
    def cls(name, cap):
        return estimate.device_class_of(DevicePolicy(kind="cuda-bf16", device="cuda:0", gpu_name=name, capability=cap))

    assert cls("Tesla T4", (7, 5)) == "t4" and cls("NVIDIA H200", (9, 0)) == "h100" and cls("NVIDIA L4", (8, 9)) == "l4"
    assert cls("unknown", (8, 0)) == "a100" and cls("unknown", (7, 0)) == "t4"


def test_the_table_has_every_preset_and_device():
    table = estimate.markdown_table(("colab", "gpu"), ("t4", "a100"))
    assert table.count("\n| colab |") == 2 and table.count("\n| gpu |") == 2 and "gpu | t4 (does NOT fit)" in table
