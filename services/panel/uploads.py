"""A CSV file sent from a console form, read as the API reads one: UTF-8, 20 MB at most."""

from __future__ import annotations

from shared.errors import RuleBroken

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class UploadRefused(RuleBroken):
    def __init__(self, reason: str, status: int = 422):
        super().__init__(reason, errors={"file": [reason]}, status=status)


def uploaded_csv(upload) -> tuple[str, str]:
    """(file name, text) of a form's file field; UploadRefused saying what to send instead."""
    raw = upload.read(MAX_UPLOAD_BYTES + 1) if upload else b""
    if not raw:
        raise UploadRefused("Select a CSV file")
    if len(raw) > MAX_UPLOAD_BYTES:
        raise UploadRefused("The selected file must be smaller than 20 MB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UploadRefused("The selected file must be a CSV saved as UTF-8") from None
    if "\x00" in text:
        raise UploadRefused("The selected file must be a CSV, not a spreadsheet or other file")
    return upload.filename or "", text
