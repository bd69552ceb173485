"""The demo's own record of its wall time and peak memory (benchmarks/peak_memory.py) and README's
timing table generated from it (report.timings_table)."""
import json
import subprocess
import sys
from pathlib import Path

from rlaif_lib.report import timings_table

ROOT = Path(__file__).resolve().parents[1]


def test_peak_memory_sees_a_child_process_and_splits_phases(tmp_path):
    """A grandchild that holds 200 MiB for a second is counted (the tree, not one process), and the
    phase markers a pipeline stage and nbconvert print split the time."""
    child = ("import time; print('[label] running ...', flush=True); x = bytearray(200 * 2**20); x[::4096] = "
             "b'1' * len(x[::4096]); time.sleep(1.5); del x; print('[NbConvertApp] Converting notebook nb/01_sft.ipynb to "
             "notebook', flush=True); time.sleep(0.6)")
    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "peak_memory.py"), "--interval", "0.1", "--json",
                           str(out), "--", "sh", "-c", f'{sys.executable} -c "{child}"; exit 3'],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3  # the command's exit status passes through
    assert "[label] running" in proc.stdout  # and its output
    r = json.loads(out.read_text())
    assert r["returncode"] == 3 and r["wall_seconds"] >= 2.0
    assert 200 <= r["peak_rss_mb"] < 2000 and 150 <= r["peak_pss_mb"] <= r["peak_rss_mb"]
    phases = {p["phase"]: p for p in r["phases"]}
    assert phases["label"]["peak_rss_mb"] >= 200 and 1.0 <= phases["label"]["seconds"] <= 5
    assert phases["nb/01_sft.ipynb"]["peak_rss_mb"] < 200 and phases["nb/01_sft.ipynb"]["seconds"] >= 0.5
    assert r["machine"] is None  # no --probe


def test_machine_probe_measures_matmul_and_memory_speed():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import speed_probe

    m = speed_probe.machine_probe()
    assert m["threads"] >= 1 and 1 < m["matmul_gflops"] < 1e5 and 0.1 < m["memory_copy_gbs"] < 1e4


def test_timings_table():
    metrics = {"stages": {"sft": 40.2, "label": 100.0}}
    resources = {"command": "sh -c '.venv/bin/python -m ...'", "name": "make demo", "wall_seconds": 500.4, "peak_rss_mb": 3000.0, "peak_pss_mb": 1536.0,
                 "phases": [{"phase": "sft", "seconds": 41, "peak_pss_mb": 512.0},
                            {"phase": "label", "seconds": 101, "peak_pss_mb": 1536.0},
                            {"phase": "notebooks/00_a.ipynb", "seconds": 20, "peak_pss_mb": 700.0},
                            {"phase": "notebooks/01_b.ipynb", "seconds": 30, "peak_pss_mb": 900.0}]}
    table = timings_table(metrics, resources)
    rows = [line.strip("|").split("|") for line in table.splitlines()[2:]]
    assert [[c.strip() for c in r] for r in rows] == [["sft", "40", "0.50"], ["label", "100", "1.50"],
                                                      ["2 notebooks", "50", "0.88"],
                                                      ["**`make demo`, in all**", "**500**", "**1.50**"]]
    probed = timings_table(metrics, dict(resources, machine={"matmul_gflops": 362.7, "threads": 2, "memory_copy_gbs": 9.84}))
    assert probed.splitlines()[-1] == "| machine speed at the start | fp32 matmul 363 GFLOP/s (2 threads), memory copy 9.8 GB/s |  |"
    assert len(timings_table(metrics, None).splitlines()) == 4  # stages only, no memory column values
