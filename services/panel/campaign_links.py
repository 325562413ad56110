"""How a campaign reaches people: its join link (the join page with its code) and the SMS
keyword that joins by text. The API, the campaign's page and its poster all say the same."""

from __future__ import annotations


def join_url(panel_url: str, code: str) -> str:
    return f"{panel_url.rstrip('/')}/join?c={code}"


def sms_keyword(code: str) -> str:
    return f"JOIN {code}"
