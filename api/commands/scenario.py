"""rota commands for scenario files: `validate` (with a one-screen summary), `import` into the store, `export` from it."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from api.commands.base import EXIT_BAD_INPUT, InputError, app, choose_community, err, fail_on_bad_input, open_store, shown_url
from config.settings import get_settings
from scheduler.calendar import month_calendar_for
from scheduler.errors import ScenarioError
from scheduler.scenario import Scenario, dump_scenario, load_scenario
from scheduler.scenario.bounded import parse_scenario_bounded
from scheduler.scenario.load import read_bounded_file, read_scenario_file
from scheduler.scenario.schema import TITLES, WEEKDAYS
from scheduler.i18n import with_article

out = Console(highlight=False)

TITLE_LABELS = {"chief": "chief 主任医师", "associate_chief": "associate chief 副主任医师", "attending": "attending 主治医师"}


@dataclass(frozen=True)
class SpecialtyLoad:
    """Demand for one specialty against the sessions its experts could give in a month."""

    code: str
    name: str
    demand: int
    experts: int
    capacity: int


def implied_months(scenario: Scenario) -> list[str]:
    """The months (YYYY-MM) that the file's dates fall in: calendar edits and unavailability."""
    days: set[dt.date] = set(scenario.calendar.closed) | set(scenario.calendar.extra_workdays)
    for expert in scenario.experts:
        for period in expert.unavailable:
            days.update({period.first_day, period.last_day})
    return sorted({day.strftime("%Y-%m") for day in days})


def specialty_loads(scenario: Scenario) -> list[SpecialtyLoad]:
    """Demand vs capacity per specialty; an expert with several specialties counts toward each."""
    demand: Counter[str] = Counter()
    for row in scenario.demand:
        demand[row.specialty] += row.sessions
    loads = []
    for specialty in scenario.specialties:
        holders = [e for e in scenario.experts if specialty.code in e.specialties]
        loads.append(SpecialtyLoad(specialty.code, specialty.name, demand[specialty.code], len(holders), sum(e.max_sessions for e in holders)))
    return loads


def scenario_warnings(scenario: Scenario) -> list[str]:
    """What is valid but likely wrong: demand no one can serve, ward rounds without a ward, idle link members, ..."""
    warnings: list[str] = []
    experts_by_id = {e.id: e for e in scenario.experts}
    townships = {t.id: t for t in scenario.townships}
    rank = {title: position for position, title in enumerate(TITLES)}
    minimum = scenario.rules.teaching_min_title

    for load in specialty_loads(scenario):
        if load.demand and load.experts == 0:
            warnings.append(f"specialty '{load.code}': {load.demand} sessions demanded but no expert holds it")
        elif load.demand > load.capacity:
            warnings.append(
                f"specialty '{load.code}': {load.demand} sessions demanded but its {load.experts} expert(s) can give at most {load.capacity}"
            )
    unteachable: dict[str, list[str]] = defaultdict(list)
    for index, row in enumerate(scenario.demand):
        township = townships[row.township]
        if row.type == "ward_round" and not township.inpatient_ward:
            warnings.append(f"demand[{index}]: ward_round at '{row.township}', which has no inpatient_ward (cannot be served)")
        if row.type == "teaching":
            seniors = [e for e in scenario.experts if row.specialty in e.specialties and rank[e.title] >= rank[minimum] and e.max_sessions > 0]
            if not seniors:
                unteachable[row.specialty].append(f"demand[{index}]")
    for specialty, rows in unteachable.items():
        warnings.append(f"{', '.join(rows)}: teaching '{specialty}' needs an expert of title {minimum} or above, and none holds it")
    visits = scenario.rules.link_visits_per_month
    linked: dict[str, int] = defaultdict(int)
    for link in scenario.links:
        linked[link.member] += len(link.townships)
    for index, link in enumerate(scenario.links):
        member = experts_by_id[link.member]
        if member.max_sessions == 0 and visits > 0:
            warnings.append(f"links[{index}]: member {member.id} ({member.name}) has max_sessions 0, so cannot make any link visit")
    for member_id, count in linked.items():
        member = experts_by_id[member_id]
        if 0 < member.max_sessions < count * visits:
            warnings.append(f"expert {member_id}: {count * visits} link visits a month but max_sessions is {member.max_sessions}")
    link_members = set(linked)
    for expert in scenario.experts:
        if not expert.specialties and expert.id not in link_members and expert.max_sessions > 0:
            warnings.append(f"expert {expert.id}: holds no specialty and is no link member, so is never rostered")
    team = scenario.rules.link_team_min
    if scenario.links and visits and team > sum(1 for e in scenario.experts if e.specialties and e.max_sessions > 0):
        warnings.append(f"rules.link_team_min is {team} but fewer experts than that can serve at all")
    for day in scenario.calendar.extra_workdays:
        if day.weekday() < 5 and scenario.calendar.holidays == "none":
            warnings.append(f"calendar.extra_workdays: {day.isoformat()} is {with_article(WEEKDAYS[day.weekday()])}, already a working day")
    return warnings


def _print_summary(scenario: Scenario, source: str) -> None:
    calendar = scenario.calendar
    # Names come from the file: escape them, or a '[' in a name would be read as rich markup.
    out.print(f"[bold green]ok[/] {escape(source)}: [bold]{escape(scenario.community.name)}[/] ({escape(scenario.community.timezone)})")
    edits = []
    if calendar.closed:
        edits.append(f"closed {', '.join(d.isoformat() for d in calendar.closed)}")
    if calendar.extra_workdays:
        edits.append(f"extra workdays {', '.join(d.isoformat() for d in calendar.extra_workdays)}")
    out.print(f"calendar: holidays {calendar.holidays}" + (f"; {'; '.join(edits)}" if edits else ""), markup=False)
    months = implied_months(scenario)
    calendar_warnings: list[str] = []
    if months:
        described = []
        for month in months:
            month_calendar = month_calendar_for(calendar, month)
            described.append(f"{month} ({len(month_calendar.working_days)} working days)")
            calendar_warnings.extend(w for w in month_calendar.warnings if w not in calendar_warnings)
        out.print(f"month(s) implied by the file's dates: {', '.join(described)}")
    else:
        out.print("month(s) implied by the file's dates: none (the file names no dates)")
    wards = sum(1 for t in scenario.townships if t.inpatient_ward)
    out.print(f"townships: {len(scenario.townships)} ({sum(t.rooms for t in scenario.townships)} rooms, {wards} with an inpatient ward)")
    titles = Counter(e.title for e in scenario.experts)
    by_title = ", ".join(f"{titles[t]} {TITLE_LABELS[t]}" for t in reversed(TITLES) if titles[t])
    idle = sum(1 for e in scenario.experts if e.max_sessions == 0)
    out.print(f"experts: {len(scenario.experts)} ({by_title})" + (f"; {idle} not rostered (max_sessions 0)" if idle else ""))
    pairs = sum(len(link.townships) for link in scenario.links)
    linked_townships = {code for link in scenario.links for code in link.townships}
    out.print(
        f"links: {len(scenario.links)} member(s), {pairs} visit link(s) covering {len(linked_townships)} of {len(scenario.townships)} townships"
    )
    table = Table(title="demand vs capacity (sessions a month)", title_justify="left", pad_edge=False, box=None)
    table.add_column("specialty")
    table.add_column("demand", justify="right")
    table.add_column("experts", justify="right")
    table.add_column("capacity", justify="right")
    for load in specialty_loads(scenario):
        if not load.demand and not load.experts:
            continue
        style = "red" if load.demand > load.capacity else None
        table.add_row(escape(f"{load.code} {load.name}"), str(load.demand), str(load.experts), str(load.capacity), style=style)
    out.print(table)
    warnings = calendar_warnings + scenario_warnings(scenario)
    for warning in warnings:
        out.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)  # one warning per line, grep-able
    if not warnings:
        out.print("no warnings")


def _load(file: str) -> Scenario:
    try:
        return load_scenario(file)
    except ScenarioError as exc:
        fail_on_bad_input(exc)
        raise  # unreachable: fail_on_bad_input always exits


def _load_bounded(file: str) -> Scenario:
    # An untrusted file: read in a child process with the size and time limits of the settings.
    try:
        return parse_scenario_bounded(read_scenario_file(file), source=Path(file).name)
    except ScenarioError as exc:
        fail_on_bad_input(exc)
        raise  # unreachable: fail_on_bad_input always exits


def _load_workbook(file: str, lang: str) -> Scenario:
    # A filled workbook (the office's Excel): read in a child process too; problems by sheet, row and column.
    from scheduler import i18n
    from scheduler.workbook import reader, workbook_to_scenario_bounded

    try:
        language = i18n.parse_lang(lang or get_settings().language)
        return workbook_to_scenario_bounded(read_bounded_file(file, reader.MAX_WORKBOOK_BYTES), language)
    except ValueError as exc:  # an unknown --lang
        fail_on_bad_input(InputError(f"--lang: {exc}"))
        raise
    except ScenarioError as exc:
        fail_on_bad_input(exc)
        raise  # unreachable: fail_on_bad_input always exits


@app.command()
def validate(
    file: str = typer.Argument(..., help="Scenario file (YAML or JSON, rota.scenario/1) or a filled workbook (.xlsx)."),
    lang: str = typer.Option("", "--lang", help="Language of a workbook's problems: zh-CN or en (default ROTA_LANGUAGE)."),
) -> None:
    """Check a scenario file or workbook: every problem as `path: message` (exit 2), or a one-screen summary."""
    scenario = _load_workbook(file, lang) if file.lower().endswith(".xlsx") else _load_bounded(file)
    _print_summary(scenario, Path(file).name)


SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")


def _scenario_files(folder: Path) -> list[Path]:
    files = sorted(path for path in folder.iterdir() if path.is_file() and path.suffix.lower() in SCENARIO_SUFFIXES)
    if not files:
        raise InputError(f"{folder}: no scenario files ({', '.join('*' + s for s in SCENARIO_SUFFIXES)}) in the folder")
    return files


def _read_workbook(path: Path) -> Scenario:
    # A filled workbook: read in a child process with the size and time limits; WorkbookError names each bad cell.
    from scheduler import i18n
    from scheduler.workbook import reader, workbook_to_scenario_bounded

    return workbook_to_scenario_bounded(read_bounded_file(str(path), reader.MAX_WORKBOOK_BYTES), i18n.parse_lang(get_settings().language))


def _import_one(factory, url: str, path: Path, code: str) -> str:
    """Import one file as community `code` in a transaction of its own; the line to print (ScenarioError / InputError on failure)."""
    from sqlalchemy.exc import SQLAlchemyError

    from scheduler.actors import CLI, acting_as
    from scheduler.db import transaction
    from scheduler.standing import import_community

    scenario = _read_workbook(path) if path.suffix.lower() == ".xlsx" else load_scenario(path)
    try:
        with transaction(factory) as session, acting_as(CLI):  # its events and audit entries name the command line
            # Over an existing community every change is an event: the service's worker re-checks its published months.
            import_community(session, code, scenario)
    except (SQLAlchemyError, OverflowError) as exc:
        raise InputError(f"the database {shown_url(url)} refused the scenario: {str(exc).splitlines()[0]}") from None
    return (
        f"imported {code} ({scenario.community.name}) from {path.name} into {shown_url(url)}: "
        f"{len(scenario.townships)} townships, {len(scenario.experts)} experts, {len(scenario.links)} links, {len(scenario.demand)} demand rows"
    )


@app.command("import")
def import_file(
    path: str = typer.Argument(..., help="A scenario file, or a folder of them (*.yaml, *.yml, *.json): each is one community."),
    community: str = typer.Option("", "--community", help="The community's code (default: the file's name without its extension, quannan.yaml -> quannan)."),
) -> None:
    """Add or update communities in the database (ROTA_DATABASE_URL): one per file, each file all or nothing; one line per community."""
    from scheduler.store import check_community_code

    source = Path(path)
    if source.is_dir():
        if community:
            fail_on_bad_input(InputError("--community names one community: give a file, not a folder (a folder's files are named by their codes)"))
        try:
            files = _scenario_files(source)
        except InputError as exc:
            fail_on_bad_input(exc)
            return
    else:
        files = [source]
    url = get_settings().database_url
    factory = open_store(url)
    failed = False
    seen: dict[str, Path] = {}
    for file in files:
        code = community or file.stem
        try:
            check_community_code(code, field="--community" if community else "community code (the file's name)")
            if code in seen:
                raise InputError(f"community code '{code}' is also {seen[code].name}'s; rename one of the files")
            seen[code] = file
            out.print(_import_one(factory, url, file, code), markup=False, soft_wrap=True)
        except (ScenarioError, InputError) as exc:
            failed = True
            problems = exc.problems if isinstance(exc, ScenarioError) else [str(exc)]
            prefix = f"{file.name}: " if source.is_dir() else ""  # which file of the folder each problem is in
            for problem in problems:
                err.print(f"error: {prefix}{problem}", markup=False, soft_wrap=True)
    if failed:
        raise typer.Exit(EXIT_BAD_INPUT)


def _write_bytes(target: Path, data: bytes) -> None:
    try:
        target.write_bytes(data)
    except OSError as exc:
        fail_on_bad_input(InputError(f"cannot write {target}: {exc.strerror or exc}"))


@app.command("export")
def export_file(
    out_file: str = typer.Option("", "--out", help="Write here (.json = JSON, .xlsx = the office workbook, else YAML); default: standard output."),
    community: str = typer.Option("", "--community", help="The community's code (needed when the database holds several)."),
) -> None:
    """Write a community's stored standing data as a rota.scenario/1 file (reads back equal to what was imported)."""
    from sqlalchemy.exc import SQLAlchemyError

    from scheduler.store import export_scenario

    url = get_settings().database_url
    factory = open_store(url)
    try:
        with factory() as session:
            scenario = export_scenario(session, choose_community(session, community).id)
    except InputError as exc:
        fail_on_bad_input(exc)
        return
    except SQLAlchemyError as exc:
        fail_on_bad_input(InputError(f"cannot read the database {shown_url(url)}: {str(exc).splitlines()[0]}"))
        return
    if out_file.lower().endswith(".xlsx"):  # the office's workbook (same sheets as `rota template`)
        from scheduler.workbook import document_to_workbook

        _write_bytes(Path(out_file), document_to_workbook(scenario, get_settings().language))
        out.print(f"wrote {scenario.community.name} to {out_file}", markup=False)
        return
    text = dump_scenario(scenario, as_json=out_file.lower().endswith(".json"))
    if not out_file:
        typer.echo(text, nl=False)
        return
    target = Path(out_file)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail_on_bad_input(InputError(f"cannot write {target}: {exc.strerror or exc}"))
    out.print(f"wrote {scenario.community.name} to {target}", markup=False)
