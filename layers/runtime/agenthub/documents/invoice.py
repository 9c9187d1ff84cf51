"""Invoice fields from a document's text: seller, tax code (MST), number, date, total, VAT.

Labels in English and Vietnamese (with or without accents, as OCR may drop them). Pure Python:
both engines use it (Textract's AnalyzeExpense fills what it recognises, this fills the rest).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields, replace
from decimal import Decimal, InvalidOperation
from typing import Any


@dataclass(frozen=True)
class InvoiceFields:
    seller: str | None = None
    tax_code: str | None = None
    invoice_number: str | None = None
    date: str | None = None  # ISO 8601 when it could be read as a date
    total: int | float | None = None
    vat: int | float | None = None
    currency: str | None = None

    def merged_with(self, other: InvoiceFields) -> InvoiceFields:
        """These fields, with the gaps filled from `other`."""
        gaps = {
            f.name: getattr(other, f.name) for f in fields(self) if getattr(self, f.name) is None
        }
        return replace(self, **{k: v for k, v in gaps.items() if v is not None})

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def found(self) -> int:
        return sum(getattr(self, f.name) is not None for f in fields(self) if f.name != "currency")


def _fold(text: str) -> str:
    """Lower case without accents (đ -> d), for matching labels that OCR may garble."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn").lower()


# Labels, matched on folded text (no accents, lower case). Order matters: most specific first.
_TAX_LABELS = (r"ma so thue", r"\bmst\b", r"tax\s*(?:code|id|number)", r"vat\s*(?:code|id|no)")
_NUMBER_LABELS = (
    r"so hoa don",
    r"invoice\s*(?:no|number|#)",
    r"so\s*hd",
    r"\bso\b(?=\s*[:.])",
    r"receipt\s*(?:no|number|#)",
)
_DATE_LABELS = (r"ngay(?:\s*lap)?", r"invoice\s*date", r"\bdate\b")
_TOTAL_LABELS = (
    r"tong\s*(?:cong\s*)?(?:tien\s*)?thanh\s*toan",
    r"tong\s*cong",
    r"grand\s*total",
    r"total\s*(?:amount|payment|due)",
    r"(?<!sub)(?<!sub )total",
    r"amount\s*due",
)
_VAT_LABELS = (r"tien\s*thue(?:\s*gtgt)?", r"thue\s*gtgt", r"\bvat\b", r"\btax\b(?!\s*(?:code|id))")
_SELLER_LABELS = (
    r"don\s*vi\s*ban(?:\s*hang)?",
    r"nguoi\s*ban",
    r"\bseller\b",
    r"\bvendor\b",
    r"\bsupplier\b",
    r"\bfrom\b",
)

_AMOUNT = re.compile(r"\d[\d.,' ]*\d|\d")
_DATE_NUMERIC = re.compile(r"(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})")
_DATE_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DATE_VI = re.compile(r"ngay\s*(\d{1,2})\s*thang\s*(\d{1,2})\s*nam\s*(\d{4})")
_CURRENCIES = (("vnd", "VND"), ("usd", "USD"), ("eur", "EUR"), ("dong", "VND"))
# Characters OCR confuses with digits inside a number.
_DIGIT_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "D": "0", "l": "1", "I": "1", "|": "1"})


def parse_invoice(text: str) -> InvoiceFields:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    folded = [_fold(line) for line in lines]
    total_line = _labelled(lines, folded, _TOTAL_LABELS)
    return InvoiceFields(
        seller=_seller(lines, folded),
        tax_code=_tax_code(lines, folded),
        invoice_number=_invoice_number(lines, folded),
        date=_date(lines, folded),
        total=_amount(total_line[1]) if total_line else None,
        vat=_vat(lines, folded),
        currency=_currency(text),
    )


def looks_like_invoice(text: str) -> bool:
    """Enough invoice vocabulary that reading the fields is worth it."""
    found = parse_invoice(text)
    folded = _fold(text)
    named = any(word in folded for word in ("invoice", "hoa don", "receipt", "bien lai"))
    return found.found >= 3 or (named and found.found >= 2)


def _labelled(
    lines: list[str], folded: list[str], labels: tuple[str, ...]
) -> tuple[int, str] | None:
    """(line index, the text after the label) for the first label found, in label order."""
    for label in labels:
        pattern = re.compile(label)
        for index, line in enumerate(folded):
            found = pattern.search(line)
            if found is None:
                continue
            rest = lines[index][_original_offset(lines[index], found.end()) :]
            rest = rest.lstrip(" \t:.#-\u2013")
            if not rest and index + 1 < len(lines):
                rest = lines[index + 1]  # the value on the next line
            return index, rest
    return None


def _original_offset(line: str, folded_end: int) -> int:
    # Folding keeps one character per original character for Latin text (accents are combining
    # marks removed after NFD, which keeps the base letter), so offsets line up.
    return min(folded_end, len(line))


def _tax_code(lines: list[str], folded: list[str]) -> str | None:
    for label in _TAX_LABELS:
        pattern = re.compile(label)
        for index, line in enumerate(folded):
            found = pattern.search(line)
            if found is None:
                continue
            rest = lines[index][found.end() :].translate(_DIGIT_LOOKALIKES)
            code = re.search(r"(\d[\d .]{8,14}\d)(\s*-\s*\d{3})?", rest)
            if code:
                digits = re.sub(r"\D", "", code.group(1))
                if len(digits) == 10:
                    branch = re.sub(r"\D", "", code.group(2) or "")
                    return digits + (f"-{branch}" if branch else "")
    return None


def _invoice_number(lines: list[str], folded: list[str]) -> str | None:
    found = _labelled(lines, folded, _NUMBER_LABELS)
    if not found:
        return None
    token = re.search(r"[A-Za-z0-9][A-Za-z0-9/_-]*\d[A-Za-z0-9/_-]*", found[1])
    return token.group(0) if token else None


def _date(lines: list[str], folded: list[str]) -> str | None:
    vi = _DATE_VI.search(" ".join(folded))
    if vi:
        return _iso(vi.group(3), vi.group(2), vi.group(1))
    found = _labelled(lines, folded, _DATE_LABELS)
    candidates = [found[1]] if found else []
    candidates.append("\n".join(lines))
    for text in candidates:
        iso = _DATE_ISO.search(text)
        if iso:
            return _iso(iso.group(1), iso.group(2), iso.group(3))
        numeric = _DATE_NUMERIC.search(text)
        if numeric:
            return _iso(numeric.group(3), numeric.group(2), numeric.group(1))
    return None


def _iso(year: str, month: str, day: str) -> str | None:
    y, m, d = int(year), int(month), int(day)
    if not (1 <= m <= 12 and 1 <= d <= 31):
        return None
    return f"{y:04d}-{m:02d}-{d:02d}"


def _vat(lines: list[str], folded: list[str]) -> int | float | None:
    for label in _VAT_LABELS:
        pattern = re.compile(label)
        for index, line in enumerate(folded):
            found = pattern.search(line)
            if found is None or "ma so" in line or "mst" in line:
                continue
            rest = lines[index][found.end() :]
            # "VAT (10%): 1,150,000": skip the rate, keep the amount.
            rest = re.sub(r"\(?\s*\d{1,2}(?:[.,]\d+)?\s*%\s*\)?", " ", rest)
            amount = _amount(rest)
            if amount is not None:
                return amount
    return None


def _seller(lines: list[str], folded: list[str]) -> str | None:
    found = _labelled(lines, folded, _SELLER_LABELS)
    if found and found[1].strip():
        return found[1].strip()
    # Otherwise the first line naming a company.
    for line, low in zip(lines, folded, strict=True):
        if re.search(r"\b(cong ty|company|co\.,? ltd|jsc|llc|inc\.?|corp)\b", low):
            return line
    return None


def _currency(text: str) -> str | None:
    folded = _fold(text)
    for word, code in _CURRENCIES:
        if re.search(rf"\b{word}\b", folded):
            return code
    if "₫" in text or re.search(r"\d\s*d\b", folded):
        return "VND"
    return None


def _amount(text: str) -> int | float | None:
    """The first amount in `text`: 12,650,000 / 12.650.000 / 12 650 000 / 1,234.50."""
    text = text.translate(_DIGIT_LOOKALIKES)
    found = _AMOUNT.search(text)
    if not found:
        return None
    raw = found.group(0).replace(" ", "").replace("'", "")
    return parse_amount(raw)


def parse_amount(raw: str) -> int | float | None:
    raw = raw.strip().strip(".,")
    if not raw:
        return None
    separators = [c for c in raw if c in ".,"]
    if separators:
        last = raw.rfind(separators[-1])
        decimals = len(raw) - last - 1
        # One kind of separator in groups of three: thousands. A different last separator
        # followed by one or two digits: the decimal point.
        if len(set(separators)) == 2 or (len(separators) == 1 and decimals in (1, 2)):
            whole = re.sub(r"[.,]", "", raw[:last])
            raw = f"{whole}.{raw[last + 1 :]}"
        else:
            raw = re.sub(r"[.,]", "", raw)
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    return int(value) if value == value.to_integral_value() else float(value)
