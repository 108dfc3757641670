"""Exported cells that a spreadsheet would run as a formula are written as text; numbers stay
numbers (tiyan.analytics.export_cells)."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook, load_workbook

from tiyan.analytics.export_cells import append_row, csv_row

HOSTILE = ['=HYPERLINK("http://x","y")', "+1", "-cmd", "@SUM(1)", "\t=1", "\r=1"]
HARMLESS = ["a=b", "1+1", "", "＝全角", " =1", "email@x"]


def test_csv_cells_that_start_like_a_formula_get_a_quote_and_numbers_stay_numbers() -> None:
    row = csv_row([*HOSTILE, *HARMLESS, -3, -2.5, 0, None])
    assert row == ["'" + h for h in HOSTILE] + HARMLESS + [-3, -2.5, 0, None]
    out = io.StringIO()
    csv.writer(out).writerow(row)
    [parsed] = csv.reader(io.StringIO(out.getvalue()))
    assert parsed[:6] == ["'" + h for h in HOSTILE] and parsed[-4:] == ["-3", "-2.5", "0", ""]


def test_excel_cells_that_start_like_a_formula_are_quoted_text_in_both_sheet_modes() -> None:
    for write_only in (True, False):
        book = Workbook(write_only=write_only)
        sheet = book.create_sheet("data")
        append_row(sheet, [*HOSTILE, *HARMLESS, -3, -2.5])
        out = io.BytesIO()
        book.save(out)
        [cells] = load_workbook(io.BytesIO(out.getvalue()))["data"].iter_rows()
        read_back = [h.replace("\r", "\n") or None for h in [*HOSTILE, *HARMLESS]]  # XML
        assert [c.value for c in cells] == [*read_back, -3, -2.5]
        assert all(c.data_type != "f" for c in cells)
        assert all(c.data_type == "s" and c.quotePrefix for c in cells[:6])
        assert [c.data_type for c in cells[-2:]] == ["n", "n"]
