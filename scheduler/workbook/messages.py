"""How a workbook problem is told: where (sheet, row, column) and what, in zh-CN or English, never mixed.

    专家!D7（职称）：未知职称“主任”（可填：主任医师、副主任医师、主治医师）     a cell
    请假!第5行：开始日期2027-01-12晚于结束日期2027-01-10                     a row
    专家：缺少列“姓名”                                                      a sheet
    工作簿：缺少工作表“专家”                                                 the workbook

English: `Experts!D7 (Title): ...`, `Unavailability!row 5: ...`. A problem found while reading a cell is
worded in the reader's language where it is found (`vocabulary.py`); a problem the scenario validator finds
comes as a code with parameters (`scheduler.scenario.messages`) and is rendered in the reader's language,
with the document paths it mentions shown as cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openpyxl.utils import get_column_letter

from scheduler.errors import FieldError, ScenarioError


@dataclass(frozen=True)
class CellRef:
    """Where a value of the document was read: a sheet, and a row and column in it when known."""

    sheet: str  # the sheet's name as the workbook spells it
    row: int | None = None
    column: int | None = None
    header: str | None = None  # the column's header (or the setting's label) in the reader's language

    def address(self) -> str:
        """`专家!C7`, `专家!7:7` (a whole row, as Excel writes it) or `专家` (the sheet)."""
        if self.row is None:
            return self.sheet
        if self.column is None:
            return f"{self.sheet}!{self.row}:{self.row}"
        return f"{self.sheet}!{get_column_letter(self.column)}{self.row}"


@dataclass(frozen=True)
class WorkbookProblem(FieldError):
    """One problem of a workbook at a cell: `path` is the cell's address, `message` what is wrong, in `lang`."""

    where: CellRef | None = None
    lang: str = "zh-CN"

    def __str__(self) -> str:
        zh = self.lang == "zh-CN"
        where = self.where
        if where is None:
            return f"工作簿：{self.message}" if zh else f"workbook: {self.message}"
        if where.row is None:
            return f"{where.sheet}：{self.message}" if zh else f"{where.sheet}: {self.message}"
        if where.column is None:
            return f"{where.sheet}!第{where.row}行：{self.message}" if zh else f"{where.sheet}!row {where.row}: {self.message}"
        header = f"（{where.header}）" if zh and where.header else (f" ({where.header})" if where.header else "")
        return f"{where.address()}{header}：{self.message}" if zh else f"{where.address()}{header}: {self.message}"


@dataclass
class WorkbookError(ScenarioError):
    """A workbook that cannot be imported; `problems` holds every problem found (WorkbookProblem), in sheet order."""

    problems: list[FieldError] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [str(problem) for problem in self.problems]

    def __str__(self) -> str:
        return "\n".join(self.lines())


def problem_at(where: CellRef | None, message: str, lang: str) -> WorkbookProblem:
    return WorkbookProblem(where.address() if where else "", message, where, lang)
