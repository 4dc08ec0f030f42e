"""rota commands of the service: `serve` (uvicorn) and `token create` / `token revoke` (bearer tokens)."""

from __future__ import annotations

import os

import typer
from rich.console import Console

from api.commands.base import InputError, app, choose_community, fail_on_bad_input
from config.settings import get_settings
from scheduler.errors import Conflict, FieldError, NotFound, ScenarioError

out = Console(highlight=False)
token_app = typer.Typer(no_args_is_help=True, help="Bearer tokens of the API (stored hashed; shown once).")
app.add_typer(token_app, name="token")


@app.command()
def serve(
    host: str = typer.Option(None, "--host", help="Address to listen on (default ROTA_HOST, 127.0.0.1)."),
    port: int = typer.Option(None, "--port", min=0, max=65535, help="Port (default ROTA_PORT, 8000)."),
    demo: bool = typer.Option(False, "--demo", help="Import the sample county as community 'quannan' and generate this month and the next (in the background)."),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="Server processes (uvicorn's process model; use PostgreSQL for more than one). The scheduler leader is elected among them."),
) -> None:
    """Start the service on the configured database (an SQLite file by default: created and migrated on start)."""
    from scheduler import auth, store
    from scheduler.db import session_factory, transaction
    from scheduler.migrate import migrate
    from scheduler.scenario.load import load_scenario
    import uvicorn

    from api.app import DEMO_COMMUNITY, create_app
    from config.settings import SAMPLE_SCENARIO

    settings = get_settings()
    if host is not None:
        settings.host = host
    if port is not None:
        settings.port = port
    engine = migrate(settings.database_url)
    address = f"http://{settings.host}:{settings.port}"
    if demo:
        factory = session_factory(engine)
        with transaction(factory) as session:
            if DEMO_COMMUNITY not in {row.code for row in store.list_communities(session)}:
                store.import_scenario(session, DEMO_COMMUNITY, load_scenario(SAMPLE_SCENARIO))
            held = auth.list_api_tokens(session, DEMO_COMMUNITY)
            if not any(not row.revoked_at and row.role == "office" and row.label == "demo" for row in held):
                _, token = auth.create_api_token(session, DEMO_COMMUNITY, "office", label="demo")
                out.print(f"demo office token of {DEMO_COMMUNITY} (shown once): {token}", markup=False, soft_wrap=True)
        out.print(f"office page of {DEMO_COMMUNITY}: {address}/c/{DEMO_COMMUNITY}/office  (log in with the token at {address}/login)", markup=False, soft_wrap=True)
    engine.dispose()
    out.print(f"township-rota on {address}  (API docs: /docs)", markup=False)
    from config.logging import configure_logging

    configure_logging()
    if workers > 1:
        if settings.database_url.startswith("sqlite"):
            out.print("note: several processes on one SQLite file serialise their writes; use PostgreSQL (ROTA_DATABASE_URL) for a province", markup=False)
        if demo:
            out.print("note: with --workers the demo months are not generated in the background; generate them on the office page", markup=False)
        # Each process builds its app from the environment (the app factory), so the options go there.
        os.environ["ROTA_HOST"], os.environ["ROTA_PORT"] = settings.host, str(settings.port)
        # A process imports the solver and migrates before it answers: give it longer than uvicorn's 5 s to report alive.
        uvicorn.run("api.app:create_app", factory=True, workers=workers, host=settings.host, port=settings.port, log_level="info", log_config=None, access_log=settings.access_log,
                    timeout_worker_healthcheck=60)
        return
    # log_config=None: uvicorn's own loggers go through the same JSON handler
    uvicorn.run(create_app(settings, demo=demo), host=settings.host, port=settings.port, log_level="info", log_config=None, access_log=settings.access_log)


@token_app.command("create")
def token_create(
    role: str = typer.Option(..., "--role", help="office | township | expert (of one community) | bureau (the health bureau: reads every community)"),
    community: str = typer.Option("", "--community", help="The community's code (default: the database's only community; never for bureau)."),
    township: str = typer.Option(None, "--township", help="The township a township token is bound to."),
    expert: str = typer.Option(None, "--expert", help="The expert an expert token is bound to."),
    label: str = typer.Option("", "--label", help="A note for the token list (who holds it)."),
) -> None:
    """Issue a bearer token and print it once (only its hash is stored)."""
    from scheduler import auth
    from scheduler.db import session_factory, transaction
    from scheduler.migrate import migrate
    try:
        factory = session_factory(migrate(get_settings().database_url))
        with transaction(factory) as session:
            if role not in auth.ROLES:
                raise ScenarioError([FieldError("role", f"must be one of {', '.join(auth.ROLES)} (got {role!r})")])
            if role == auth.BUREAU_ROLE and community:
                raise InputError("a bureau token reads every community and belongs to none: leave --community out")
            owner = None if role == auth.BUREAU_ROLE else choose_community(session, community)
            token_id, token = auth.create_api_token(session, owner.id if owner else None, role, township=township, expert=expert, label=label)
    except (ScenarioError, NotFound, Conflict, InputError) as error:
        fail_on_bad_input(error if isinstance(error, (ScenarioError, InputError)) else InputError(str(error)))
        return
    typer.echo(token)
    where = f" of {owner.code}" if owner else ""
    Console(stderr=True, highlight=False).print(f"token {token_id} ({role}{where}) created; it is not shown again", markup=False)


@token_app.command("revoke")
def token_revoke(token_id: int = typer.Argument(..., help="The token's id (from `rota token create` or GET /tokens).")) -> None:
    """Revoke a bearer token: it answers 401 from now on."""
    from scheduler import auth
    from scheduler.db import session_factory, transaction
    from scheduler.migrate import migrate
    try:
        factory = session_factory(migrate(get_settings().database_url))
        with transaction(factory) as session:
            auth.revoke_api_token(session, token_id)
    except NotFound as error:
        fail_on_bad_input(InputError(str(error)))
    typer.echo(f"token {token_id} revoked")
