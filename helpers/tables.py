"""Markdown tables of results, for the notebooks and the maintainers' tools alike.

Standard library only, so a tool that only writes a table (the benchmark's reports) never
loads matplotlib or NumPy; the notebooks reach it as ``plotting.markdown_table`` too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["markdown_table"]


def markdown_table(
    header: Sequence[str], rows: Iterable[Sequence[Any]], align: str | None = None
) -> str:
    """A Markdown table (no trailing newline); ``align`` has one letter per column, l or r.

    In a notebook: ``display(Markdown(markdown_table([...], rows)))``.
    """
    header = list(header)
    align = align or "l" * len(header)
    if len(align) != len(header) or set(align) - {"l", "r"}:
        raise ValueError(
            f"align needs one 'l' or 'r' per column ({len(header)} columns), got {align!r}."
        )
    lines = [
        "| " + " | ".join(map(str, header)) + " |",
        "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|",
    ]
    for row in rows:
        row = list(row)
        if len(row) != len(header):
            raise ValueError(f"A row has {len(row)} cells for {len(header)} columns: {row!r}")
        lines.append("| " + " | ".join(map(str, row)) + " |")
    return "\n".join(lines)
