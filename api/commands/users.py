"""rota commands for the office's users: `user create` (name and password, argon2-hashed), `user list`, `user disable`, `user enable`."""

from __future__ import annotations

import sys

import typer

from api.commands.base import InputError, app, choose_community, fail_on_bad_input, open_store
from config.settings import get_settings
from scheduler.errors import Conflict, NotFound, ScenarioError

user_app = typer.Typer(no_args_is_help=True, help="Office users who log in to the pages with a name and a password.")
app.add_typer(user_app, name="user")

COMMUNITY_HELP = "The community's code (default: the database's only community)."


def _read_password(from_stdin: bool) -> str:
    """The new password: the first line of standard input with --password-stdin, else asked twice at the terminal (never echoed)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InputError("no terminal to ask for the password on: send it with --password-stdin")
    first = typer.prompt("Password", hide_input=True)
    if typer.prompt("Password again", hide_input=True) != first:
        raise InputError("the two passwords differ")
    return first


def _in_transaction(work) -> object:
    from scheduler.actors import CLI, acting_as
    from scheduler.db import transaction

    factory = open_store(get_settings().database_url)
    try:
        with transaction(factory) as session, acting_as(CLI):  # its audit entries name the command line
            return work(session)
    except (ScenarioError, InputError) as error:
        fail_on_bad_input(error)
    except (NotFound, Conflict) as error:
        fail_on_bad_input(InputError(str(error)))
    return None


@user_app.command("create")
def user_create(
    name: str = typer.Option(..., "--name", help="The user's login name (unique in the community)."),
    community: str = typer.Option("", "--community", help=COMMUNITY_HELP),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from the first line of standard input instead of asking."),
) -> None:
    """Add an office user; the password is asked for (or read with --password-stdin) and stored only as an argon2 hash."""
    from scheduler import office_users

    try:
        office_users.checked_name(name)
        password = office_users.checked_password(_read_password(password_stdin))
    except (ScenarioError, InputError) as error:
        fail_on_bad_input(error)
        return

    def create(session):
        owner = choose_community(session, community)
        return owner.code, office_users.create_user(session, owner.id, name, password)

    code, user_id = _in_transaction(create)
    typer.echo(f"user {user_id} '{name.strip()}' of {code} created")


@user_app.command("list")
def user_list(community: str = typer.Option("", "--community", help=COMMUNITY_HELP)) -> None:
    """The community's office users, one a line: id, name, created, and whether disabled."""
    from scheduler import office_users

    users = _in_transaction(lambda session: office_users.list_users(session, choose_community(session, community).id))
    for user in users:
        typer.echo(f"{user.id}\t{user.name}\t{user.created_at}\t{'disabled' if user.disabled else 'active'}")


@user_app.command("disable")
def user_disable(
    name: str = typer.Option(..., "--name", help="The user's login name."),
    community: str = typer.Option("", "--community", help=COMMUNITY_HELP),
) -> None:
    """Disable an office user: no more logins, and their open page sessions end at once."""
    from scheduler import office_users

    _in_transaction(lambda session: office_users.disable_user(session, choose_community(session, community).id, name))
    typer.echo(f"user '{name.strip()}' disabled")


@user_app.command("enable")
def user_enable(
    name: str = typer.Option(..., "--name", help="The user's login name."),
    community: str = typer.Option("", "--community", help=COMMUNITY_HELP),
) -> None:
    """Enable a disabled office user again: they log in with the password they had (an active user: no change)."""
    from scheduler import office_users

    _in_transaction(lambda session: office_users.enable_user(session, choose_community(session, community).id, name))
    typer.echo(f"user '{name.strip()}' enabled")
