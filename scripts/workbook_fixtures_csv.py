"""Write the sample county's standing data as CSV files, one per sheet, as the office would type them.

The LibreOffice fixture `quannan_libreoffice.xlsx` is made from them (scripts/make-workbook-fixtures):
each sheet of the zh-CN export becomes `NN-<sheet>.csv`, dates as 2027-01-04, times as 08:30, everything
else as the cell shows it. The instructions sheet is left out (a workbook without it imports the same).

    .venv/bin/python scripts/workbook_fixtures_csv.py OUT_DIR
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from pathlib import Path

from openpyxl import load_workbook

from config.settings import SAMPLE_SCENARIO
from scheduler.scenario import load_scenario
from scheduler.workbook import document_to_workbook


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return str(value)


def main(out_dir: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.csv"):
        old.unlink()
    book = load_workbook(io.BytesIO(document_to_workbook(load_scenario(SAMPLE_SCENARIO), "zh-CN")))
    for position, sheet in enumerate(book.worksheets[1:], start=1):
        with (out / f"{position:02d}-{sheet.title}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            for row in sheet.iter_rows(values_only=True):
                writer.writerow([_text(value) for value in row])
    print(f"wrote {len(book.worksheets) - 1} CSV files to {out}")


if __name__ == "__main__":
    main(sys.argv[1])
