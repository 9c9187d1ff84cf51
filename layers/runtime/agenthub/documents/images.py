"""Opening images safely: the pixel limit is checked from the header, before decoding.

Pillow is imported here only (the `documents` extra); never on the chat function's import path.
"""

from __future__ import annotations

import io
import warnings
from typing import TYPE_CHECKING

from agenthub.documents.ocr import (
    CorruptDocumentError,
    ImageTooLargeError,
    OcrLimits,
    TooManyPagesError,
)

if TYPE_CHECKING:
    from PIL.Image import Image


def open_pages(data: bytes, limits: OcrLimits) -> list[Image]:
    """The frames of an image file (a TIFF may hold several pages), decoded and checked."""
    from PIL import Image as PilImage
    from PIL import ImageSequence, UnidentifiedImageError

    # Pillow refuses images this large by itself too (DecompressionBombError past twice it).
    PilImage.MAX_IMAGE_PIXELS = limits.max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PilImage.DecompressionBombWarning)
            image = PilImage.open(io.BytesIO(data))
            frames = getattr(image, "n_frames", 1)
            if frames > limits.max_pages:
                raise TooManyPagesError(
                    f"the image has {frames} pages; at most {limits.max_pages} can be read"
                )
            pages = []
            for frame in ImageSequence.Iterator(image):
                check_pixels(frame.size, limits)
                frame.load()
                pages.append(frame.convert("L"))
            return pages
    except (PilImage.DecompressionBombError, PilImage.DecompressionBombWarning) as exc:
        raise ImageTooLargeError(_too_large_message(limits)) from exc
    except UnidentifiedImageError as exc:
        raise CorruptDocumentError("the image cannot be decoded") from exc
    except (OSError, SyntaxError, ValueError) as exc:  # truncated or malformed data
        raise CorruptDocumentError("the image is damaged or truncated") from exc


def check_pixels(size: tuple[int, int], limits: OcrLimits) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise CorruptDocumentError("the image has no pixels")
    if width * height > limits.max_pixels:
        raise ImageTooLargeError(_too_large_message(limits))


def _too_large_message(limits: OcrLimits) -> str:
    return (
        f"the image is too large to read (over {limits.max_pixels:,} pixels); send a smaller scan"
    )
