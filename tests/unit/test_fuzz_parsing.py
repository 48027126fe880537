"""Fuzzing (issue 13): hostile events, contexts and environments never make our parsing raise,
outputs stay bounded, and only identifiers are recorded."""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.trace import SpanKind

from otel_lambda_init._core import config as config_module
from otel_lambda_init._core.config import load_config
from otel_lambda_init._core.environment import read_environment
from otel_lambda_init._core.vocabulary import FLUSH_MODES, TRACE_MODES
from otel_lambda_init._sdk import invocation


def huge(text: str, times: int) -> st.SearchStrategy[str]:
    """A long string, built lazily so failure reports stay short."""
    return st.just(times).map(lambda n: text * n)


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TRIGGERS = {"http", "pubsub", "datasource", "timer", "other"}
ALLOWED_KEYS = {
    "faas.trigger",
    "faas.name",
    "faas.invocation_id",
    "aws.lambda.invoked_arn",
    "cloud.resource_id",
    "cloud.account.id",
    "faas.instance",
}


class Hostile:
    """An object whose ``str`` and ``lower`` raise (a header key or value gone wrong)."""

    def __str__(self) -> str:
        raise RuntimeError("str")

    def __repr__(self) -> str:
        return "Hostile()"  # hypothesis prints its examples

    def lower(self) -> str:
        raise RuntimeError("lower")


class HostileMapping(Mapping[Any, Any]):
    """A Mapping whose lookups raise (a lazy event wrapper gone wrong)."""

    def __getitem__(self, key: Any) -> Any:
        raise RuntimeError("getitem")

    def __iter__(self) -> Any:
        raise RuntimeError("iter")

    def __len__(self) -> int:
        return 3


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=300),
    st.binary(max_size=100),
    huge("x", 100_000),
    st.builds(Hostile),
)
keys = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["headers", "Records", "requestContext", "traceparent", "source"]),
    st.integers(),
    st.binary(max_size=10),
    st.builds(Hostile),
)
json_like = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(keys, inner, max_size=6),
        st.builds(HostileMapping),
    ),
    max_leaves=30,
)
header_values = st.one_of(
    st.text(max_size=200),
    st.just("00-" + "a" * 32 + "-" + "b" * 16 + "-01"),
    huge("00-fff", 30_000),
    st.binary(max_size=60),
    st.lists(st.text(max_size=20), max_size=3),
    st.builds(Hostile),
    st.none(),
)
events = st.one_of(
    json_like,
    st.fixed_dictionaries(
        {"headers": st.dictionaries(keys, header_values, max_size=8)},
        optional={
            "Records": st.lists(st.dictionaries(keys, json_like, max_size=3), max_size=3),
            "requestContext": json_like,
        },
    ),
    st.fixed_dictionaries(
        {"headers": st.dictionaries(st.just("traceparent"), header_values, min_size=1)}
    ),
)


@FUZZ
@given(events)
def test_trigger_of_any_event_is_a_known_trigger_and_never_raises(event: Any) -> None:
    trigger, kind = invocation.trigger_of(event)
    assert trigger in TRIGGERS and isinstance(kind, SpanKind)


@FUZZ
@given(events)
def test_parent_context_of_any_event_never_raises(event: Any) -> None:
    ctx = invocation.parent_context_of(event)
    assert ctx is None or isinstance(ctx, Mapping)


arns = st.one_of(
    st.text(max_size=400),
    st.just("arn:aws:lambda:us-east-1:123456789012:function:fn:prod"),
    huge(":", 5000),
    huge("arn:aws:lambda:r:9:function:f:", 2000),
    st.lists(st.text(max_size=30), min_size=7, max_size=9).map(":".join),
    st.binary(max_size=40),
    st.integers(),
    st.none(),
    st.builds(Hostile),
)
contexts = st.one_of(
    st.none(),
    st.builds(Hostile),
    st.builds(
        SimpleNamespace,
        aws_request_id=st.one_of(st.text(max_size=400), huge("r", 100_000), scalars),
        invoked_function_arn=arns,
        client_context=json_like,
        identity=json_like,
    ),
)
identifiers = st.one_of(st.text(max_size=400), huge("n", 100_000))


@FUZZ
@given(contexts, identifiers, st.one_of(st.none(), identifiers))
def test_invocation_attributes_are_bounded_identifiers_only(
    context: Any, function_name: str, log_stream: str | None
) -> None:
    attrs = invocation.invocation_attributes(context, "other", function_name, log_stream)
    assert set(attrs) <= ALLOWED_KEYS
    for value in attrs.values():
        assert isinstance(value, str) and len(value) <= invocation.MAX_ID_LENGTH
    sources = [function_name, log_stream or ""]
    for name in ("aws_request_id", "invoked_function_arn"):
        raw = getattr(context, "__dict__", {}).get(name)
        if isinstance(raw, str):
            sources.append(raw)
    for key, value in attrs.items():
        if key != "faas.trigger":  # identifiers only: every value is cut from one of them
            assert any(value in source for source in sources), (key, value)


ours = st.sampled_from(
    [
        name
        for name in dir(config_module)
        if name.startswith("OTEL_LAMBDA_INIT_") and isinstance(getattr(config_module, name), str)
    ]
    + ["AWS_LAMBDA_RUNTIME_API"]
)
env_values = st.one_of(
    st.text(max_size=50),
    st.sampled_from(["1e303", "-0", "inf", "nan", "1e-400", "0x10", "  TRUE "]),
    huge("9", 5000),
    st.floats().map(repr),
)


@FUZZ
@given(st.dictionaries(ours, env_values, max_size=12))
def test_any_configuration_parses_to_valid_bounded_settings(environ: dict[str, str]) -> None:
    config_module._warned.clear()
    cfg = load_config(environ)
    assert cfg.trace_mode in TRACE_MODES and cfg.flush in FLUSH_MODES
    for ms in (cfg.proactive_threshold_ms, cfg.flush_timeout_ms, cfg.import_threshold_ms):
        assert math.isfinite(ms) and ms >= 0
        assert int(ms * 1_000_000) < 2**63 and ms / 1000.0 <= threading.TIMEOUT_MAX
    assert cfg.flush_timeout_ms > 0
    for price in (cfg.price_x86_64, cfg.price_arm64):
        assert math.isfinite(price) and price >= 0


lambda_vars = st.sampled_from(
    [
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_REGION",
        "_HANDLER",
        "ORIG_HANDLER",
        "LAMBDA_TASK_ROOT",
    ]
)
lambda_values = st.one_of(
    st.text(max_size=80),
    st.sampled_from(["-1", "0", "1e3", "9" * 30, ".", "a/b.c"]),
    huge("9", 5000),
    huge("x", 100_000),
)


@FUZZ
@given(st.dictionaries(lambda_vars, lambda_values, max_size=9))
def test_any_lambda_environment_reads_to_bounded_resource_attributes(
    environ: dict[str, str],
) -> None:
    env = read_environment(environ)
    attrs = env.resource_attributes()
    for value in attrs.values():
        if isinstance(value, str):
            assert len(value) <= 256
        else:
            assert 0 < value < 2**63
    assert env.handler_module is None or isinstance(env.handler_module, str)
