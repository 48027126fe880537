"""The wrapper route's TracerProvider: built once from the environment, the user's sampler
(``OTEL_TRACES_SAMPLER``) inside ours. Runs in a fresh interpreter: the global provider is set
once per process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest


def test_one_provider_is_built_and_it_samples_as_the_environment_says() -> None:
    code = """
        from opentelemetry.sdk import trace as sdk_trace
        built = []
        init = sdk_trace.TracerProvider.__init__
        def counting(self, *a, **k):
            built.append(1)
            init(self, *a, **k)
        sdk_trace.TracerProvider.__init__ = counting
        from otel_lambda_init._core.environment import read_environment
        from otel_lambda_init._sdk.provider import configure_tracer_provider
        provider = configure_tracer_provider(read_environment(), lazy_export=True).provider
        sampler = provider.sampler
        print(len(built), type(sampler).__name__, type(sampler.delegate).__name__,
              sampler.delegate.rate)
        tracer = provider.get_tracer("t")
        print("tracer sampler is ours", tracer.sampler is sampler)
    """
    env = {
        **os.environ,
        "OTEL_TRACES_SAMPLER": "traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": "0.25",
        "OTEL_TRACES_EXPORTER": "none",
    }
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "1 InitSpanSampler TraceIdRatioBased 0.25" in done.stdout, done.stdout + done.stderr
    assert "tracer sampler is ours True" in done.stdout


@pytest.mark.parametrize(
    ("env", "attributes"),
    [
        ({}, {}),
        ({}, {"faas.name": "fn", "cloud.provider": "aws", "service.name": "fn"}),
        ({"OTEL_SERVICE_NAME": "svc"}, {"faas.name": "fn"}),
        ({"OTEL_RESOURCE_ATTRIBUTES": "service.name=a%20b, team=x,bad"}, {"faas.name": "fn"}),
        ({"OTEL_RESOURCE_ATTRIBUTES": "service.instance.id=mine"}, {}),
        ({}, {"service.instance.id": "given"}),
        ({"OTEL_EXPERIMENTAL_RESOURCE_DETECTORS": "otel"}, {"faas.name": "fn"}),
        ({"OTEL_EXPERIMENTAL_RESOURCE_DETECTORS": " , "}, {}),
    ],
)
def test_the_resource_is_the_one_resource_create_builds(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], attributes: dict[str, str]
) -> None:
    from opentelemetry.sdk.resources import Resource

    from otel_lambda_init._sdk.provider import create_resource

    for name in (
        "OTEL_SERVICE_NAME",
        "OTEL_RESOURCE_ATTRIBUTES",
        "OTEL_EXPERIMENTAL_RESOURCE_DETECTORS",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    ours = create_resource(dict(attributes))
    sdk = Resource.create(dict(attributes))
    assert ours.attributes == sdk.attributes and ours.schema_url == sdk.schema_url


def test_the_resource_is_built_without_a_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from otel_lambda_init._sdk.provider import create_resource

    monkeypatch.delenv("OTEL_EXPERIMENTAL_RESOURCE_DETECTORS", raising=False)
    started: list[object] = []
    start = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", lambda self: started.append(self) or start(self))
    assert create_resource({"faas.name": "fn"}).attributes["faas.name"] == "fn"
    assert started == []
