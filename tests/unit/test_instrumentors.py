"""OTEL_LAMBDA_INIT_INSTRUMENTORS: named instrumentors found without an entry-point scan, each
loaded when its library is imported, failures contained. Each case runs in a fresh
interpreter: which modules are imported is the point."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from otel_lambda_init._core.config import load_config
from otel_lambda_init.auto.instrumentors import (
    GROUP,
    Instrumentor,
    instrumented_libraries,
    requirements,
)

pytest.importorskip("opentelemetry.instrumentation.botocore")
pytest.importorskip("opentelemetry.instrumentation.requests")


def run_fresh(code: str, **env: str) -> str:
    import os

    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_named_instrumentors_are_found_without_an_entry_point_scan() -> None:
    out = run_fresh(
        """
        import importlib.metadata as md
        def scan(*a, **k):
            raise AssertionError("entry-point scan")
        md.entry_points = scan
        from otel_lambda_init.auto.instrumentors import find_entry_points
        found = find_entry_points(("botocore", "requests", "urllib3", "aws-lambda"), {})
        print(sorted((ep.name, ep.value) for ep in found))
        """
    )
    assert "('botocore', 'opentelemetry.instrumentation.botocore:BotocoreInstrumentor')" in out
    assert "'requests'" in out and "'urllib3'" in out
    assert "aws-lambda" not in out  # the wrapper makes the invocation span itself


def test_an_instrumentor_is_loaded_when_its_library_is_imported_and_not_before() -> None:
    out = run_fresh(
        """
        import sys
        from otel_lambda_init.auto.instrumentors import install
        install(("botocore", "requests"))
        print("before", [m for m in sys.modules if m.startswith("opentelemetry.instrumentation.")])
        import botocore.session
        from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
        print("botocore instrumented", BotocoreInstrumentor().is_instrumented_by_opentelemetry)
        print("requests instrumentor", "opentelemetry.instrumentation.requests" in sys.modules)
        """
    )
    assert "before []" in out
    assert "botocore instrumented True" in out
    # botocore does not import requests: its instrumentor stays unloaded
    assert "requests instrumentor False" in out


def test_a_library_imported_before_the_wrapper_is_instrumented_at_once() -> None:
    out = run_fresh(
        """
        import requests
        from otel_lambda_init.auto.instrumentors import install
        install(("requests",))
        from opentelemetry.instrumentation.requests import RequestsInstrumentor
        print("instrumented", RequestsInstrumentor().is_instrumented_by_opentelemetry)
        """
    )
    assert "instrumented True" in out


def test_all_loads_every_installed_instrumentor_but_the_disabled_and_the_invocation_ones() -> None:
    out = run_fresh(
        """
        from otel_lambda_init.auto.instrumentors import find_entry_points
        import os
        print(sorted(ep.name for ep in find_entry_points(("all",), os.environ)))
        """,
        OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="urllib3",
    )
    assert "'botocore'" in out and "'requests'" in out
    assert "urllib3" not in out and "aws-lambda" not in out and "otel_lambda_init" not in out


def test_a_name_nothing_installs_is_said_once_and_nothing_else_happens() -> None:
    out = run_fresh(
        """
        from otel_lambda_init.auto.instrumentors import install
        print("loaded", [i.name for i in install(("no-such-thing", "no-such-thing"))])
        """
    )
    assert "loaded []" in out
    assert out.count("OTEL_LAMBDA_INIT_INSTRUMENTORS names 'no-such-thing'") == 1


def test_an_instrumentor_that_fails_to_load_is_said_once_and_raises_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = EntryPoint(name="broken", value="no_such_module_xyz:Instrumentor", group=GROUP)
    instrumentor = Instrumentor(broken)
    with caplog.at_level(logging.WARNING):
        instrumentor.load()
        instrumentor.load()
    said = [r for r in caplog.records if "'broken' instrumentor" in r.getMessage()]
    assert len(said) == 1


def _instrumentors_check_themselves() -> bool:
    try:
        from opentelemetry.instrumentation.dependencies import DependencyConflictError  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(
    not _instrumentors_check_themselves(),
    reason="before opentelemetry-instrumentation 0.53b0 the distribution's check runs, and this "
    "entry point has no distribution",
)
def test_a_version_the_instrumentor_refuses_is_said_once_and_left_uninstrumented(
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "refusing_instrumentor.py").write_text(
        textwrap.dedent(
            """
            from opentelemetry.instrumentation.instrumentor import BaseInstrumentor
            CALLS = []
            class Refusing(BaseInstrumentor):
                def instrumentation_dependencies(self):
                    return ("requests < 0.1",)
                def _instrument(self, **kwargs):
                    CALLS.append(kwargs)
                def _uninstrument(self, **kwargs):
                    pass
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    ep = EntryPoint(name="refusing", value="refusing_instrumentor:Refusing", group=GROUP)
    with caplog.at_level(logging.DEBUG):
        Instrumentor(ep).load()
        Instrumentor(ep).load()
    said = [r.getMessage() for r in caplog.records if "requests < 0.1" in r.getMessage()]
    assert len(said) == 1 and "requests 2." in said[0], said
    assert sys.modules["refusing_instrumentor"].CALLS == []


def test_the_requirements_read_from_the_header_are_the_distributions() -> None:
    from importlib.metadata import distribution

    for name in ("botocore", "requests", "urllib3"):
        dist = distribution(f"opentelemetry-instrumentation-{name}")
        assert requirements(dist) == list(dist.requires or ())


def test_the_libraries_an_instrumentor_declares_are_read_from_its_extras() -> None:
    from importlib.metadata import distribution

    dist = distribution("opentelemetry-instrumentation-botocore")
    assert "botocore" in instrumented_libraries(dist)
    assert instrumented_libraries(None) == []


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("", ()),
        ("none", ()),
        ("all", ("all",)),
        (" botocore , requests ", ("botocore", "requests")),
        ("all,botocore", ()),  # said once, the default used
    ],
)
def test_the_variable_reads_none_all_or_names(value: str, names: tuple[str, ...]) -> None:
    assert load_config({"OTEL_LAMBDA_INIT_INSTRUMENTORS": value}).instrumentors == names
