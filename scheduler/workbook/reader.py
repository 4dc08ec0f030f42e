"""A filled workbook read into a `rota.scenario/1` document, validated by the scenario validator, or every problem.

Reading turns each cell into a document value (`vocabulary.py`) and remembers, for every document path it
fills (`experts[3].title`), the cell it came from. The assembled document then goes through the same
validator as a scenario file; each of its problems is mapped back to the cell of its path (or of the
nearest enclosing path: a row, a sheet) and told in the reader's language (`messages.py`). Problems of
reading and of validating are collected together, and any problem means nothing is returned.

Bounds, so a hostile file costs little: at most MAX_WORKBOOK_BYTES of .xlsx and MAX_UNPACKED_BYTES once
unzipped (checked before openpyxl parses anything; expat refuses XML entity bombs), MAX_ROWS rows and
MAX_COLUMNS columns a sheet (read-only, streaming mode).
"""

from __future__ import annotations

import dataclasses
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from typing import Any

from openpyxl import load_workbook

from scheduler import i18n
from scheduler.scenario.load import document_problems
from scheduler.scenario.messages import CodedFieldError, Shown, quoted
from scheduler.scenario.schema import FORMAT, DemandRow, Department, Expert, HalfDays, Link, Rules, Scenario, Specialty, Township
import scheduler.workbook.layout as layout
from scheduler.workbook.layout import Column, Sheet
from scheduler.workbook.messages import CellRef, WorkbookError, WorkbookProblem, problem_at
from scheduler.workbook.vocabulary import (
    HALF_DAY_WORDS,
    WEEKDAY_WORDS,
    CellProblem,
    blank,
    read_boolean,
    read_clock,
    read_date,
    read_items,
    read_text,
    read_whole,
)
from scheduler.zone import SERVICE_TIMEZONE

MAX_WORKBOOK_BYTES = 20_000_000
MAX_UNPACKED_BYTES = 200_000_000
MAX_ROWS = 10_000  # a county's longest sheet (its experts) is a few thousand rows
MAX_COLUMNS = 40
MAX_PROBLEMS = 200  # problems listed; the rest are counted in one line
_MODELS: dict[str, Any] = {"specialties": Specialty, "departments": Department, "townships": Township, "experts": Expert, "links": Link, "demand": DemandRow}
_LIST_KINDS = (layout.REFS, layout.WEEKDAYS, layout.HALF_DAYS)
_WORDS_OF_KIND = {**layout.WORDS_OF_KIND, layout.WEEKDAYS: WEEKDAY_WORDS, layout.HALF_DAYS: HALF_DAY_WORDS}
_INDEX = re.compile(r"(\[\d+\]|\.[^.\[]+)$")


def _say(lang: str, zh: str, en: str, **fields: Any) -> str:
    return (zh if lang == "zh-CN" else en).format(**fields)


def _quoted(text: str, lang: str) -> str:
    return quoted(text, lang)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@dataclass
class _Names:
    """The items of one referred list: their codes, and which codes each name stands for."""

    codes: set[str] = field(default_factory=set)
    by_name: dict[str, list[str]] = field(default_factory=dict)
    without_code: set[str] = field(default_factory=set)  # names of items whose code cell is empty or unreadable
    names_missing: bool = False  # the sheet has no name column: a name written elsewhere cannot be looked up

    def add(self, code: Any, name: Any) -> None:
        if not isinstance(code, str):
            if isinstance(name, str):
                self.without_code.add(name)
            return
        self.codes.add(_nfc(code))
        if isinstance(name, str):
            self.by_name.setdefault(name, []).append(code)


class _AlreadyTold(Exception):
    """A reference to an item whose own cells already have a problem: nothing new to tell at the reference."""


@dataclass
class _Row:
    sheet: Sheet
    title: str  # the sheet's name in the workbook
    number: int
    cells: dict[Column, tuple[int, Any]]  # column -> (column number, raw value)


class _Reader:
    def __init__(self, lang: str):
        self.lang = lang
        self.problems: list[WorkbookProblem] = []
        self.cells: dict[str, CellRef] = {}  # document path -> where it was read
        self.kinds: dict[str, str] = {}  # document path -> the kind of cell it was read from
        self.reported: set[str] = set()  # document paths whose cells already have a problem
        self.names: dict[str, _Names | None] = {}  # referred list -> its items (None: the sheet is missing)
        self.missing: set[tuple[str, str]] = set()  # (sheet key, column key) of required columns a sheet lacks
        self.quiet: set[str] = set()  # document paths (rows) whose own problems follow from a cell already told
        self.references: dict[str, tuple[str, str]] = {}  # document path -> (referred list, the code it refers to)
        self.unreadable = False  # a sheet could not be read whole: what the validator would say of the rest is noise
        self.incomplete: set[str] = set()  # sheets read only in part (too many rows)

    # -- problems and places --

    def problem(self, where: CellRef | None, message: str, path: str | None = None) -> None:
        self.problems.append(problem_at(where, message, self.lang))
        if path is not None:
            self.reported.add(path)

    def place(self, path: str, where: CellRef) -> None:
        self.cells.setdefault(path, where)

    def locate(self, path: str) -> CellRef | None:
        """The cell of a document path, or of the nearest enclosing path that was read."""
        while path:
            if path in self.cells:
                return self.cells[path]
            shorter = _INDEX.sub("", path)
            if shorter == path:
                break
            path = shorter
        return None

    def address(self, path: str, within: str = "") -> str | None:
        """Where a document path (absolute, or relative to `within`) was read, as a cell address; a row as its id cell."""
        for candidate in (path, f"{within}.{path}" if within else ""):
            if not candidate:
                continue
            found = re.match(r"^(\w+)\[\d+\]$", candidate)
            if found and found[1] in layout.ID_COLUMN and f"{candidate}.{layout.ID_COLUMN[found[1]]}" in self.cells:
                candidate = f"{candidate}.{layout.ID_COLUMN[found[1]]}"
            where = self.locate(candidate)
            if where is not None:
                return where.address()
        return None

    def kind(self, path: str) -> str | None:
        """The kind of cell a document path (or the list it is an item of) was read from."""
        while path and path not in self.kinds:
            shorter = _INDEX.sub("", path)
            if shorter == path:
                return None
            path = shorter
        return self.kinds.get(path)

    def in_words(self, problem: CodedFieldError) -> CodedFieldError:
        """The problem with the codes it quotes (`supervision`, `'clinic', 'teaching'`) in the words its cell takes (挂点督导)."""
        words = _WORDS_OF_KIND.get(self.kind(problem.path) or "")
        if words is None:
            return problem
        params = dict(problem.params)
        if isinstance(params.get("got"), str) and not isinstance(params["got"], Shown):
            params["got"] = words.write(params["got"], self.lang)
        if isinstance(params.get("expected"), str):
            params["expected"] = tuple(words.write(code, self.lang) for code in re.findall(r"'([^']*)'", params["expected"]))
        return dataclasses.replace(problem, params=tuple(params.items()))

    def covered(self, path: str) -> bool:
        """Whether a problem at this path is one already told at its cell (or at a cell enclosing it)."""
        while path:
            if path in self.reported:
                return True
            shorter = _INDEX.sub("", path)
            if shorter == path:
                return False
            path = shorter
        return False

    # -- cells --

    def read_cell(self, kind: str, value: Any, column: Column | None = None) -> Any:
        """A cell's value for the document; CellProblem when the cell does not say a value of its kind."""
        lang = self.lang
        if kind in (layout.TEXT, layout.ID):
            return read_text(value, lang)
        if kind == layout.WHOLE:
            return read_whole(value, lang)
        if kind == layout.BOOLEAN:
            return read_boolean(value, lang)
        if kind in layout.WORDS_OF_KIND:
            return layout.WORDS_OF_KIND[kind].read(value, lang)
        if kind == layout.DATE:
            return read_date(value, lang)
        if kind == layout.CLOCK:
            return read_clock(value, lang)
        if kind == layout.WEEKDAYS:
            return [WEEKDAY_WORDS.read(item, lang) for item in read_items(value)]
        if kind == layout.HALF_DAYS:
            return [HALF_DAY_WORDS.read(item, lang) for item in read_items(value)]
        if kind == layout.REF:
            assert column is not None
            return self.resolve(column.target, read_text(value, lang))
        if kind == layout.REFS:
            assert column is not None
            return [self.resolve(column.target, item) for item in read_items(value)]
        raise AssertionError(f"no reader for cells of kind {kind}")

    def resolve(self, target: str, text: str) -> str:
        """The code of a referred item written as its code or its name."""
        names = self.names.get(target)
        if names is None or _nfc(text) in names.codes:
            return text  # the list could not be read: the validator judges the reference as written
        codes = names.by_name.get(text, [])
        what = layout.WHAT[target][0 if self.lang == "zh-CN" else 1]
        if len(codes) == 1:
            return codes[0]
        if not codes and (text in names.without_code or names.names_missing):
            raise _AlreadyTold()
        if codes:
            raise CellProblem(_say(self.lang, "名称{name}对应多个{what}（{codes}），请填编号", "the name {name} is shared by several {what}s ({codes}): write the id",
                                   name=_quoted(text, self.lang), what=what, codes="、".join(codes) if self.lang == "zh-CN" else ", ".join(codes)))
        raise CellProblem(_say(self.lang, "未知{what}{name}", "unknown {what} {name}", what=what, name=_quoted(text, self.lang)))

    # -- sheets --

    def rows(self, worksheet: Any, spec: Sheet, title: str) -> list[_Row] | None:
        """The data rows of a sheet with their cells by column (a column missing from the header is told once); None if unreadable."""
        lang = self.lang
        cells = self.grid(worksheet, title)
        if cells is None:
            return None
        grid = iter(cells)
        header = next(grid, ())
        by_header = layout.column_by_header(spec)
        columns: dict[int, Column] = {}
        seen: dict[Column, int] = {}
        for number, value in enumerate(header, start=1):
            if blank(value):
                continue
            text = read_text(value, lang)
            where = CellRef(title, 1, number, text)
            column = by_header.get(text.lower())
            if number > MAX_COLUMNS:
                self.problem(where, _say(lang, "列太多：最多读 {n} 列", "too many columns: at most {n} are read", n=MAX_COLUMNS))
            elif column is None:
                known = "、".join(c.zh for c in spec.columns) if lang == "zh-CN" else ", ".join(c.en for c in spec.columns)
                self.problem(where, _say(lang, "未知列{name}（可用：{known}）", "unknown column {name} (use: {known})", name=_quoted(text, lang), known=known))
            elif column in seen:
                self.problem(where, _say(lang, "列{name}重复（已在第{first}列）", "column {name} appears twice (first in column {first})",
                                         name=_quoted(column.header(lang), lang), first=seen[column]))
            else:
                columns[number] = column
                seen[column] = number
        for column in spec.columns:
            if column not in seen and _required(spec, column):
                self.problem(CellRef(title), _say(lang, "缺少列{name}", "missing column {name}", name=_quoted(column.header(lang), lang)))
                self.missing.add((spec.key, column.key))
        rows = []
        for number, values in enumerate(grid, start=2):
            if all(blank(value) for value in values):
                continue
            if number > MAX_ROWS:
                self.problem(CellRef(title, number), _say(lang, "行太多：最多读 {n} 行", "too many rows: at most {n} are read", n=MAX_ROWS))
                self.unreadable = True
                self.incomplete.add(spec.key)
                break
            cells = {}
            for index, value in enumerate(values, start=1):
                if index in columns:
                    cells[columns[index]] = (index, value)
                elif not blank(value) and index <= MAX_COLUMNS:
                    self.problem(CellRef(title, number, index), _say(lang, "这一列没有表头", "this column has no header"))
            for column, number_of_column in seen.items():
                cells.setdefault(column, (number_of_column, None))
            rows.append(_Row(spec, title, number, cells))
        return rows

    def grid(self, worksheet: Any, title: str) -> list[tuple[Any, ...]] | None:
        """The cell values of a sheet's first MAX_ROWS + 1 rows and MAX_COLUMNS + 1 columns (None if it cannot be parsed)."""
        try:
            return list(worksheet.iter_rows(min_row=1, max_row=MAX_ROWS + 1, max_col=MAX_COLUMNS + 1, values_only=True))
        except Exception:  # openpyxl parses the sheet's XML here, lazily: a broken or hostile part fails now (ParseError, KeyError...)
            self.problem(CellRef(title), _say(self.lang, "无法读取这个工作表（文件已损坏，或含有不允许的内容）",
                                              "this sheet cannot be read (the file is damaged or holds what a workbook may not)"))
            self.unreadable = True
            return None

    def fill(self, row: _Row, path: str, item: dict[str, Any], skip: tuple[str, ...] = ()) -> None:
        """Read a row's cells into `item` (the document mapping at `path`), noting where each value came from."""
        self.place(path, CellRef(row.title, row.number))
        for column, (number, value) in row.cells.items():
            if column.key in skip:
                continue
            field_path = f"{path}.{column.key}"
            self.cells[field_path] = CellRef(row.title, row.number, number, column.header(self.lang))
            self.kinds[field_path] = column.kind
            if blank(value):
                if column.kind in _LIST_KINDS:
                    item[column.key] = []  # an empty list cell is an empty list (an expert with no specialty)
                continue
            try:
                item[column.key] = self.read_cell(column.kind, value, column)
            except CellProblem as problem:
                self.problem(self.cells[field_path], problem.message, field_path)
            except _AlreadyTold:
                self.reported.add(field_path)
            if column.kind == layout.REF and column.key in item:
                self.references[field_path] = (column.target, item[column.key])
            elif column.kind == layout.REFS and column.key in item:
                for position, code in enumerate(item[column.key]):
                    self.references[f"{field_path}[{position}]"] = (column.target, code)

    def require(self, row: _Row, path: str, item: dict[str, Any], keys: tuple[str, ...]) -> bool:
        """Whether the row gave each of `keys`; tells the empty ones (a missing column is told once, at the sheet)."""
        given = True
        for key in keys:
            if key in item:
                continue
            given = False
            field_path = f"{path}.{key}"
            if field_path in self.cells and field_path not in self.reported:
                self.problem(self.cells[field_path], _say(self.lang, "必须填写", "required field is missing"), field_path)
        return given

    def list_sheet(self, worksheet: Any, spec: Sheet, title: str) -> list[dict[str, Any]]:
        rows = self.rows(worksheet, spec, title)
        if rows is None:
            self.names[spec.key] = None
            return []
        items = []
        for index, row in enumerate(rows):
            item: dict[str, Any] = {}
            self.fill(row, f"{spec.key}[{index}]", item)
            items.append(item)
        if spec.key in self.incomplete:
            self.names[spec.key] = None  # references into a sheet read in part cannot be judged
        elif spec.key in layout.ID_COLUMN:
            names = _Names(names_missing=(spec.key, "name") in self.missing)
            for item in items:
                names.add(item.get(layout.ID_COLUMN[spec.key]), item.get("name"))
            self.names[spec.key] = names
        return items

    def settings(self, worksheet: Any, title: str, document: dict[str, Any]) -> None:
        lang = self.lang
        for prefix in ("community", "half_days", "rules", "rules.weights"):
            self.place(prefix, CellRef(title))
        item_column, value_column = layout.SETTINGS_COLUMNS[0], layout.SETTINGS_COLUMNS[1]
        by_label = layout.setting_by_label()
        seen: dict[tuple[str, ...], int] = {}
        for row in self.rows(worksheet, layout.SETTINGS, title) or ():
            label_number, label = row.cells.get(item_column, (1, None))
            value_number, value = row.cells.get(value_column, (2, None))
            label_where = CellRef(title, row.number, label_number, item_column.header(lang))
            setting = None if blank(label) else by_label.get(read_text(label, lang).lower())
            if setting is None:
                if not blank(label) or not blank(value):
                    self.problem(label_where, _say(lang, "未知设置项{name}", "unknown setting {name}", name=_quoted(read_text(label, lang), lang)))
                continue
            if setting.path in seen:
                self.problem(label_where, _say(lang, "设置项{name}重复（已在第{first}行）", "setting {name} appears twice (first in row {first})",
                                               name=_quoted(setting.label(lang), lang), first=seen[setting.path]))
                continue
            seen[setting.path] = row.number
            path = ".".join(setting.path)
            self.cells[path] = CellRef(title, row.number, value_number, setting.label(lang))
            self.kinds[path] = setting.kind
            if blank(value):
                continue  # the default stays
            try:
                _put(document, setting.path, self.read_cell(setting.kind, value))
            except CellProblem as problem:
                self.problem(self.cells[path], problem.message, path)
        # A problem of a half-day as a whole (the morning ends after the afternoon starts) is at its end time.
        for whole, part in (("half_days", "half_days.am.end"), ("half_days.am", "half_days.am.start"), ("half_days.pm", "half_days.pm.start")):
            if part in self.cells:
                self.cells[whole] = self.cells[part]
    def unavailability(self, worksheet: Any, title: str, experts: list[dict[str, Any]]) -> None:
        """Rows of absences, each appended to its expert's `unavailable` list (From and To: a range; From alone: a date)."""
        position = {item["id"]: index for index, item in enumerate(experts) if isinstance(item.get("id"), str)}
        for row in self.rows(worksheet, layout.UNAVAILABILITY, title) or ():
            raw: dict[str, Any] = {}
            row_path = f"unavailability[{row.number}]"
            self.fill(row, row_path, raw)
            if f"{row_path}.expert" in self.reported or not self.require(row, row_path, raw, ("expert",)) or raw["expert"] not in position:
                continue  # an expert the experts sheet could not read is told there
            index = position[raw["expert"]]
            periods = experts[index].setdefault("unavailable", [])
            path = f"experts[{index}].unavailable[{len(periods)}]"
            self.place(path, CellRef(row.title, row.number))
            ranged = "to" in raw or f"{row_path}.to" in self.reported
            shape = {"from": "from", "to": "to"} if ranged else {"from": "date"}
            period = {shape.get(key, key): value for key, value in raw.items() if key != "expert"}
            for key in ("from", "to", "half_day", "reason"):
                source, target = f"{row_path}.{key}", f"{path}.{shape.get(key, key)}"
                if source in self.cells:
                    self.cells[target] = self.cells[source]
                if source in self.reported:
                    self.reported.add(target)
                    self.quiet.add(path)  # the row's shape follows from a cell already told
            if not ranged and "from" not in raw and f"{row_path}.from" not in self.reported:
                self.require(row, row_path, raw, ("from",))
                self.quiet.add(path)
            periods.append(period)

    def calendar(self, worksheet: Any, title: str, document: dict[str, Any]) -> None:
        """Rows of dates, each closed or an extra workday."""
        for prefix in ("calendar", "calendar.closed", "calendar.extra_workdays"):
            self.place(prefix, CellRef(title))
        calendar = document["calendar"]
        for row in self.rows(worksheet, layout.CALENDAR, title) or ():
            raw: dict[str, Any] = {}
            row_path = f"calendar.rows[{row.number}]"
            self.fill(row, row_path, raw)
            if not self.require(row, row_path, raw, ("date", "kind")):
                continue
            key = "closed" if raw["kind"] == "closed" else "extra_workdays"
            days = calendar.setdefault(key, [])
            self.cells[f"calendar.{key}[{len(days)}]"] = self.cells[f"{row_path}.date"]
            days.append(raw["date"])


def _required(spec: Sheet, column: Column) -> bool:
    model = _MODELS.get(spec.key)
    from_schema = model is not None and column.key in model.model_fields and model.model_fields[column.key].is_required()
    return column.required or from_schema


def _put(document: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        document = document.setdefault(key, {})
    document[path[-1]] = value


def _defaults() -> dict[str, Any]:
    return {
        "format": FORMAT,
        "community": {"timezone": SERVICE_TIMEZONE},  # an empty time zone in the settings sheet
        "calendar": {"holidays": "CN"},
        "half_days": HalfDays().model_dump(mode="json"),
        "rules": Rules().model_dump(mode="json"),
    }


def _open(data: bytes, lang: str) -> Any:
    if len(data) > MAX_WORKBOOK_BYTES:
        raise WorkbookError([problem_at(None, _say(lang, "文件太大（{size:.1f} MB），最多 {limit:.0f} MB", "the file is too large ({size:.1f} MB; at most {limit:.0f} MB)",
                                                   size=len(data) / 1e6, limit=MAX_WORKBOOK_BYTES / 1e6), lang)])
    not_a_workbook = _say(lang, "不是 .xlsx 工作簿（请在 Excel 或 WPS 中另存为 .xlsx）", "not an .xlsx workbook (save it as .xlsx in Excel, WPS or LibreOffice)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise WorkbookError([problem_at(None, not_a_workbook, lang)]) from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise WorkbookError([problem_at(None, _say(lang, "工作簿解压后太大（{size:.0f} MB）", "the workbook unpacks to too much ({size:.0f} MB)", size=unpacked / 1e6), lang)])
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl reports a broken package with many kinds of exception (KeyError, ValueError, XML errors...)
        raise WorkbookError([problem_at(None, not_a_workbook, lang)]) from None


def read_workbook(data: bytes, lang: str = i18n.DEFAULT_LANG) -> Scenario:
    """The scenario a filled workbook holds; WorkbookError listing every problem (sheet, row, column) otherwise."""
    lang = i18n.parse_lang(lang)
    book = _open(data, lang)
    try:
        return _read(book, lang)
    finally:
        book.close()


def _read(book: Any, lang: str) -> Scenario:
    reader = _Reader(lang)
    sheets: dict[str, tuple[Any, str]] = {}
    by_name = layout.sheet_by_name()
    for worksheet in book.worksheets:
        spec = by_name.get(worksheet.title.strip().lower())
        if spec is None:
            if any(not blank(value) for row in reader.grid(worksheet, worksheet.title) or () for value in row):
                known = "、".join(s.zh for s in layout.SHEETS) if lang == "zh-CN" else ", ".join(s.en for s in layout.SHEETS)
                reader.problem(CellRef(worksheet.title), _say(lang, "未知工作表（可用：{known}）", "unknown sheet (use: {known})", known=known))
            continue
        if spec.key in sheets:
            reader.problem(CellRef(worksheet.title), _say(lang, "与工作表{other}重复", "the same sheet as {other}", other=_quoted(sheets[spec.key][1], lang)))
            continue
        sheets[spec.key] = (worksheet, worksheet.title)
    for spec in layout.SHEETS:
        if spec.required and spec.key not in sheets:
            reader.problem(None, _say(lang, "缺少工作表{name}", "missing sheet {name}", name=_quoted(spec.name(lang), lang)))
            reader.reported.update(("community", "calendar", "half_days", "rules") if spec is layout.SETTINGS else (spec.key,))

    document = _defaults()
    if "settings" in sheets:
        reader.settings(*sheets["settings"], document)
    for spec in layout.LIST_SHEETS:
        if spec.key in sheets:
            worksheet, title = sheets[spec.key]
            document[spec.key] = reader.list_sheet(worksheet, spec, title)
        elif spec.key in layout.ID_COLUMN:
            reader.names[spec.key] = None
        if spec is layout.EXPERTS and "unavailability" in sheets:
            reader.unavailability(*sheets["unavailability"], document.get("experts", []))
    if "calendar" in sheets:
        reader.calendar(*sheets["calendar"], document)
    return _validated(reader, document)


def _validated(reader: _Reader, document: dict[str, Any]) -> Scenario:
    if reader.unreadable:
        raise WorkbookError(_capped(reader))
    scenario, problems = document_problems(document, source="the workbook")
    broken_ids = _broken_ids(problems, document)
    for problem in problems:
        if reader.covered(problem.path) or problem.path in reader.quiet or _missing_column(reader, problem.path):
            continue
        if reader.references.get(problem.path) in broken_ids:
            continue  # a reference to an item whose id is wrong: told once, at the id
        where = reader.locate(problem.path)
        if isinstance(problem, CodedFieldError):
            message = reader.in_words(problem).message_in(reader.lang, lambda path, within=problem.path: reader.address(path, within))
        else:
            message = problem.message  # not one of the validator's coded problems: never expected from a workbook's document
        reader.problems.append(problem_at(where, message, reader.lang))
    if reader.problems:
        raise WorkbookError(_capped(reader))
    assert scenario is not None
    return scenario


def _capped(reader: _Reader) -> list[WorkbookProblem]:
    """Every problem in sheet order, at most MAX_PROBLEMS of them and then a line counting the rest."""
    ordered = _in_sheet_order(reader.problems)
    if len(ordered) <= MAX_PROBLEMS:
        return ordered
    rest = len(ordered) - MAX_PROBLEMS
    return ordered[:MAX_PROBLEMS] + [problem_at(None, _say(reader.lang, "另有 {n:,} 个问题未列出", "{n:,} more problems not listed", n=rest), reader.lang)]


def _broken_ids(problems: list[Any], document: dict[str, Any]) -> set[tuple[str, str]]:
    """(list, id) of the items whose own id the validator refused."""
    broken = set()
    for problem in problems:
        found = re.match(r"^(\w+)\[(\d+)\]\.(\w+)$", problem.path)
        if found and layout.ID_COLUMN.get(found[1]) == found[3]:
            items = document.get(found[1], [])
            index = int(found[2])
            if index < len(items) and isinstance(items[index].get(found[3]), str):
                broken.add((found[1], items[index][found[3]]))
    return broken


def _missing_column(reader: _Reader, path: str) -> bool:
    found = re.match(r"^(\w+)\[\d+\]\.(\w+)$", path)
    return bool(found) and (found[1], found[2]) in reader.missing


def _in_sheet_order(problems: list[WorkbookProblem]) -> list[WorkbookProblem]:
    order = {name: position for position, spec in enumerate(layout.SHEETS) for name in (spec.zh, spec.en)}

    def key(problem: WorkbookProblem) -> tuple[int, str, int, int]:
        where = problem.where
        if where is None:
            return (-1, "", 0, 0)
        return (order.get(where.sheet, len(order)), where.sheet, where.row or 0, where.column or 0)

    return sorted(problems, key=key)
