"""Benchmark: what ``smartsofar run`` costs on a small machine, with 4 units, against the simulators.

    .venv/bin/python bench/resources.py                  # 10 minutes, as the targets are stated
    .venv/bin/python bench/resources.py --minutes 2 --lag-minutes 2   # quicker look
    .venv/bin/python bench/resources.py --write docs/benchmarks.md

Starts the inverter simulator (4 units, 150 ms replies, 1 % late) and the Shelly simulator as their own
processes on 127.0.0.1, then ``smartsofar run`` pointed at them, and measures:

- start to first control decision (the service logs it), and start to the web page answering;
- resident memory (VmRSS) after the run, and its peak (VmHWM);
- CPU used by the service process over the run after the first minute, as a share of one core;
- the same memory and CPU for a baseline in the same run: an idle interpreter that imports what the
  service imports, so the service's own share is visible.

The service and the baseline run from a virtualenv made for the run with ``pip install .`` (what
production installs, no test tools: in the development virtualenv, httpx also loads its command line's
libraries, rich and pygments, because they are there). ``--dev-venv`` uses this interpreter instead.

Targets: at most 80 MB resident after 10 minutes, at most 3 % of one core, first decision within 2 s.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from markers import write_between_markers
from processes import free_port, lag_cell, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
DAY = ROOT.parent / "shared" / "data" / "days" / "2007-06-10.csv"  # a measured day the simulators play
PYTHON = sys.executable
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def memory_mb(pid: int) -> tuple[float, float]:
    status = Path(f"/proc/{pid}/status").read_text()

    def kb(name: str) -> float:
        match = re.search(rf"^{name}:\s+(\d+) kB", status, re.MULTILINE)
        return int(match.group(1)) / 1024 if match else float("nan")

    return kb("VmRSS"), kb("VmHWM")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the service runs (default 10)")
    parser.add_argument("--lag-minutes", type=float, default=10.0,
                        help="then this long with two busy processes sharing the cores, for the control lag (0: skip)")
    parser.add_argument("--write", type=Path, help="put the results into this markdown file")
    parser.add_argument("--dev-venv", action="store_true", help="run the service with this interpreter, not a "
                        "production install made for the run")
    args = parser.parse_args(argv)
    if not DAY.exists():
        print(f"{DAY} is missing: this benchmark plays that measured day (../shared is not there)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="smartsofar-venv-") as venv:
        python = PYTHON if args.dev_venv else production_python(Path(venv))
        return measure(args, python)


def production_python(venv: Path) -> str:
    """A new virtualenv with SmartSofar installed as production installs it (``pip install .``)."""
    subprocess.run([PYTHON, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    str(ROOT)], check=True, timeout=900)
    return str(venv / "bin" / "python")


def measure(args: argparse.Namespace, python: str) -> int:
    """Run the simulators, the baseline and the service; print (and write) the table."""
    bus_port, meter_port, web_port = free_port(), free_port(), free_port()
    with tempfile.TemporaryDirectory(prefix="smartsofar-bench-") as data_dir:
        log_path = Path(data_dir) / "service.log"
        simulators = [
            subprocess.Popen([PYTHON, "-m", "smartsofar.cli", "sim-inverter", "--listen",
                              f"tcp://127.0.0.1:{bus_port}", "--units", "1,2,3,4", "--day", str(DAY)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
            subprocess.Popen([PYTHON, "-m", "smartsofar.cli", "sim-meter", "--listen", f"127.0.0.1:{meter_port}",
                              "--units", "1,2,3,4", "--day", str(DAY)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        ]
        baseline = subprocess.Popen([python, "-c", "import smartsofar.cli, time; time.sleep(1e6)"])
        try:
            wait_for_port(bus_port)
            wait_for_port(meter_port)
            started = time.monotonic()
            with log_path.open("w") as log:
                service = subprocess.Popen(
                    [python, "-m", "smartsofar.cli", "run", "--bus", f"tcp://127.0.0.1:{bus_port}", "--units",
                     "1,2,3,4", "--meter", f"http://127.0.0.1:{meter_port}", "--meter-model", "pro3em", "--web",
                     f"127.0.0.1:{web_port}", "--data-dir", data_dir], stdout=log, stderr=subprocess.STDOUT)
            try:
                page_s = launch_to_decision_s = None
                while page_s is None or launch_to_decision_s is None:
                    if launch_to_decision_s is None and "first control decision" in log_path.read_text():
                        launch_to_decision_s = time.monotonic() - started
                    if page_s is None:
                        with contextlib.suppress(OSError):
                            urllib.request.urlopen(f"http://127.0.0.1:{web_port}/api/v1/state", timeout=1).read()
                            page_s = time.monotonic() - started
                    time.sleep(0.02)
                decision = re.search(r"first control decision ([\d.]+) s", log_path.read_text())
                time.sleep(60)
                cpu_start, base_cpu_start, t0 = cpu_seconds(service.pid), cpu_seconds(baseline.pid), time.monotonic()
                time.sleep(max(0.0, args.minutes * 60 - 60))
                elapsed = time.monotonic() - t0
                cpu_pct = 100 * (cpu_seconds(service.pid) - cpu_start) / elapsed
                base_cpu_pct = 100 * (cpu_seconds(baseline.pid) - base_cpu_start) / elapsed
                rss, peak = memory_mb(service.pid)
                base_rss, _ = memory_mb(baseline.pid)
                diagnostics = json.loads(urllib.request.urlopen(
                    f"http://127.0.0.1:{web_port}/api/v1/diagnostics", timeout=5).read())
                cycles, lag_alone = int(diagnostics["cycles"]), diagnostics["control_lag"]
                lag_busy: dict[str, float] | None = None
                if args.lag_minutes > 0:  # two processes that want a core each, as when other services share it
                    hogs = [subprocess.Popen([PYTHON, "-c", "while True: pass"]) for _ in range(2)]
                    try:
                        time.sleep(args.lag_minutes * 60)
                        lag_busy = json.loads(urllib.request.urlopen(
                            f"http://127.0.0.1:{web_port}/api/v1/diagnostics", timeout=30).read())["control_lag"]
                    finally:
                        for hog in hogs:
                            hog.kill()
                            hog.wait(10)
            finally:
                service.terminate()
                service.wait(30)
        finally:
            for process in (*simulators, baseline):
                process.terminate()
                process.wait(10)
    first = float(decision.group(1)) if decision else float("nan")
    text = (f"Measured with `.venv/bin/python bench/resources.py --minutes {args.minutes:g} --lag-minutes "
            f"{args.lag_minutes:g}{' --dev-venv' if args.dev_venv else ''}` "
            f"({'the development virtualenv' if args.dev_venv else 'a production install made for the run'}; "
            "4 units on a simulated "
            "bus with 150 ms replies, a simulated Pro 3EM, both on 127.0.0.1; "
            f"this machine: {os.cpu_count()} cores).\n\n"
            "| measure | `smartsofar run` | baseline: idle interpreter with the same imports | target |\n"
            "|---|---|---|---|\n"
            f"| resident memory after {args.minutes:g} min | {rss:.1f} MB (peak {peak:.1f} MB) | {base_rss:.1f} MB "
            "| ≤ 80 MB |\n"
            f"| CPU, minute 1 to {args.minutes:g} | {cpu_pct:.2f} % of one core ({cycles} control cycles in all) | "
            f"{base_cpu_pct:.2f} % | ≤ 3 % |\n"
            f"| engine start to first control decision (the service's log) | {first:.2f} s | | ≤ 2 s |\n"
            f"| process launch to first control decision (interpreter and imports included) | "
            f"{launch_to_decision_s:.2f} s | | |\n"
            f"| process launch to the web page answering | {page_s:.2f} s | | |\n"
            f"| control lag, meter sample arrival to decision, median / p99 / max | {lag_cell(lag_alone)} | | |\n")
    if lag_busy is not None:
        text += (f"| the same over the last 10 minutes, the last {min(args.lag_minutes, 10):g} of them with two busy "
                 f"processes on the {os.cpu_count()} cores | {lag_cell(lag_busy)} | | |\n")
    print(text)
    if args.write:
        write_between_markers(args.write, "resources.py", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
