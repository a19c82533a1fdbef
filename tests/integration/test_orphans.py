"""A kill during a save leaves its temporary file: the service clears those at its next start (issue 17,
finding 14), but not one young enough to be another process's write under way."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.live_service import live_service


async def test_the_service_clears_what_interrupted_saves_left(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    hour_ago = time.time() - 3600
    orphans = [tmp_path / ".smartsofar.toml.k3j9x2qa.tmp", data / ".state.json.a8f3k2p1.tmp",
               data / ".responses.json.q9w8e7r6.tmp"]
    for orphan in orphans:
        orphan.write_text("half a file")
        os.utime(orphan, (hour_ago, hour_ago))
    under_way = tmp_path / ".smartsofar.toml.n0w1nf1y.tmp"
    under_way.write_text("being written right now")
    async with live_service(tmp_path):
        assert not any(orphan.exists() for orphan in orphans)
        assert under_way.exists()
    assert (tmp_path / "smartsofar.toml").exists()
