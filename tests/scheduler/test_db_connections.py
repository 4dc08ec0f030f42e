"""PostgreSQL connections from `make_engine` carry TCP keepalives both ways and their process's name (scheduler/db.py)."""

from __future__ import annotations

from sqlalchemy import make_url, text

from scheduler.db import KEEPALIVE_COUNT, KEEPALIVE_IDLE_SECONDS, KEEPALIVE_INTERVAL_SECONDS, make_engine, process_tag


def test_postgres_connections_probe_a_silent_peer_within_half_a_minute(postgres_server_url):
    engine = make_engine(postgres_server_url)
    try:
        with engine.connect() as connection:
            # The server's side: without it, the server's own default (7200 s here) decides.
            server_side = {name: connection.execute(text(f"SHOW {name}")).scalar()
                           for name in ("tcp_keepalives_idle", "tcp_keepalives_interval", "tcp_keepalives_count")}
            client_side = connection.connection.dbapi_connection.info.get_parameters()
            name = connection.execute(text("SHOW application_name")).scalar()
    finally:
        engine.dispose()
    assert server_side == {"tcp_keepalives_idle": str(KEEPALIVE_IDLE_SECONDS), "tcp_keepalives_interval": str(KEEPALIVE_INTERVAL_SECONDS),
                           "tcp_keepalives_count": str(KEEPALIVE_COUNT)}
    assert KEEPALIVE_IDLE_SECONDS + KEEPALIVE_INTERVAL_SECONDS * KEEPALIVE_COUNT <= 30
    assert client_side["keepalives"] == "1" and client_side["keepalives_idle"] == str(KEEPALIVE_IDLE_SECONDS)
    assert name == process_tag()


def test_what_the_url_says_wins(postgres_server_url):
    url = make_url(postgres_server_url).update_query_dict({"application_name": "reporting", "keepalives_idle": "60"})
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SHOW application_name")).scalar() == "reporting"
            assert connection.connection.dbapi_connection.info.get_parameters()["keepalives_idle"] == "60"
    finally:
        engine.dispose()
