"""Documents for OCR tests, drawn with Pillow: an English invoice, a Vietnamese one, scans."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

INVOICE_MST = "0123456789"
INVOICE_TOTAL = 12_650_000
INVOICE_VAT = 1_150_000
INVOICE_LINES = (
    "INVOICE",
    "Seller: ACME Trading JSC",
    f"Tax code (MST): {INVOICE_MST}",
    "Invoice No: INV-2026-0042",
    "Date: 15/03/2026",
    "Subtotal: 11,500,000 VND",
    "VAT (10%): 1,150,000 VND",
    "Total: 12,650,000 VND",
)
VIETNAMESE_SELLER = "Công ty TNHH Thương mại Ánh Dương"
VIETNAMESE_LINES = (
    "HÓA ĐƠN GIÁ TRỊ GIA TĂNG",
    f"Đơn vị bán hàng: {VIETNAMESE_SELLER}",
    "Mã số thuế: 0312345678",
    "Số hóa đơn: 0000123",
    "Ngày 15 tháng 03 năm 2026",
    "Cộng tiền hàng: 2.000.000 đồng",
    "Tiền thuế GTGT: 160.000 đồng",
    "Tổng cộng tiền thanh toán: 2.160.000 đồng",
)
# Pillow's own default font has Latin letters only; Vietnamese needs a font with its accents.
# DejaVu Sans is part of the machine image (Debian's fonts-dejavu-core).
DEJAVU_SANS = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def draw_page(lines: tuple[str, ...], *, vietnamese: bool = False, size: int = 30) -> Image.Image:
    if vietnamese:
        assert DEJAVU_SANS.is_file(), f"{DEJAVU_SANS} (fonts-dejavu-core) is needed"
        font: ImageFont.FreeTypeFont | ImageFont.ImageFont = ImageFont.truetype(
            str(DEJAVU_SANS), size
        )
    else:
        font = ImageFont.load_default(size=size)
    image = Image.new("L", (1400, 80 + 55 * len(lines)), 255)
    pen = ImageDraw.Draw(image)
    for row, line in enumerate(lines):
        pen.text((60, 40 + 55 * row), line, fill=0, font=font)
    return image


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def scanned_pdf(*pages: Image.Image, resolution: float = 150.0) -> bytes:
    """A PDF of images only (no text layer), like a scanner makes."""
    buffer = io.BytesIO()
    first, *rest = [page.convert("RGB") for page in pages]
    first.save(buffer, format="PDF", resolution=resolution, save_all=True, append_images=rest)
    return buffer.getvalue()


def invoice_png() -> bytes:
    return png_bytes(draw_page(INVOICE_LINES))


def vietnamese_invoice_png() -> bytes:
    return png_bytes(draw_page(VIETNAMESE_LINES, vietnamese=True))


def invoice_scan_pdf() -> bytes:
    return scanned_pdf(draw_page(INVOICE_LINES))


def text_pdf(text: str) -> bytes:
    """A one-page PDF with a real text layer (pypdf writes it; no OCR needed to read it)."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=612, height=792)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    lines = "".join(
        f"BT /F1 12 Tf 72 {720 - 16 * i} Td ({line}) Tj ET\n"
        for i, line in enumerate(text.splitlines())
    )
    stream = DecodedStreamObject()
    stream.set_data(lines.encode("latin-1"))
    page[NameObject("/Contents")] = writer._add_object(stream)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf("secret invoice"))))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def pixel_bomb_png(width: int = 12_000, height: int = 12_000) -> bytes:
    """A tiny file that claims a huge canvas (1 bit per pixel, all white: compresses to KBs)."""
    buffer = io.BytesIO()
    Image.new("1", (width, height), 1).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
