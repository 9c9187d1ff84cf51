"""Take a tool's own credentials out of whatever it hands back.

An upstream may quote the request back (a 401 body listing the headers it got, a debugging
echo): the tenant's secret or the user's JWT would then reach the model, the answer, the
messages table and the checkpoint. Every form a credential can take in a tool result is
replaced: as sent, JSON-escaped (both with and without `ensure_ascii`) and URL-encoded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

REDACTED = "[REDACTED]"
# Shorter values are not credentials worth the damage of replacing them everywhere.
MIN_SECRET_CHARS = 4


class Redactor:
    """Replaces the given secrets in text and, recursively, in JSON values (keys included)."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if not secret or len(secret) < MIN_SECRET_CHARS:
                continue
            forms |= {
                secret,
                json.dumps(secret, ensure_ascii=False)[1:-1],
                json.dumps(secret, ensure_ascii=True)[1:-1],
                quote(secret, safe=""),
                quote_plus(secret, safe=""),
            }
        # Longest first: a form that contains another must go before it.
        self._forms = sorted(forms, key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self._forms)

    def text(self, text: str) -> str:
        for form in self._forms:
            text = text.replace(form, REDACTED)
        return text

    def value(self, value: Any) -> Any:
        if not self._forms:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.value(key): self.value(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(item) for item in value]
        return value
