"""How a preview is printed in a terminal (importer preview): the file's facts, the columns and
their fields, the counts in words, the warnings, the first items and the rejected rows.

Everything that comes from the file or the server (file name, headers, cells, messages) is
printed through importer.cli.terminal: literally (Rich never reads markup such as `[red]` in
it) and without control characters.
"""

from __future__ import annotations

import os
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from importer.cli.terminal import text

#: Width used when the output is not a terminal and $COLUMNS is unset.
PIPE_WIDTH = 100
#: Rows of `items` and `rejected` shown by default (the server sends at most 100 of each).
SHOWN_ROWS = 10
KIND_NAMES = {"csv": "CSV", "xlsx": "Excel (xlsx)", "xls": "Excel 97-2003 (xls)", "ods": "OpenDocument (ods)",
              "json": "JSON"}
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def console() -> Console:
    """A terminal's own width; piped, $COLUMNS if set, else PIPE_WIDTH."""
    c = Console(highlight=False)
    if c.is_terminal:
        return c
    columns = os.environ.get("COLUMNS", "")
    return Console(width=int(columns) if columns.isdigit() else PIPE_WIDTH, highlight=False)


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def file_facts(preview: dict[str, Any]) -> Table:
    """The file as the server read it: name, size, format, encoding, delimiter, sheet, header row."""
    fmt = preview.get("format") or {}
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    grid.add_row("File", text(f"{preview.get('file_name', '')} ({plural(preview.get('size_bytes', 0), 'byte')})"))
    kind = str(fmt.get("kind") or "")
    grid.add_row("Format", text(KIND_NAMES.get(kind, kind)))
    if fmt.get("encoding"):
        grid.add_row("Encoding", text(fmt["encoding"]))
    if fmt.get("delimiter"):
        delimiter = str(fmt["delimiter"])
        grid.add_row("Delimiter", Text(f"{DELIMITER_NAMES.get(delimiter, repr(delimiter))} ({delimiter!r})"))
    if fmt.get("sheet") is not None:
        sheets = [str(s) for s in fmt.get("sheets") or []]
        others = [s for s in sheets if s != fmt["sheet"]]
        line = text(fmt["sheet"])
        if others:
            line.append(text(f"  (also in the workbook: {', '.join(others)}; --sheet picks another)", "dim"))
        grid.add_row("Sheet", line)
    if fmt.get("header_row") is not None:
        grid.add_row("Header row", Text(str(fmt["header_row"])))
    order = preview.get("date_order")
    if order:
        source = preview.get("date_order_source")
        grid.add_row("Date order", Text(f"{order.replace('_', ' ')}" + (f" (from the {source})" if source and
                                                                           source != "request" else
                                                                           " (as asked)" if source else "")))
    return grid


def columns_table(preview: dict[str, Any]) -> Table:
    """Each column of the file: its header, the field it feeds, a few of its values."""
    columns = preview.get("columns") or []
    with_samples = any(c.get("samples") for c in columns)
    t = Table(title="Columns", title_justify="left", header_style="bold")
    # Widths that leave the header and its field whole at 80-100 columns; the samples take what
    # is left and are cut with an ellipsis (a column of long texts must not squeeze the rest).
    t.add_column("#", justify="right", no_wrap=True, min_width=2)
    t.add_column("column", overflow="fold", min_width=12, max_width=28)
    t.add_column("field", no_wrap=True, min_width=13)
    if with_samples:
        t.add_column("samples", overflow="ellipsis", no_wrap=True, max_width=32)
    ignored = set((preview.get("mapping") or {}).get("ignore") or [])
    # A column no field takes goes into the description when the unmapped_column warning names
    # it (as the page says); otherwise it is not read at all (empty, or errors.csv's own columns).
    described = {str(h) for w in preview.get("warnings") or [] if w.get("code") == "unmapped_column"
                 for h in (w.get("details") or {}).get("columns") or []}
    for column in columns:
        header = str(column.get("header", ""))
        field = column.get("field")
        if field:
            field_text = text(field, "green")
        elif header in ignored:
            field_text = Text("ignored", style="dim")
        elif header in described:
            field_text = Text("(description)", style="yellow")
        else:
            field_text = Text("not read", style="dim")
        cells: list[str | Text] = [str(int(column.get("index", 0)) + 1), text(header), field_text]
        if with_samples:
            cells.append(text(" · ".join(str(s) for s in column.get("samples") or [])))
        t.add_row(*cells)
    return t


def _structure(counts: dict[str, Any], which: str) -> str:
    parts = []
    for kind, one in (("rings", "ring"), ("groups", "group"), ("labels", "label"), ("pages", "page")):
        n = int((counts.get(kind) or {}).get(which, 0))
        if n:
            parts.append(plural(n, one))
    return ", ".join(parts) if parts else "none"


def counts_text(preview: dict[str, Any]) -> Text:
    """The counts as lines that add up: rows, items, rejections, year splits, duplicates, structure."""
    c = preview.get("counts") or {}
    rows, items, rejected = int(c.get("rows", 0)), int(c.get("items", 0)), int(c.get("rejected", 0))
    split, duplicates = int(c.get("split_items", 0)), int(c.get("skipped_duplicates", 0))
    out = Text()
    if preview.get("sampled"):
        out.append(f"Sampled: the file is too large to read whole in a preview; these counts are for "
                   f"its first {plural(rows, 'row')}.\n", style="yellow")
    out.append(f"{plural(rows, 'row')} in the file → ", style="bold")
    out.append(f"{plural(items, 'item')} to import", style="bold green")
    if rejected:
        out.append(f"\n  − {plural(rejected, 'row')} rejected (listed below; errors.csv after the import)")
    if split:
        out.append(f"\n  + {plural(split, 'extra item')}: an activity that crosses a year end becomes "
                   f"one item per year")
    if duplicates:
        out.append(f"\n  − {plural(duplicates, 'item')} already on the wheel, skipped "
                   f"(import with --keep-duplicates to add them anyway)")
    out.append(f"\nNew on the wheel: {_structure(c, 'new')}.  Already there: {_structure(c, 'existing')}.")
    return out


def warnings_text(preview: dict[str, Any]) -> Text | None:
    warnings = preview.get("warnings") or []
    if not warnings:
        return None
    out = Text()
    for i, warning in enumerate(warnings):
        if i:
            out.append("\n")
        out.append("⚠ ", style="yellow")
        out.append(text(warning.get("message") or warning.get("code")))
        out.append(text(f" ({warning.get('code')})", "dim"))
    return out


def _row_width(rows: list[dict[str, Any]]) -> int:
    return max([3, *(len(str(r.get("row", ""))) for r in rows)])


def fit(naturals: list[int], weights: list[int], budget: int) -> list[int]:
    """Widths for text columns that share `budget` characters: each its natural width when all
    fit, else a share by weight, what a short column leaves over going to the others."""
    widths = [0] * len(naturals)
    open_ = list(range(len(naturals)))
    left = max(budget, 3 * len(naturals))
    while open_:
        total = sum(weights[i] for i in open_)
        done = [i for i in open_ if naturals[i] <= left * weights[i] // total]
        if not done:
            for i in open_:
                widths[i] = max(3, left * weights[i] // total)
            break
        for i in done:
            widths[i] = naturals[i]
            left -= naturals[i]
            open_.remove(i)
    return widths


def items_table(items: list[dict[str, Any]], shown: int, total: int, width: int) -> Table:
    items = items[:shown]
    t = Table(title=f"First items ({len(items)} of {total:,})", title_justify="left", header_style="bold")
    texts = ("name", "ring", "group", "label")
    rows = [[text(item.get(k) or "") for k in texts] for item in items]
    row_width = max([3, *(len(str(i.get("row", ""))) for i in items)])
    # Row numbers and dates are never cut; the texts share what is left, each cut with "…"
    # (Rich alone squeezes the short columns to nothing when a table is too wide).
    naturals = [max([len(name), *(r[n].cell_len for r in rows)]) for n, name in enumerate(texts)]
    budget = width - (3 * (len(texts) + 3) + 1) - row_width - 20
    widths = fit(naturals, [4, 2, 2, 2], budget)
    t.add_column("row", justify="right", no_wrap=True, width=row_width)
    t.add_column("name", overflow="ellipsis", no_wrap=True, width=widths[0])
    t.add_column("start", no_wrap=True, width=10)
    t.add_column("end", no_wrap=True, width=10)
    for name, w in zip(texts[1:], widths[1:], strict=True):
        t.add_column(name, overflow="ellipsis", no_wrap=True, width=w)
    for item, cells in zip(items, rows, strict=True):
        t.add_row(str(item.get("row", "")), cells[0], text(item.get("start_date", "")),
                  text(item.get("end_date", "")), *cells[1:])
    return t


def rejected_table(rejected: list[dict[str, Any]], shown: int, total: int) -> Table:
    rejected = rejected[:shown]
    t = Table(title=f"Rejected rows ({len(rejected)} of {total:,})", title_justify="left", header_style="bold")
    t.add_column("row", justify="right", no_wrap=True, min_width=_row_width(rejected))
    t.add_column("column", overflow="ellipsis", no_wrap=True, max_width=20)
    t.add_column("reason", overflow="fold", ratio=3)
    # The row's cells are context for the reason: cut, never wrapped.
    t.add_column("values", overflow="ellipsis", no_wrap=True, ratio=2, max_width=30)
    for r in rejected:
        t.add_row(str(r.get("row", "")), text(r.get("column") or ""), text(r.get("reason") or ""),
                  text(" · ".join(str(v) for v in r.get("values") or [])))
    return t


def next_steps(preview: dict[str, Any]) -> Text:
    pid = preview["id"]
    out = Text()
    out.append("Preview ", style="bold")
    out.append(pid, style="bold cyan")
    if preview.get("expires_at"):
        out.append(f" (kept until {str(preview['expires_at'])[:16].replace('T', ' ')} UTC)", style="dim")
    out.append("\nImport it:  ")
    out.append(f"importer import-preview {pid}", style="bold")
    out.append("\n            (--mode replace, --keep-duplicates, --no-notify)", style="dim")
    out.append("\nChange it:  importer preview again with --mapping, --date-order or --sheet")
    return out


def render(preview: dict[str, Any], *, width: int = PIPE_WIDTH, shown: int = SHOWN_ROWS) -> Group:
    """The whole preview as one Rich renderable, top to bottom."""
    counts = preview.get("counts") or {}
    parts: list[Any] = [file_facts(preview), Text(), columns_table(preview), Text(), counts_text(preview)]
    warnings = warnings_text(preview)
    if warnings is not None:
        parts += [Text(), warnings]
    items = preview.get("items") or []
    if items and shown:
        # The list holds every planned item, those already on the wheel too: the total is theirs.
        planned = int(counts.get("items", len(items))) + int(counts.get("skipped_duplicates", 0))
        parts += [Text(), items_table(items, shown, planned, width)]
    rejected = preview.get("rejected") or []
    if rejected and shown:
        parts += [Text(), rejected_table(rejected, shown, int(counts.get("rejected", len(rejected))))]
    parts += [Text(), next_steps(preview)]
    return Group(*parts)
