"""The wrapper route's TracerProvider: built once from the environment, the user's sampler
(``OTEL_TRACES_SAMPLER``) inside ours. Runs in a fresh interpreter: the global provider is set
once per process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap


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
