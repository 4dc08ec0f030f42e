"""The benchmark runner: baseline rows checked by the independent checker, a Markdown results file, clear errors."""

from __future__ import annotations

from bench.run import SIZE_LOADS, SIZES, Row, main, markdown_table


def test_baseline_only_run_writes_checked_rows(tmp_path, capsys):
    out = tmp_path / "RESULTS.md"
    assert main(["--sizes", "small", "--loads", "0.6,0.9", "--no-solver", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "cores" in text and "Machine:" in text
    rows = [line for line in text.splitlines() if line.startswith("| small")]
    assert len(rows) == 2
    for line in rows:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert cells[1] == "baseline" and cells[2] == "FEASIBLE"
        assert cells[16] == "0"  # hard-rule violations found by the checker


def test_unmet_ratio_is_solver_over_baseline():
    rows = [Row("s", "baseline", unmet=5), Row("s", "solver", unmet=1), Row("t", "baseline", unmet=0), Row("t", "solver", unmet=0)]
    lines = markdown_table(rows).splitlines()
    assert lines[3].endswith("| 0.20 |")
    assert lines[5].endswith("| 1.00 |")


def test_unknown_size_is_a_readable_error(capsys):
    assert main(["--sizes", "huge", "--no-solver"]) == 2
    assert "unknown size huge" in capsys.readouterr().err


def test_sample_county_rows_come_from_the_sample_file(tmp_path):
    out = tmp_path / "RESULTS.md"
    assert main(["--sizes", "sample", "--sample-months", "2026-12", "--no-solver", "--out", str(out)]) == 0
    rows = [line for line in out.read_text(encoding="utf-8").splitlines() if line.startswith("| sample Quannan 2026-12")]
    assert len(rows) == 1
    cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert cells[1] == "baseline" and cells[16] == "0"


def test_unmet_is_shown_against_the_coverage_floor():
    assert SIZES["tight"] == (26, 400) and SIZE_LOADS["tight"] == (1.1,)
    rows = [Row("tight", "solver", unmet=221, floor=216), Row("t", "solver", unmet=0, floor=0)]
    lines = markdown_table(rows).splitlines()
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    first = [cell.strip() for cell in lines[2].strip("|").split("|")]
    second = [cell.strip() for cell in lines[3].strip("|").split("|")]
    assert first[header.index("unmet floor")] == "216" and first[header.index("above floor")] == "2.3%"
    assert second[header.index("above floor")] == "0.0%"
