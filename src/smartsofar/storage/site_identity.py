"""The site's identity, made once and kept in ``site.json``: what Home Assistant's unique ids are built from.

Unique ids must not change when someone renames the MQTT client, so they come from a site id stored once
in the data directory. A new installation gets a random one. An installation that already has state from an
earlier version (``state.json`` or ``history.db``) keeps the id its entities were discovered under, the
MQTT client id, so Home Assistant keeps their history and settings. The file is written atomically; one that
cannot be read is set aside as ``site.json.bad`` and a new id is made, with a warning.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from pathlib import Path

from smartsofar.storage.atomic import atomic_write, remove_orphans

log = logging.getLogger(__name__)
SITE_FILE = "site.json"
EARLIER_STATE = ("state.json", "history.db")  # what an installation from before site ids leaves
_SAFE = re.compile(r"[^a-zA-Z0-9_-]")


def safe_id(text: str) -> str:
    """Only the characters a discovery topic allows."""
    return _SAFE.sub("_", text)


def load_site_id(data_dir: Path, client_id: str) -> str:
    """The stored site id; made and stored when there is none."""
    path = data_dir / SITE_FILE
    remove_orphans(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        site_id = data.get("site_id") if isinstance(data, dict) else None
        if not isinstance(site_id, str) or not site_id or safe_id(site_id) != site_id:
            raise ValueError("no valid site_id")
        return site_id
    except FileNotFoundError:
        pass
    except ValueError as exc:
        bad = path.with_name(SITE_FILE + ".bad")
        path.replace(bad)
        log.warning("%s could not be read (%s); kept as %s, a new site id is made (Home Assistant will see "
                    "new entities)", path, exc, bad)
    earlier = any((data_dir / name).exists() for name in EARLIER_STATE)
    site_id = safe_id(client_id) if earlier else secrets.token_hex(4)
    atomic_write(path, json.dumps({"site_id": site_id}) + "\n")
    log.info("site id %s%s", site_id, " (kept from this installation's MQTT client id)" if earlier else "")
    return site_id
