"""QR codes of join links, made by segno (pure Python, no image library) as SVG on the
server; a page shows one as an image of a data: address, which the CSP allows."""

from __future__ import annotations

import segno

# Error correction M (15 % of the code may be lost): a poster gets folded, scuffed and
# photographed at an angle, and a join link is short enough to stay a small code.
ERROR_CORRECTION = "m"


def qr_code(text: str) -> segno.QRCode:
    return segno.make(text, error=ERROR_CORRECTION, micro=False)


def qr_svg_uri(text: str) -> str:
    """The QR code of `text` as an SVG data: address: black on white, with the four modules
    of quiet zone a scanner needs, drawn in modules so it scales to any size."""
    return qr_code(text).svg_data_uri(scale=1, border=4, dark="#000", light="#fff",
                                      omitsize=True)
