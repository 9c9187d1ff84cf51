"""`agenthub chat`: talk to a tenant's agents from the terminal, through the local API.

It mints a development token (local mode), keeps the session across turns, and draws tables and
cards with box characters. `/attach PATH` uploads a file for the next message; `/new` starts a
new session; `/quit` or end of input leaves. Answers stream (`POST /chat/stream`): tokens are
printed as they arrive, then the card or table is drawn; `--no-stream` uses `POST /chat` instead.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from agenthub.cli.attach import Attached, AttachError, upload_file

DEFAULT_URL = "http://127.0.0.1:3000"
TOKEN_TTL_S = 8 * 3600
MAX_CELL_WIDTH = 48
TURN_TIMEOUT_S = 120.0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "chat",
        help="chat with a tenant's agents in the terminal (local stack)",
        description="A terminal chat client for `agenthub dev`: /new starts a new session, "
        "/quit (or Ctrl-D) leaves.",
    )
    parser.add_argument("--tenant", default="acme", help="tenant id (acme)")
    parser.add_argument("--user", default="alice", help="user id (alice)")
    parser.add_argument("--url", default=DEFAULT_URL, help=f"API base URL ({DEFAULT_URL})")
    parser.add_argument(
        "--state-dir",
        type=Path,
        help="the state directory of `agenthub dev` (its development key signs the token)",
    )
    parser.add_argument(
        "--no-stream",
        dest="stream",
        action="store_false",
        help="wait for each whole answer (POST /chat) instead of streaming it",
    )
    parser.set_defaults(handler=_chat)


def _chat(args: argparse.Namespace) -> int:
    import httpx

    from agenthub.cli.token import issue_dev_token
    from agenthub.settings import get_settings

    if args.state_dir is not None:
        os.environ["AGENTHUB_STATE_DIR"] = str(args.state_dir)
    settings = get_settings()
    token = issue_dev_token(
        settings,
        tenant_id=args.tenant,
        user_id=args.user,
        roles=[],
        ttl_s=min(TOKEN_TTL_S, settings.auth.max_token_lifetime_s),
    )
    out = sys.stdout
    print(
        f"Chatting as {args.user} of {args.tenant} at {args.url}. "
        "/attach PATH sends a file with your next message, /new starts a new session, "
        "/quit leaves.",
        file=out,
    )
    with httpx.Client(base_url=args.url.rstrip("/"), timeout=TURN_TIMEOUT_S) as client:
        session = ChatSession(client, tenant_id=args.tenant, token=token, out=out)
        session.streaming = args.stream
        return session.run(input)


class ChatSession:
    """One conversation: sends messages, remembers the session id, prints the answers."""

    def __init__(self, client: Any, *, tenant_id: str, token: str, out: TextIO) -> None:
        self._client = client
        self._tenant_id = tenant_id
        self._token = token
        self._out = out
        self._box = box_style(out)
        self.session_id: str | None = None
        self.streaming = False  # the command turns it on (see register)
        # Files uploaded with /attach, sent with the next message.
        self.attachments: list[Attached] = []

    def run(self, read: Callable[[str], str]) -> int:
        while True:
            try:
                line = read("you> ").strip()
            except (EOFError, KeyboardInterrupt):
                print(file=self._out)
                return 0
            if not line:
                continue
            if line in ("/quit", "/exit"):
                return 0
            if line == "/new":
                self.session_id = None
                print("(new session)", file=self._out)
                continue
            if line.startswith("/attach"):
                print(self.attach(line.removeprefix("/attach").strip()), file=self._out)
                continue
            print(self.send_streaming(line) if self.streaming else self.send(line), file=self._out)

    def send(self, message: str) -> str:
        """Send one message; the rendered answer, or the error to show."""
        import httpx

        body: dict[str, Any] = {"message": message}
        if self.session_id:
            body["session_id"] = self.session_id
        if self.attachments:
            body["attachments"] = [a.upload_id for a in self.attachments]
        try:
            response = self._client.post(
                f"/api/{self._tenant_id}/chat",
                json=body,
                headers={"Authorization": f"Bearer {self._token}"},
            )
        except httpx.HTTPError as exc:
            return f"error: cannot reach the API ({type(exc).__name__}); is `agenthub dev` running?"
        try:
            payload = response.json()
        except ValueError:
            return f"error {response.status_code}: {response.text[:200]}"
        if response.status_code != 200:
            return error_text(response.status_code, payload)
        self.attachments = []
        self.session_id = str(payload.get("session_id") or "") or self.session_id
        return render_answer(payload, self._box)

    def attach(self, path: str) -> str:
        """Upload a file for the next message (at most 5 a message)."""
        if not path:
            return "usage: /attach PATH (a PDF, PNG, JPEG, TIFF or WebP file)"
        if len(self.attachments) >= 5:
            return "at most 5 attachments a message; send it first"
        try:
            attached = upload_file(
                self._client, tenant_id=self._tenant_id, token=self._token, path=Path(path)
            )
        except AttachError as exc:
            return f"error: {exc}"
        self.attachments.append(attached)
        return f"(attached {attached.filename}: it goes with your next message)"

    # --- streaming (POST /chat/stream) --------------------------------------------------------

    def send_streaming(self, message: str) -> str:
        """Send one message and print its tokens as they arrive; what is left to show after
        them (the card or table, or the error)."""
        import httpx

        body: dict[str, Any] = {"message": message}
        if self.session_id:
            body["session_id"] = self.session_id
        if self.attachments:
            body["attachments"] = [a.upload_id for a in self.attachments]
        try:
            with self._client.stream(
                "POST",
                f"/api/{self._tenant_id}/chat/stream",
                json=body,
                headers={"Authorization": f"Bearer {self._token}"},
            ) as response:
                if not response.headers.get("content-type", "").startswith("text/event-stream"):
                    response.read()
                    try:
                        return error_text(response.status_code, response.json())
                    except ValueError:
                        return f"error {response.status_code}: {response.text[:200]}"
                return self._follow(server_sent_events(response.iter_lines()))
        except httpx.HTTPError as exc:
            return f"error: cannot reach the API ({type(exc).__name__}); is `agenthub dev` running?"

    def _follow(self, events: Iterator[tuple[str, Any]]) -> str:
        printer = _TokenPrinter(self._out, self._box)
        for kind, data in events:
            if kind == "token":
                printer.token(str(data.get("agent") or "?"), str(data.get("text") or ""))
            elif kind == "answer":
                self.attachments = []
                self.session_id = str(data.get("session_id") or "") or self.session_id
                return printer.finish(data)
            elif kind == "error":
                printer.end_line()
                return error_text(int(data.get("status") or 0), data)
        printer.end_line()
        return "error: the stream ended without an answer"


class _TokenPrinter:
    """Tokens as they arrive, under a `[agent]` heading whenever the speaking agent changes."""

    def __init__(self, out: TextIO, box: BoxStyle) -> None:
        self._out = out
        self._box = box
        self._agent: str | None = None
        self._streamed: dict[str, str] = {}

    def token(self, agent: str, text: str) -> None:
        if agent != self._agent:
            self.end_line()
            self._out.write(f"[{agent}] ")
            self._agent = agent
        self._streamed[agent] = self._streamed.get(agent, "") + text
        self._out.write(text)
        self._out.flush()

    def end_line(self) -> None:
        if self._agent is not None:
            self._out.write("\n")
            self._out.flush()
            self._agent = None

    def finish(self, answer: dict[str, Any]) -> str:
        """The answer drawn; without its text when the tokens already showed all of it."""
        self.end_line()
        shown = "\n\n".join(f"{a}: {t}" for a, t in self._streamed.items())
        single = next(iter(self._streamed.values()), None) if len(self._streamed) == 1 else None
        text = str(answer.get("text") or "").strip()
        if self._streamed and text in (shown.strip(), (single or "").strip()):
            answer = {**answer, "text": ""}
        return render_answer(answer, self._box)


def server_sent_events(lines: Iterator[str]) -> Iterator[tuple[str, Any]]:
    """(event type, JSON data) of each server-sent event; comments are skipped."""
    kind, data = "message", ""
    for line in lines:
        if not line:
            if data:
                yield kind, json.loads(data)
            kind, data = "message", ""
        elif line.startswith("event:"):
            kind = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data += line.removeprefix("data:").strip()


def error_text(status: int, payload: Any) -> str:
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        return f"error {status} ({error.get('code')}): {error.get('message')}"
    return f"error {status}: {json.dumps(payload)[:200]}"


# --- rendering ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoxStyle:
    h: str
    v: str
    tl: str
    tr: str
    bl: str
    br: str
    t_down: str
    t_up: str
    t_right: str
    t_left: str
    cross: str
    bullet: str
    dot: str


UNICODE_BOX = BoxStyle("─", "│", "┌", "┐", "└", "┘", "┬", "┴", "├", "┤", "┼", "•", "·")
ASCII_BOX = BoxStyle("-", "|", "+", "+", "+", "+", "+", "+", "+", "+", "+", "*", "/")


def box_style(stream: TextIO) -> BoxStyle:
    try:
        "┌─┐│•·".encode(getattr(stream, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return ASCII_BOX
    return UNICODE_BOX


def display_width(text: str) -> int:
    """Terminal columns: wide East Asian characters take two, combining marks none."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def _pad(text: str, width: int, *, right: bool = False) -> str:
    gap = " " * max(0, width - display_width(text))
    return gap + text if right else text + gap


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return f"{value:,}"
    text = " ".join(str(value).split())
    return text if len(text) <= MAX_CELL_WIDTH else text[: MAX_CELL_WIDTH - 3] + "..."


def render_table(columns: Sequence[Any], rows: Sequence[Sequence[Any]], box: BoxStyle) -> str:
    header = [_cell(c) for c in columns]
    body = [[_cell(v) for v in row] + [""] * (len(header) - len(row)) for row in rows]
    numeric = [
        all(isinstance(row[i], int | float) for row in rows if i < len(row) and row[i] is not None)
        and any(i < len(row) and row[i] is not None for row in rows)
        for i in range(len(header))
    ]
    widths = [
        max([display_width(header[i]), *(display_width(r[i]) for r in body)])
        for i in range(len(header))
    ]

    def line(left: str, middle: str, right: str) -> str:
        return left + middle.join(box.h * (w + 2) for w in widths) + right

    def row_text(cells: Sequence[str], align: Sequence[bool]) -> str:
        inner = f" {box.v} ".join(
            _pad(c, w, right=a) for c, w, a in zip(cells, widths, align, strict=False)
        )
        return f"{box.v} {inner} {box.v}"

    lines = [line(box.tl, box.t_down, box.tr), row_text(header, [False] * len(header))]
    lines.append(line(box.t_right, box.cross, box.t_left))
    lines.extend(row_text(r[: len(header)], numeric) for r in body)
    lines.append(line(box.bl, box.t_up, box.br))
    return "\n".join(lines)


def render_card(data: dict[str, Any], box: BoxStyle) -> str:
    title = _cell(data.get("title")) or "(untitled)"
    subtitle = _cell(data.get("subtitle"))
    fields = [f for f in data.get("fields") or [] if isinstance(f, dict)]
    pairs = [(_cell(f.get("label")), _cell(f.get("value"))) for f in fields]
    label_width = max((display_width(label) for label, _ in pairs), default=0)
    body = [f"{_pad(label, label_width)}  {value}" for label, value in pairs]
    heading = [title, *([subtitle] if subtitle else [])]
    width = max(display_width(text) for text in [*heading, *body, ""])
    lines = [box.tl + box.h * (width + 2) + box.tr]
    lines.extend(f"{box.v} {_pad(text, width)} {box.v}" for text in heading)
    if body:
        lines.append(box.t_right + box.h * (width + 2) + box.t_left)
        lines.extend(f"{box.v} {_pad(text, width)} {box.v}" for text in body)
    lines.append(box.bl + box.h * (width + 2) + box.br)
    return "\n".join(lines)


def _chart_values(series: dict[str, Any]) -> list[Any]:
    values = series.get("values")
    return values if isinstance(values, list) else []


def render_data(hint: str, data: Any, box: BoxStyle) -> str | None:
    """The structured part of an answer drawn for a terminal; None when there is nothing to draw."""
    if not isinstance(data, dict):
        return None
    if hint == "table" and isinstance(data.get("columns"), list):
        return render_table(data["columns"], data.get("rows") or [], box)
    if hint == "card" and "fields" in data:
        return render_card(data, box)
    if hint == "list" and isinstance(data.get("items"), list):
        return "\n".join(f"  {box.bullet} {_cell(item)}" for item in data["items"])
    if hint == "chart" and isinstance(data.get("series"), list):
        labels = data.get("labels") or []
        series = [s for s in data["series"] if isinstance(s, dict)]
        columns = ["", *(s.get("name", "") for s in series)]
        values = [_chart_values(s) for s in series]
        # A series may have fewer values than labels: its missing cells stay blank.
        rows = [
            [label, *(v[i] if i < len(v) else None for v in values)]
            for i, label in enumerate(labels)
        ]
        return f"({data.get('kind', 'chart')} chart)\n" + render_table(columns, rows, box)
    if hint == "sections" and isinstance(data.get("sections"), list):
        parts = [render_answer(s, box) for s in data["sections"] if isinstance(s, dict)]
        return "\n\n".join(parts)
    return None


def render_answer(answer: dict[str, Any], box: BoxStyle) -> str:
    agent = answer.get("agent") or "?"
    fmt = answer.get("format") or "?"
    hint = str(answer.get("renderer_hint") or "")
    lines = [f"[{agent} {box.dot} {fmt}]"]
    drawn = render_data(hint, answer.get("data"), box)
    if drawn:
        lines.append(drawn)
    text = str(answer.get("text") or "").strip()
    if text:
        lines.append(text)
    return "\n".join(lines)
