"""`rota template`, `rota import county.xlsx` and `rota export --out county.xlsx`, through the console entry (tests/console.py)."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import load_workbook

from scheduler.workbook import workbook_to_scenario
from tests.console import run_rota

WORKBOOKS = Path(__file__).parent / "workbooks"


def cell_values(data: bytes) -> dict[str, list[tuple]]:
    """Every sheet's cell values, row by row: what "the same workbook content" means."""
    book = load_workbook(io.BytesIO(data))
    return {sheet.title: [tuple(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets}


def test_template_writes_the_blank_workbook(tmp_path):
    target = tmp_path / "template.xlsx"
    result = run_rota("template", "--out", str(target), "--lang", "en")
    assert result.returncode == 0, result.stderr
    sheets = load_workbook(target).sheetnames
    assert "Experts" in sheets and "Townships" in sheets
    bad = run_rota("template", "--out", str(tmp_path / "t.xlsx"), "--lang", "fr")
    assert bad.returncode == 2 and bad.stderr.startswith("error: --lang") and "Traceback" not in bad.stderr


def test_import_export_import_export_gives_the_same_workbook(database_url, tmp_path):
    env = {"ROTA_DATABASE_URL": database_url, "ROTA_LANGUAGE": "zh-CN"}
    source = WORKBOOKS / "quannan_libreoffice.xlsx"
    imported = run_rota("import", str(source), "--community", "quannan", env=env)
    assert imported.returncode == 0, imported.stderr
    first, second = tmp_path / "first.xlsx", tmp_path / "second.xlsx"
    assert run_rota("export", "--community", "quannan", "--out", str(first), env=env).returncode == 0
    assert workbook_to_scenario(first.read_bytes()) == workbook_to_scenario(source.read_bytes())
    again = run_rota("import", str(first), "--community", "quannan", env=env)
    assert again.returncode == 0, again.stderr
    assert run_rota("export", "--community", "quannan", "--out", str(second), env=env).returncode == 0
    assert cell_values(second.read_bytes()) == cell_values(first.read_bytes())


def test_typed_by_hand_workbook_imports(database_url):
    env = {"ROTA_DATABASE_URL": database_url, "ROTA_LANGUAGE": "zh-CN"}
    result = run_rota("import", str(WORKBOOKS / "typed_by_hand_libreoffice.xlsx"), "--community", "ceshi", env=env)
    assert result.returncode == 0, result.stderr
    assert "测试县人民医院" in result.stdout


def test_a_bad_workbook_imports_nothing(database_url):
    env = {"ROTA_DATABASE_URL": database_url, "ROTA_LANGUAGE": "zh-CN"}
    result = run_rota("import", str(WORKBOOKS / "bad_cells_libreoffice.xlsx"), "--community", "bad", env=env)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert "error: 设置!B3（时区）：未知的 IANA 时区“Asia/Beijing”" in lines
    assert "error: 乡镇!D3（诊室数）：不能小于1（现为0）" in lines
    assert "Traceback" not in result.stderr
    nothing = run_rota("export", env=env)
    assert nothing.returncode == 2 and "no community has been imported yet" in nothing.stderr
