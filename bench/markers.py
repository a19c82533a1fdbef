"""Put a benchmark's tables into a markdown file, between the markers that name the script, and report a run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_between_markers(path: Path, script: str, text: str) -> None:
    """Replace what stands between ``<!-- bench/SCRIPT: begin -->`` and its end marker (appended if missing)."""
    begin, end = f"<!-- bench/{script}: begin -->", f"<!-- bench/{script}: end -->"
    content = path.read_text(encoding="utf-8")
    if begin not in content:
        content += f"\n{begin}\n{end}\n"
    start, stop = content.index(begin) + len(begin), content.index(end)
    path.write_text(content[:start] + "\n" + text.rstrip("\n") + "\n" + content[stop:], encoding="utf-8")


def report(text: str, script: str, results: Any, json_path: Path | None, markdown: Path | None) -> None:
    """Print the tables; save every result as JSON to ``json_path`` and the tables into ``markdown`` if given."""
    print(text)
    if json_path:
        json_path.write_text(json.dumps(results, indent=1), encoding="utf-8")
    if markdown:
        write_between_markers(markdown, script, text)
