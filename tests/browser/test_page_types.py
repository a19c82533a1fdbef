"""The page's JavaScript: its JSDoc types check under ``tsc --strict``, and they mirror the API's payloads."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from pydantic import BaseModel

from smartsofar import payloads
from smartsofar.modes import Mode

ROOT = Path(__file__).resolve().parents[2]
TYPES = ROOT / "src" / "smartsofar" / "web" / "static" / "js" / "types.js"


def test_the_page_modules_type_check() -> None:
    tsc = shutil.which("tsc")
    assert tsc, "tsc is missing: scripts/install --dev installs node-typescript"
    done = subprocess.run([tsc, "-p", str(ROOT / "tsconfig.json")], capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def _typedefs() -> dict[str, set[str]]:
    """typedef name -> its @property names, from types.js."""
    out: dict[str, set[str]] = {}
    current = None
    for line in TYPES.read_text(encoding="utf-8").splitlines():
        if match := re.search(r"@typedef \{object\} (\w+)", line):
            current = out.setdefault(match.group(1), set())
        elif (match := re.search(r"@property \{.+\} (\w+)", line)) and current is not None:
            current.add(match.group(1))
    return out


def test_every_property_the_page_relies_on_is_in_the_payload_models() -> None:
    typedefs = _typedefs()
    mirrored = [name for name in typedefs if isinstance(getattr(payloads, name, None), type)]
    assert {"SitePayload", "UnitPayload", "MeterPayload", "ReadingPayload", "HistoryPayload"} <= set(mirrored)
    for name in mirrored:
        model = getattr(payloads, name)
        assert issubclass(model, BaseModel)
        missing = typedefs[name] - set(model.model_fields)
        assert not missing, f"types.js {name} has {sorted(missing)}, which {name} does not"


def test_the_page_names_the_modes_the_engine_has() -> None:
    union = re.search(r"@typedef \{([^}]*)\} Mode\b", TYPES.read_text(encoding="utf-8"))
    assert union is not None
    assert re.findall(r'"(\w+)"', union.group(1)) == list(Mode.names())
