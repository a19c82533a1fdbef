"""The site id Home Assistant's unique ids come from: made once, kept, and inherited by earlier installations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smartsofar.storage.site_identity import SITE_FILE, load_site_id


def test_a_new_installation_gets_a_random_id_that_stays(tmp_path: Path) -> None:
    first = load_site_id(tmp_path, "smartsofar")
    assert len(first) == 8 and first != "smartsofar"
    assert load_site_id(tmp_path, "renamed client") == first  # renaming the MQTT client moves nothing
    assert load_site_id(tmp_path / "elsewhere", "smartsofar") != first


@pytest.mark.parametrize("earlier", ["state.json", "history.db"])
def test_an_earlier_installation_keeps_the_ids_its_entities_have(tmp_path: Path, earlier: str) -> None:
    (tmp_path / earlier).write_text("{}")
    assert load_site_id(tmp_path, "garage box!") == "garage_box_"  # its discovery node was smartsofar_garage_box_
    assert json.loads((tmp_path / SITE_FILE).read_text()) == {"site_id": "garage_box_"}


@pytest.mark.parametrize("content", ["{oops", '{"site_id": "a/b"}', '{"site_id": ""}'])
def test_a_broken_file_is_kept_aside(tmp_path: Path, content: str) -> None:
    (tmp_path / SITE_FILE).write_text(content)
    site_id = load_site_id(tmp_path, "smartsofar")
    assert len(site_id) == 8 and (tmp_path / (SITE_FILE + ".bad")).read_text() == content
