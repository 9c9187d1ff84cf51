"""Documents: what a file says, as text (extract). OCR for scanned files plugs in here."""
