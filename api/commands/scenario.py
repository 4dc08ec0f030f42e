"""rota commands: scenario (see api/cli.py)."""

from api.cli import app  # noqa: F401
