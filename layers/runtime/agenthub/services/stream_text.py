"""The user-visible text of a model's reply while it streams, delta by delta.

A domain agent replies with one JSON object `{"text": "...", "data": ...}` (agents/output.py):
only the `text` value streams, decoded as it arrives; the JSON of a card, table or chart never
does (the answer event brings the validated data).
"""

from __future__ import annotations

import json
import re

_OPENING_TEXT = '{"text":"'


class PlainText:
    """A reply that is the answer's text as it is (the supervisor's)."""

    def feed(self, piece: str) -> str:
        return piece


class AnswerText:
    """The `text` value of a streamed `{"text": "...", "data": ...}` reply, as it arrives; a
    reply that is plain text streams as it is, any other JSON does not stream."""

    _OPENING = re.compile(r'\s*(?:```(?:json)?\s*)?\{\s*"text"\s*:\s*"')

    def __init__(self) -> None:
        self._buffer = ""
        self._mode = ""  # "" undecided | raw | json | none
        self._value_start = 0
        self._sent = 0
        self._closed = False

    def feed(self, piece: str) -> str:
        self._buffer += piece
        if not self._mode:
            self._decide()
        if self._mode == "raw":
            new = self._buffer[self._sent :]
            self._sent = len(self._buffer)
            return new
        if self._mode == "json" and not self._closed:
            decoded = self._decoded()
            if not self._closed and decoded and "\ud800" <= decoded[-1] <= "\udbff":
                decoded = decoded[:-1]  # half of a surrogate pair (`\ud83d` of `\ud83d\ude00`)
            new = decoded[self._sent :]
            self._sent = len(decoded)
            return new
        return ""

    def _decide(self) -> None:
        head = re.sub(r"\s+", "", self._buffer)
        if not head:
            return
        if head[0] not in "{`":
            self._mode = "raw"
            return
        opening = self._OPENING.match(self._buffer)
        if opening is not None:
            self._mode, self._value_start = "json", opening.end()
            return
        for fence in ("```json", "```"):
            if fence.startswith(head):
                return  # maybe a fenced block: wait for more
            head = head.removeprefix(fence)
        if not _OPENING_TEXT.startswith(head):
            self._mode = "none"  # JSON, but not starting with the text: the answer event has it

    def _decoded(self) -> str:
        """The string value's complete characters so far (never half an escape)."""
        raw = self._buffer[self._value_start :]
        end, index = len(raw), 0
        while index < len(raw):
            char = raw[index]
            if char == '"':
                end, self._closed = index, True
                break
            if char == "\\":
                width = 6 if raw[index + 1 : index + 2] == "u" else 2
                if index + width > len(raw):
                    end = index
                    break
                index += width
                continue
            index += 1
        try:
            return str(json.loads(f'"{raw[:end]}"'))
        except ValueError:
            return ""
