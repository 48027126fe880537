"""otel-lambda-init-web: which argument of a server command is the app."""

from __future__ import annotations

import pytest

from otel_lambda_init.web.launch import TARGET, rewrite


@pytest.mark.parametrize(
    ("command", "app"),
    [
        (["uvicorn", "main:app", "--port", "8080"], "main:app"),
        (["python", "-m", "uvicorn", "--host", "0.0.0.0", "pkg.main:api"], "pkg.main:api"),
        (["gunicorn", "-b", "127.0.0.1:8080", "-w", "1", "app:app"], "app:app"),
        (["gunicorn", "-b", "unix:/tmp/s", "wsgi:application"], "wsgi:application"),
        (["gunicorn", "-b", "localhost:8080", "app:app"], "app:app"),
    ],
)
def test_the_app_argument_is_replaced_and_nothing_else(command: list[str], app: str) -> None:
    rewritten, found = rewrite(command)
    assert found == app
    assert rewritten == [TARGET if a == app else a for a in command]


@pytest.mark.parametrize(
    "command",
    [["uvicorn", "--factory", "main:create_app"], ["gunicorn", "-b", "127.0.0.1:8080"]],
)
def test_a_factory_or_no_app_argument_runs_unchanged(command: list[str]) -> None:
    assert rewrite(command) == (command, None)
