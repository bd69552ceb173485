"""Wall time and peak memory of a command and all of its child processes, by phase.

    python benchmarks/peak_memory.py --json runs/demo-resources.json -- make demo

`/usr/bin/time -v` reports the largest single process; a notebook run has two at once (nbconvert and
its kernel), so this samples the whole process tree instead (psutil, every `--interval` seconds):
the peak of the summed resident set (RSS, an upper bound: shared pages count once per process) and
of the summed proportional set (PSS, shared pages split between their processes; what a container
such as a Binder session is charged for, roughly). The command's output passes through unchanged;
lines like "[label] running ..." (pipeline stages) and "Executing notebook ..." / "Converting notebook
..." (nbconvert) start a new phase, so the peaks and seconds are also reported per stage and notebook.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time

import psutil

MARKERS = re.compile(rb"^\[(\w+)\] running|(?:Converting|Executing) notebook (\S+)", re.M)


def tree(pid: int) -> list[psutil.Process]:
    """The process and its descendants (those still alive)."""
    try:
        root = psutil.Process(pid)
        return [root] + root.children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def sample(pid: int, pss: bool) -> tuple[int, int]:
    """(summed RSS, summed PSS or 0) of the process tree, in bytes."""
    rss = pss_sum = 0
    for proc in tree(pid):
        try:
            if pss:
                info = proc.memory_full_info()
                rss += info.rss
                pss_sum += info.pss
            else:
                rss += proc.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return rss, pss_sum


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--interval", type=float, default=0.5, help="seconds between samples")
    ap.add_argument("--json", default=None, help="also write the result to this file")
    ap.add_argument("--name", default=None, help="what tables call the command (e.g. 'make demo'; default: the command line)")
    ap.add_argument("--probe", action="store_true", help="first measure the machine's speed (machine_probe; needs torch)")
    ap.add_argument("--no-pss", action="store_true", help="RSS only (cheaper to sample)")
    ap.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command")
    args = ap.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        ap.error("give a command after --")

    if args.probe:  # torch loads only when asked for
        from speed_probe import machine_probe
    machine = machine_probe() if args.probe else None
    if machine:
        print(f"machine speed now: fp32 matmul {machine['matmul_gflops']} GFLOP/s ({machine['threads']} threads), "
              f"memory copy {machine['memory_copy_gbs']} GB/s", file=sys.stderr, flush=True)
    start = time.time()
    # unbuffered Python output, so that the phase markers arrive when they are printed
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))
    phases = [{"phase": "start", "start": 0.0, "peak_rss_mb": 0.0, "peak_pss_mb": 0.0}]

    def forward():  # pass the output through, and start a phase at each marker
        out = sys.stdout.buffer
        while True:
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                return
            out.write(chunk)
            out.flush()
            for m in MARKERS.finditer(chunk):
                name = (m.group(1) or m.group(2)).decode(errors="replace")
                phases.append({"phase": name, "start": round(time.time() - start, 1), "peak_rss_mb": 0.0,
                               "peak_pss_mb": 0.0})

    reader = threading.Thread(target=forward, daemon=True)
    reader.start()
    peak_rss = peak_pss = 0
    while proc.poll() is None:
        rss, pss = sample(proc.pid, not args.no_pss)
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        phase = phases[-1]
        phase["peak_rss_mb"] = max(phase["peak_rss_mb"], round(rss / 2**20, 1))
        phase["peak_pss_mb"] = max(phase["peak_pss_mb"], round(pss / 2**20, 1))
        time.sleep(args.interval)
    reader.join(timeout=5)
    wall = time.time() - start
    for a, b in zip(phases, phases[1:] + [{"start": round(wall, 1)}]):
        a["seconds"] = round(b["start"] - a["start"], 1)
    result = {"command": " ".join(command), "name": args.name or " ".join(command), "returncode": proc.returncode, "wall_seconds": round(wall, 1),
              "peak_rss_mb": round(peak_rss / 2**20, 1), "peak_pss_mb": round(peak_pss / 2**20, 1) if peak_pss else None,
              "sample_interval_s": args.interval, "machine": machine, "phases": phases}
    print(f"\nwall {wall:.0f} s; peak memory of the process tree: RSS {peak_rss / 2**30:.2f} GiB"
          + (f", PSS {peak_pss / 2**30:.2f} GiB" if peak_pss else ""), file=sys.stderr)
    for ph in phases:
        print(f"  {ph['phase']:28s} {ph['seconds']:7.1f} s  peak RSS {ph['peak_rss_mb']:7.0f} MiB"
              + (f"  PSS {ph['peak_pss_mb']:7.0f} MiB" if peak_pss else ""), file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
