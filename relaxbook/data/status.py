"""The verification statuses of the guide's claims, in order, and the one icon each shows beside its text."""

from __future__ import annotations

STATUSES = ["verified", "partly verified", "unsupported", "contradicted", "not found"]
ICONS = {"verified": "✔", "partly verified": "◐", "unsupported": "✖", "contradicted": "⚠", "not found": "?"}
SUPPORTING = ("verified", "partly verified")


def label(status: str) -> str:
    """A status as readers see it: icon and text (never colour or icon alone)."""
    return f"{ICONS[status]} {status}"
