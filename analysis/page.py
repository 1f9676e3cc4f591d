"""Self-contained HTML pages: the style, numbers as table cells and figures carried inside the page.

Both the session report and the group report are built from these. The group report is written by the process
that waited on the workers, so this module imports no science library.
"""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path
from typing import Any


def format_number(*, value: float, digits: int = 3) -> str:
    """``digits`` significant digits in fixed point from 0.001 to a million (``977``, ``8234``, ``0.0213``), so that
    numbers of one unit read alike in a column; scientific notation only outside that range."""
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if 1e-3 <= magnitude < 1e6:
        decimals = max(0, digits - 1 - math.floor(math.log10(magnitude)))
        return f"{value:.{decimals}f}"
    return f"{value:.{digits}g}"


def format_cell(value: Any, digits: int = 3) -> str:
    """A value as a table cell: a number by :func:`format_number`, text escaped, and "–" for none or not finite."""
    if value is None:
        return "–"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "–"
        return format_number(value=value, digits=digits)
    return html.escape(str(value))


def html_page(*, title: str, body: str) -> str:
    """A complete, self-contained HTML page with the report style.

    Parameters
    ----------
    title : str
    body : str
        HTML of the body.

    Returns
    -------
    str
    """
    style = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1150px;margin:2em auto;color:#222;
line-height:1.45;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em} h2{font-size:1.15em;margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.9em} td,th{padding:.25em .8em;border-bottom:1px solid #eee;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums} .meta{color:#666;font-size:.9em}
.note{background:#fff7e0;border-left:3px solid #f2a541;padding:.3em .8em;margin:.3em 0}
figure{margin:1.2em 0} figure img{max-width:100%;border:1px solid #eee} figcaption{color:#555;font-size:.88em}
pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:.8em} .summary{font-size:1.02em;background:#f3f8fb;
padding:.8em 1em;border-radius:4px}
"""
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{style}</style></head><body>\n{body}\n</body></html>\n"
    )


def embedded_image(path: Path) -> str:
    """An ``<img>`` carrying the PNG at ``path`` in itself, so that the page needs no file beside it."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"<img alt='{html.escape(path.stem)}' src='data:image/png;base64,{data}'>"
