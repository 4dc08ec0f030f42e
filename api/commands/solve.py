"""rota commands: solve (see api/cli.py)."""

from api.cli import app  # noqa: F401
