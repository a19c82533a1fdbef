"""Put a benchmark's tables into a markdown file, between the markers that name the script."""

from __future__ import annotations

from pathlib import Path


def write_between_markers(path: Path, script: str, text: str) -> None:
    """Replace what stands between ``<!-- bench/SCRIPT: begin -->`` and its end marker (appended if missing)."""
    begin, end = f"<!-- bench/{script}: begin -->", f"<!-- bench/{script}: end -->"
    content = path.read_text(encoding="utf-8")
    if begin not in content:
        content += f"\n{begin}\n{end}\n"
    start, stop = content.index(begin) + len(begin), content.index(end)
    path.write_text(content[:start] + "\n" + text.rstrip("\n") + "\n" + content[stop:], encoding="utf-8")
