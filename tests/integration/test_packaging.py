"""``pip install .`` gives a working ``smartsofar``: the wheel carries every file of the package, assets included."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "smartsofar"


def test_the_wheel_carries_the_page_and_the_vendored_licences_and_no_measured_data(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--disable-pip-version-check",
                    "--wheel-dir", str(tmp_path), str(ROOT)], check=True, capture_output=True, timeout=600)
    wheel = next(tmp_path.glob("smartsofar-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"smartsofar/{path.relative_to(PACKAGE).as_posix()}" for path in PACKAGE.rglob("*")
                if path.is_file() and "__pycache__" not in path.parts}
    assert {"smartsofar/web/static/index.html", "smartsofar/web/static/vendor/uplot/LICENSE"} <= expected
    assert not [n for n in names if n.endswith((".csv", ".csv.gz"))], "data files in the wheel"
    assert expected - names == set(), "files of the package that a pip install would not have"
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "smartsofar = smartsofar.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_systemd_unit_is_one_systemd_accepts(tmp_path: Path) -> None:
    unit = (ROOT / "deploy" / "smartsofar.service").read_text()
    assert "Type=notify" in unit and "WatchdogSec=" in unit and "UMask=0077" in unit
    smartsofar = Path(sys.executable).with_name("smartsofar")  # ExecStart must name a program that exists
    path = tmp_path / "smartsofar.service"
    path.write_text(unit.replace("/opt/smartsofar/.venv/bin/smartsofar", str(smartsofar)))
    checked = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0 and checked.stderr == "", checked.stderr
