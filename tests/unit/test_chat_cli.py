"""`agenthub chat`: session handling, commands, errors and terminal rendering (no network)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from agenthub.cli.chat import (
    ASCII_BOX,
    UNICODE_BOX,
    ChatSession,
    display_width,
    render_answer,
    render_card,
    render_table,
)

SESSION = "3f2b8c1e-0000-4000-8000-000000000001"


def _answer(**overrides: Any) -> dict[str, Any]:
    answer = {
        "session_id": SESSION,
        "agent": "debt",
        "format": "card",
        "renderer_hint": "card",
        "data": {"title": "ACME", "fields": [{"label": "Total debt", "value": 269750000}]},
        "text": "ACME owes 269,750,000 VND.",
    }
    answer.update(overrides)
    return answer


class FakeApi:
    """Records the chat requests and answers them from a script."""

    def __init__(self, responses: list[httpx.Response]) -> None:
        self.requests: list[dict[str, Any]] = []
        self._responses = iter(responses)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(
            {
                "path": request.url.path,
                "auth": request.headers.get("authorization"),
                "body": json.loads(request.content),
            }
        )
        return next(self._responses)


def _session(api: FakeApi) -> tuple[ChatSession, io.StringIO]:
    out = io.StringIO()
    client = httpx.Client(base_url="http://gateway.test", transport=httpx.MockTransport(api))
    return ChatSession(client, tenant_id="acme", token="tkn", out=out), out


def _lines(*lines: str) -> Iterator[str]:
    yield from lines


def _reader(lines: Iterator[str]) -> Any:
    def read(prompt: str) -> str:
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    return read


def test_the_session_id_is_kept_across_turns_until_new() -> None:
    api = FakeApi([httpx.Response(200, json=_answer()) for _ in range(3)])
    session, out = _session(api)

    code = session.run(_reader(_lines("first", "second", "/new", "third")))

    assert code == 0
    bodies = [r["body"] for r in api.requests]
    assert bodies[0] == {"message": "first"}
    assert bodies[1] == {"message": "second", "session_id": SESSION}
    assert bodies[2] == {"message": "third"}
    assert all(r["path"] == "/api/acme/chat" and r["auth"] == "Bearer tkn" for r in api.requests)
    assert "(new session)" in out.getvalue()


def test_quit_leaves_without_sending_and_blank_lines_are_skipped() -> None:
    api = FakeApi([])
    session, _ = _session(api)

    assert session.run(_reader(_lines("", "   ", "/quit", "never sent"))) == 0
    assert api.requests == []


def test_an_error_shows_the_json_error_message() -> None:
    error = {
        "error": {"code": "forbidden", "message": "token of another tenant", "request_id": "r"}
    }
    api = FakeApi([httpx.Response(403, json=error)])
    session, _ = _session(api)

    assert session.send("hi") == "error 403 (forbidden): token of another tenant"
    assert session.session_id is None


def test_an_unreachable_api_is_explained_and_the_loop_goes_on() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    out = io.StringIO()
    client = httpx.Client(base_url="http://gateway.test", transport=httpx.MockTransport(refuse))
    session = ChatSession(client, tenant_id="acme", token="tkn", out=out)

    assert session.run(_reader(_lines("one", "two"))) == 0
    assert out.getvalue().count("is `agenthub dev` running?") == 2


def test_an_answer_shows_agent_format_the_card_and_the_text() -> None:
    rendered = render_answer(_answer(), UNICODE_BOX)

    lines = rendered.splitlines()
    assert lines[0] == "[debt · card]"
    assert lines[1].startswith("┌") and lines[-2].startswith("└")
    assert any("Total debt" in line and "269,750,000" in line for line in lines)
    assert lines[-1] == "ACME owes 269,750,000 VND."


def test_a_table_is_boxed_with_aligned_columns_and_right_aligned_numbers() -> None:
    table = render_table(["Shipment", "Weight"], [["SHP-1001", 12], ["SHP-2", 1500]], UNICODE_BOX)

    lines = table.splitlines()
    assert lines == [
        "┌──────────┬────────┐",
        "│ Shipment │ Weight │",
        "├──────────┼────────┤",
        "│ SHP-1001 │     12 │",
        "│ SHP-2    │  1,500 │",
        "└──────────┴────────┘",
    ]


def test_a_card_aligns_its_labels_and_handles_accented_titles() -> None:
    card = render_card(
        {
            "title": "Công ty TNHH Minh Phát",
            "fields": [{"label": "MST", "value": "0123456789"}, {"label": "Due", "value": None}],
        },
        ASCII_BOX,
    )

    lines = card.splitlines()
    assert len({display_width(line) for line in lines}) == 1  # a closed rectangle
    assert lines[1] == "| Công ty TNHH Minh Phát |"
    assert lines[3].startswith("| MST  0123456789")
    assert lines[4].startswith("| Due  ")


def test_wide_characters_take_two_columns() -> None:
    assert display_width("表格") == 4
    assert display_width("Phát") == 4


@pytest.mark.parametrize(
    ("hint", "data", "expected"),
    [
        ("list", {"items": ["one", "two"]}, "  • one\n  • two"),
        ("markdown", {"whatever": 1}, None),
        ("table", None, None),
    ],
)
def test_other_formats(hint: str, data: Any, expected: str | None) -> None:
    rendered = render_answer(_answer(renderer_hint=hint, data=data, text="t"), UNICODE_BOX)

    body = rendered.splitlines()[1:-1]
    assert ("\n".join(body) or None) == expected


def test_a_chart_series_shorter_than_its_labels_leaves_the_missing_cells_empty() -> None:
    # GIVEN a chart whose second series has fewer values than labels, and one with none
    data = {
        "kind": "bar",
        "labels": ["Jan", "Feb", "Mar"],
        "series": [
            {"name": "Debt", "values": [10, 20, 30]},
            {"name": "Paid", "values": [5]},
            {"name": "Due"},
        ],
    }

    # WHEN it is drawn
    rendered = render_answer(_answer(renderer_hint="chart", data=data, text=""), ASCII_BOX)

    # THEN every label gets a row, and the values it lacks are blank
    lines = rendered.splitlines()
    assert lines[1] == "(bar chart)"
    assert lines[3].split("|")[1:-1] == ["     ", " Debt ", " Paid ", " Due "]
    assert [line.split("|")[1:-1] for line in lines[5:8]] == [
        [" Jan ", "   10 ", "    5 ", "     "],
        [" Feb ", "   20 ", "      ", "     "],
        [" Mar ", "   30 ", "      ", "     "],
    ]


# --- streaming (POST /chat/stream) ----------------------------------------------------------------


def _sse(*events: tuple[str, Any]) -> httpx.Response:
    body = "".join(
        f"id: {i}\nevent: {kind}\ndata: {json.dumps(data)}\n\n"
        for i, (kind, data) in enumerate(events, start=1)
    )
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, text=body)


def _streaming_session(api: FakeApi) -> tuple[ChatSession, io.StringIO]:
    session, out = _session(api)
    session.streaming = True
    return session, out


def test_streamed_tokens_are_printed_then_the_card_is_drawn_without_repeating_the_text() -> None:
    answer = _answer()
    api = FakeApi(
        [
            _sse(
                ("routing", {"agent": "debt", "reason": "debt question"}),
                ("tool_start", {"tool": "get_debt", "agent": "debt"}),
                ("token", {"agent": "debt", "text": "ACME owes"}),
                ("token", {"agent": "debt", "text": " 269,750,000 VND."}),
                ("answer", answer),
                ("done", {"outcome": "answered"}),
            )
        ]
    )
    session, out = _streaming_session(api)

    session.run(_reader(_lines("debt of ACME?")))

    printed = out.getvalue()
    assert api.requests[0]["path"] == "/api/acme/chat/stream"
    assert printed.startswith("[debt] ACME owes 269,750,000 VND.\n")
    assert "Total debt" in printed and "269,750,000" in printed
    assert printed.count("ACME owes 269,750,000 VND.") == 1
    assert session.session_id == SESSION


def test_a_streamed_error_event_is_shown_after_the_tokens() -> None:
    error = {"error": {"code": "llm_provider_error", "message": "provider failed"}, "status": 502}
    api = FakeApi(
        [_sse(("token", {"agent": "supervisor", "text": "Hel"}), ("error", error), ("done", {}))]
    )
    session, out = _streaming_session(api)

    session.run(_reader(_lines("hi")))

    assert "[supervisor] Hel\nerror 502 (llm_provider_error): provider failed" in out.getvalue()
    assert session.session_id is None


def test_an_error_before_the_stream_is_shown_like_on_chat() -> None:
    body = {"error": {"code": "conflict", "message": "still being answered"}}
    api = FakeApi([httpx.Response(409, json=body)])
    session, out = _streaming_session(api)

    session.run(_reader(_lines("hi")))

    assert "error 409 (conflict): still being answered" in out.getvalue()
