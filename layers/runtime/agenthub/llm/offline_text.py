"""Word matching for the offline model: terms, crude stems, cue words and weighted overlap.

Deliberately simple and deterministic: lowercase words, a few suffixes stripped, and a small
table of cues (English and Vietnamese) that add the words a description is likely to use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

_WORD = re.compile(r"\w+", re.UNICODE)

_STOPWORD_TEXT = """
    a an and any are as at be by can could do does for from get give have i in is it its me my
    of on or our please show tell the their this to want was what which with would you your
    about all also hand request agent agents transfer using use via
    của cho và là tôi với các những này được không có cần xem giúp ở
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())

# Cue regex -> words it stands for. Matched on the lowercased message.
_CUES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (re.compile(pattern, re.UNICODE), words)
    for pattern, words in (
        (
            r"công nợ|\bnợ\b|\bdebts?\b|\bowes?\b|\bowed\b|\breceivables?\b|\boutstanding\b",
            ("debt", "receivable"),
        ),
        (r"\bmst\b|mã số thuế|\btax code|(?<![\w-])\d{10}(?:-\d{3})?(?![\w-])", ("mst", "tax")),
        (
            r"\bshp-\d+|\bshipments?\b|\bshipping\b|\btrack|\bparcels?\b|\bpackages?\b|"
            r"\bdeliver|vận đơn|giao hàng|kiện hàng|vận chuyển",
            ("shipment", "track", "delivery", "logistics"),
        ),
        (
            r"\bocr\b|\bscan|\bextract|\bimages?\b|\bphotos?\b|\bpdf\b|quét|hình ảnh|trích xuất",
            ("ocr", "document", "extract", "image"),
        ),
        (
            r"\banaly|\breports?\b|\bcharts?\b|\btrends?\b|\bstatistic|\brevenue|\bsales\b|"
            r"phân tích|báo cáo|doanh thu|thống kê",
            ("analysis", "analytics", "report", "chart"),
        ),
        (r"\binvoices?\b|hóa đơn|hoá đơn", ("invoice",)),
        (
            r"\btop\s+\d+|\btop\b.*\bby\b|\brank|\bbiggest\b|\blargest\b|xếp hạng",
            # A ranking is a report over the database, shown as a table.
            ("ranking", "analysis", "analytics", "report", "table", "database"),
        ),
    )
)


def stem(word: str) -> str:
    """A crude English stem, applied to both sides so that they meet."""
    w = word.lower()
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 4 and w.endswith(("sses", "xes", "ches", "shes")):
        w = w[:-2]
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    for suffix in ("ing", "ed", "ment"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)]
            if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiouls":
                w = w[:-1]
            break
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]
    return w


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def vocabulary(texts: Iterable[str]) -> frozenset[str]:
    """The stems of the meaningful words of some texts (names split on `_`)."""
    terms: set[str] = set()
    for text in texts:
        for word in words(text.replace("_", " ")):
            if word not in _STOPWORDS and not word.isdigit():
                terms.add(stem(word))
    return frozenset(terms)


def message_terms(message: str) -> dict[str, str]:
    """Stem -> the words of the message it came from (cue words included)."""
    lowered = message.lower()
    found: dict[str, str] = {}
    for word in words(lowered.replace("_", " ")):
        if word not in _STOPWORDS and not word.isdigit():
            found.setdefault(stem(word), word)
    for cue, meanings in _CUES:
        hit = cue.search(lowered)
        if hit:
            for meaning in meanings:
                found.setdefault(stem(meaning), hit.group(0))
    return found


@dataclass(frozen=True)
class Match:
    index: int
    score: float
    matched: tuple[str, ...]  # the message's words that matched, for explanations


def rank(message: str, vocabularies: Sequence[frozenset[str]]) -> list[Match]:
    """Score each vocabulary against the message; words shared by many candidates count less."""
    terms = message_terms(message)
    spread: dict[str, int] = {}
    for vocabulary_ in vocabularies:
        for term in vocabulary_:
            spread[term] = spread.get(term, 0) + 1
    matches = []
    for index, vocabulary_ in enumerate(vocabularies):
        hits = [term for term in terms if term in vocabulary_]
        score = sum(1.0 / spread[term] for term in hits)
        matched = tuple(dict.fromkeys(terms[term] for term in hits))
        matches.append(Match(index=index, score=score, matched=matched))
    return matches


def humanize(key: str) -> str:
    """`total_debt` -> `Total debt`, `mst` -> `MST`, `tracking_id` -> `Tracking ID`."""
    parts = [p for p in re.split(r"[_\s]+|(?<=[a-z])(?=[A-Z])", key) if p]
    if not parts:
        return key
    shown = [_ACRONYMS.get(p.lower(), p.lower()) for p in parts]
    shown[0] = shown[0][:1].upper() + shown[0][1:]
    return " ".join(shown)


def humanize_inline(key: str) -> str:
    """`humanize` for the middle of a sentence: `tracking_id` -> `tracking ID`, `mst` -> `MST`."""
    label = humanize(key)
    first = label.split(" ", 1)[0]
    return label if first.isupper() else label[:1].lower() + label[1:]


_ACRONYMS: Mapping[str, str] = {
    "mst": "MST",
    "id": "ID",
    "vat": "VAT",
    "eta": "ETA",
    "sku": "SKU",
    "url": "URL",
    "erp": "ERP",
    "crm": "CRM",
    "ocr": "OCR",
    "no": "no.",
}
