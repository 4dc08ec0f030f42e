"""rota commands of the service: `serve` (uvicorn) and `token create` / `token revoke` (bearer tokens)."""

from __future__ import annotations

import typer
from rich.console import Console

from api.cli import InputError, app, fail_on_bad_input
from config.settings import get_settings
from scheduler.errors import Conflict, NotFound, ScenarioError

out = Console(highlight=False)
token_app = typer.Typer(no_args_is_help=True, help="Bearer tokens of the API (stored hashed; shown once).")
app.add_typer(token_app, name="token")


@app.command()
def serve(
    host: str = typer.Option(None, "--host", help="Address to listen on (default ROTA_HOST, 127.0.0.1)."),
    port: int = typer.Option(None, "--port", min=0, max=65535, help="Port (default ROTA_PORT, 8000)."),
    demo: bool = typer.Option(False, "--demo", help="Import the sample county and generate this month and the next (in the background)."),
) -> None:
    """Start the service on the configured database (an SQLite file by default: created and migrated on start)."""
    from scheduler import auth
    from scheduler.db import session_factory, transaction
    from scheduler.migrate import migrate
    import uvicorn

    from api.app import create_app

    settings = get_settings()
    if host is not None:
        settings.host = host
    if port is not None:
        settings.port = port
    engine = migrate(settings.database_url)
    if demo:
        factory = session_factory(engine)
        with transaction(factory) as session:
            if not any(not row.revoked_at and row.role == "office" and row.label == "demo" for row in auth.list_api_tokens(session)):
                _, token = auth.create_api_token(session, "office", label="demo")
                out.print(f"demo office token (shown once): {token}", markup=False, soft_wrap=True)
    engine.dispose()
    out.print(f"township-rota on http://{settings.host}:{settings.port}  (API docs: /docs)", markup=False)
    from config.logging import configure_logging

    configure_logging()
    # log_config=None: uvicorn's own loggers go through the same JSON handler
    uvicorn.run(create_app(settings, demo=demo), host=settings.host, port=settings.port, log_level="info", log_config=None)


@token_app.command("create")
def token_create(
    role: str = typer.Option(..., "--role", help="office | township | expert"),
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
            token_id, token = auth.create_api_token(session, role, township=township, expert=expert, label=label)
    except (ScenarioError, NotFound, Conflict) as error:
        fail_on_bad_input(error if isinstance(error, ScenarioError) else InputError(str(error)))
        return
    typer.echo(token)
    Console(stderr=True, highlight=False).print(f"token {token_id} ({role}) created; it is not shown again", markup=False)


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
