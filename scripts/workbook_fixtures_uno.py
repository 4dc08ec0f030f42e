"""Make .xlsx fixtures with LibreOffice itself: each folder of CSV files (one per sheet) becomes one workbook.

Run by scripts/make-workbook-fixtures with the system python3 (it needs python3-uno and LibreOffice Calc:
`apt-get install -y libreoffice-calc-nogui python3-uno`). LibreOffice imports each CSV as a person typing it
would get it (numbers, dates and times detected, zh-CN conventions), copies the sheets into one document and
saves it as Excel 2007-365 .xlsx: a workbook LibreOffice wrote, not openpyxl.

    python3 scripts/workbook_fixtures_uno.py SOURCE_DIR OUT_DIR
SOURCE_DIR holds one folder per workbook (`quannan/`, ...), each with `NN-<sheet name>.csv` files in sheet order.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]

PORT = 2083
CSV_FILTER = "Text - txt - csv (StarCalc)"
# comma, double quote, UTF-8 (76), from line 1, no column formats, language zh-CN (2052), quoted fields not
# forced to text, detect special numbers (dates, times): what Calc does for a CSV opened by hand.
CSV_OPTIONS = "44,34,76,1,,2052,false,true"
XLSX_FILTER = "Calc MS Excel 2007 XML"


def _property(name: str, value: object) -> PropertyValue:
    prop = PropertyValue()
    prop.Name, prop.Value = name, value
    return prop


def _connect(profile: str) -> tuple[subprocess.Popen, object]:
    office = subprocess.Popen([
        "soffice", "--headless", "--invisible", "--norestore", "--nologo",
        f"-env:UserInstallation={Path(profile).as_uri()}",
        f"--accept=socket,host=127.0.0.1,port={PORT};urp;",
    ])
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(120):
        try:
            context = resolver.resolve(f"uno:socket,host=127.0.0.1,port={PORT};urp;StarOffice.ComponentContext")
            return office, context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
        except Exception:  # noqa: BLE001 - LibreOffice is still starting
            time.sleep(0.5)
    office.kill()
    raise SystemExit("LibreOffice did not start")


def _workbook(desktop: object, folder: Path, out: Path) -> None:
    hidden = _property("Hidden", True)
    target = desktop.loadComponentFromURL("private:factory/scalc", "_blank", 0, (hidden,))
    blank_sheets = list(target.Sheets.ElementNames)
    for position, csv_file in enumerate(sorted(folder.glob("*.csv"))):
        source = desktop.loadComponentFromURL(
            csv_file.resolve().as_uri(), "_blank", 0,
            (hidden, _property("FilterName", CSV_FILTER), _property("FilterOptions", CSV_OPTIONS)),
        )
        target.Sheets.importSheet(source, source.Sheets.getByIndex(0).Name, position)
        target.Sheets.getByIndex(position).Name = csv_file.stem.split("-", 1)[1]
        source.close(True)
    for name in blank_sheets:
        target.Sheets.removeByName(name)
    target.storeToURL(out.resolve().as_uri(), (_property("FilterName", XLSX_FILTER),))
    target.close(True)


def main(source_dir: str, out_dir: str) -> None:
    with tempfile.TemporaryDirectory() as profile:
        office, desktop = _connect(profile)
        try:
            for folder in sorted(p for p in Path(source_dir).iterdir() if p.is_dir()):
                out = Path(out_dir) / f"{folder.name}_libreoffice.xlsx"
                _workbook(desktop, folder, out)
                print(f"wrote {out}")
        finally:
            try:
                desktop.terminate()
            except Exception:  # noqa: BLE001 - the bridge drops as LibreOffice exits
                pass
            office.wait(timeout=60)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
