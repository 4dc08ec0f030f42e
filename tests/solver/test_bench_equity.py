"""The cross-month equity benchmark: one row per month and mode, checked rosters, clear errors."""

from __future__ import annotations

import pytest

from bench.equity import main


@pytest.mark.slow  # six month solves (~6 s)
def test_a_small_run_prints_every_month_in_both_modes(capsys):
    assert main(["--townships", "3", "--experts", "24", "--months", "2027-03,2027-04", "--seconds", "2", "--workers", "1"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| 2027-")]
    assert [tuple(cell.strip() for cell in row.strip("|").split("|")[:2]) for row in rows] == [
        ("2027-03", "month alone"), ("2027-03", "carry-over"), ("2027-04", "month alone"), ("2027-04", "carry-over"),
    ]
    assert all(row.rstrip(" |").endswith("| 0") for row in rows)  # no hard-rule violation
    first_alone, first_carried = (row.split("|")[3:8] for row in rows[:2])
    assert first_alone == first_carried  # the first month has nothing to carry over: one roster for both


def test_months_that_do_not_follow_each_other_are_a_readable_error(capsys):
    assert main(["--months", "2027-03,2027-05"]) == 2
    assert capsys.readouterr().err.strip() == "error: --months must be consecutive YYYY-MM months (got 2027-03,2027-05)"
    assert main(["--months", "2027-13"]) == 2
    assert "month must be YYYY-MM" in capsys.readouterr().err
