"""Benchmark: the control loop's lag while the web page and the API are flooded.

    .venv/bin/python bench/flood.py                     # 2 minutes calm, then 10 minutes of flood
    .venv/bin/python bench/flood.py --write docs/benchmarks.md

Starts the inverter simulator (2 units, 150 ms replies) and the Shelly simulator as their own processes on
127.0.0.1, then ``smartsofar run`` pointed at them. After a calm period it reads the control lag (a meter
sample's arrival to the decision on it, from ``/api/v1/diagnostics``), then floods the service from this
process, bounded, for ``--flood-minutes`` (10 by default, so that the lag's last ``engine.lag.KEEP`` = 600
samples all come from the flood):

- 10 MB request bodies, one after the other (each refused with 413 before it is read);
- 200 attempts to hold a live stream open (the service keeps 8 per client, 64 in all);
- 40 "Read now" of the units at once, again and again.

It then reads the lag again and counts the log lines that say the meter went silent (a standby for a stale
meter). Target: p99 ≤ 100 ms, no standby.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from markers import write_between_markers
from processes import free_port, lag_cell, wait_for_port

PYTHON = sys.executable
BODY_BYTES = 10 * 1024 * 1024
STREAM_ATTEMPTS = 200
READS_AT_ONCE = 40


def lag(web: str) -> dict[str, float]:
    with urllib.request.urlopen(f"{web}/api/v1/diagnostics", timeout=30) as answer:
        result: dict[str, float] = json.load(answer)["control_lag"]
        return result


class Flood:
    """The three floods, each in its own threads, until ``stop`` is set; what each achieved."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.stop = threading.Event()
        self.counts = {"bodies refused": 0, "streams held": 0, "streams refused": 0, "reads": 0}
        self._lock = threading.Lock()
        self._streams: list[http.client.HTTPConnection] = []

    def _count(self, key: str) -> None:
        with self._lock:
            self.counts[key] += 1

    def bodies(self) -> None:
        chunk = b"x" * (1024 * 1024)
        while not self.stop.is_set():
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                connection.putrequest("PUT", "/api/v1/settings")
                connection.putheader("Content-Type", "application/json")
                connection.putheader("Content-Length", str(BODY_BYTES))
                connection.endheaders()
                for _ in range(BODY_BYTES // len(chunk)):
                    connection.send(chunk)
                if connection.getresponse().status == 413:
                    self._count("bodies refused")
            except OSError:
                self._count("bodies refused")  # the service closed the connection on the refused body
            finally:
                connection.close()

    def streams(self) -> None:
        for _ in range(STREAM_ATTEMPTS):
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                connection.request("GET", "/api/v1/events")
                response = connection.getresponse()
            except OSError:
                self._count("streams refused")
                continue
            if response.status == 200:
                self._count("streams held")
                self._streams.append(connection)  # held open, unread, until the flood ends
            else:
                self._count("streams refused")
                connection.close()

    def reads(self) -> None:
        def one(unit: int) -> None:
            request = urllib.request.Request(f"http://127.0.0.1:{self.port}/api/v1/units/{unit}/read",
                                             method="POST")
            try:
                urllib.request.urlopen(request, timeout=30).read()
                self._count("reads")
            except OSError:
                pass

        while not self.stop.is_set():
            threads = [threading.Thread(target=one, args=(1 + i % 2,)) for i in range(READS_AT_ONCE)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

    def run(self, seconds: float) -> None:
        workers = [threading.Thread(target=self.bodies), threading.Thread(target=self.streams),
                   threading.Thread(target=self.reads)]
        for worker in workers:
            worker.start()
        time.sleep(seconds)
        self.stop.set()
        for worker in workers:
            worker.join(60)
        for connection in self._streams:
            connection.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=2.0, help="calm this long first (default 2)")
    parser.add_argument("--flood-minutes", type=float, default=10.0, help="then the flood, this long (default 10)")
    parser.add_argument("--write", type=Path, help="put the results into this markdown file")
    args = parser.parse_args(argv)
    bus_port, meter_port, web_port = free_port(), free_port(), free_port()
    web = f"http://127.0.0.1:{web_port}"
    with tempfile.TemporaryDirectory(prefix="smartsofar-flood-") as data_dir:
        log_path = Path(data_dir) / "service.log"
        simulators = [
            subprocess.Popen([PYTHON, "-m", "smartsofar.cli", "sim-inverter", "--listen", f"tcp://127.0.0.1:{bus_port}",
                              "--units", "1,2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
            subprocess.Popen([PYTHON, "-m", "smartsofar.cli", "sim-meter", "--listen", f"127.0.0.1:{meter_port}",
                              "--units", "1,2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        ]
        try:
            time.sleep(2)
            with log_path.open("w") as log:
                service = subprocess.Popen(
                    [PYTHON, "-m", "smartsofar.cli", "run", "--bus", f"tcp://127.0.0.1:{bus_port}", "--units", "1,2",
                     "--meter", f"http://127.0.0.1:{meter_port}", "--web", f"127.0.0.1:{web_port}",
                     "--data-dir", data_dir], stdout=log, stderr=subprocess.STDOUT)
            try:
                wait_for_port(web_port, 30)
                time.sleep(args.minutes * 60)
                calm = lag(web)
                flood = Flood(web_port)
                flood.run(args.flood_minutes * 60)
                flooded = lag(web)
                silent = sum("meter is silent" in line for line in log_path.read_text().splitlines())
            finally:
                service.terminate()
                service.wait(30)
        finally:
            for process in simulators:
                process.terminate()
                process.wait(10)

    counts = flood.counts
    text = (f"Measured with `.venv/bin/python bench/flood.py --minutes {args.minutes:g} --flood-minutes "
            f"{args.flood_minutes:g}` (2 units on a simulated bus "
            f"with 150 ms replies, a simulated Pro 3EM, both on 127.0.0.1; this machine: {os.cpu_count()} cores).\n\n"
            "| measure | calm | under the flood | target |\n|---|---|---|---|\n"
            f"| control lag, sample arrival to decision, median / p99 / max | {lag_cell(calm)} | {lag_cell(flooded)} "
            "| p99 ≤ 100 ms |\n"
            f"| standbys for a silent meter | | {silent} | 0 |\n\n"
            f"The flood: {counts['bodies refused']} attempts to send a 10 MB body, each refused (413, or the "
            f"connection closed once the 1 MB drain was passed), {counts['streams held']} live streams "
            f"held and {counts['streams refused']} refused, {counts['reads']} \"Read now\" answered, in "
            f"{args.flood_minutes:g} minutes.\n")
    print(text)
    if args.write:
        write_between_markers(args.write, "flood.py", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
