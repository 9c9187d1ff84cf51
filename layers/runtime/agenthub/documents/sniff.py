"""What a file really is, from its first bytes (magic numbers), not from what the client says.

Pure Python, no imports beyond the standard library: the chat and uploads functions use it.
"""

from __future__ import annotations

# The types a user can attach: what the OCR engines read.
PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
TIFF = "image/tiff"
WEBP = "image/webp"
ACCEPTED_TYPES: tuple[str, ...] = (PDF, PNG, JPEG, TIFF, WEBP)
# Common spellings clients send for the same types.
_ALIASES = {"image/jpg": JPEG, "image/pjpeg": JPEG, "image/x-png": PNG, "application/x-pdf": PDF}
# Bytes that are enough to recognise every accepted type.
SNIFF_BYTES = 16


def normalise_type(content_type: str) -> str:
    """`Image/JPG; charset=x` -> `image/jpeg`."""
    base = content_type.split(";", 1)[0].strip().lower()
    return _ALIASES.get(base, base)


def sniff(head: bytes) -> str | None:
    """The accepted type these leading bytes belong to, or None."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return TIFF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    return None


def mismatch(declared: str, head: bytes) -> str | None:
    """Why the bytes do not fit the declared type (a sentence), or None when they do."""
    declared = normalise_type(declared)
    if not head:
        return "the file is empty"
    actual = sniff(head)
    if actual is None:
        return f"the file is not a supported document (declared {declared})"
    if actual != declared:
        return f"the file's content is {actual}, not the declared {declared}"
    return None
