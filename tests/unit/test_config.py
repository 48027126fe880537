"""Every OTEL_LAMBDA_INIT_* variable parses in one place; bad values warn once and default."""

from __future__ import annotations

import logging
import threading

import pytest

from otel_lambda_init._core import config
from otel_lambda_init._core.config import load_config


@pytest.fixture(autouse=True)
def _fresh_warnings() -> None:
    config._warned.clear()


def test_defaults_outside_lambda_leave_flushing_to_the_users_exporter() -> None:
    cfg = load_config({})
    assert cfg.trace_mode == "auto"
    assert cfg.proactive_threshold_ms == 10_000
    assert cfg.flush == "none"  # issue 13, item 11: no flush thread, no wait outside Lambda
    assert load_config({"OTEL_LAMBDA_INIT_FLUSH": "sync"}).flush == "sync"
    assert cfg.init_span_outside_lambda is False
    assert cfg.record_unsampled_init is True


def test_inside_lambda_the_default_flush_is_after_response() -> None:
    assert load_config({"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}).flush == "after-response"


@pytest.mark.parametrize(
    "name,value,field,default,accepted",
    [
        (
            "OTEL_LAMBDA_INIT_PROACTIVE_THRESHOLD_MS",
            "abc",
            "proactive_threshold_ms",
            10_000,
            ">= 0",
        ),
        ("OTEL_LAMBDA_INIT_PROACTIVE_THRESHOLD_MS", "-5", "proactive_threshold_ms", 10_000, ">= 0"),
        ("OTEL_LAMBDA_INIT_TRACE", "sideways", "trace_mode", "auto", "first-invocation"),
        ("OTEL_LAMBDA_INIT_IDLE_GAP_MS", "soon", "idle_gap_ms", None, ">= 0"),
        ("OTEL_LAMBDA_INIT_FLUSH", "later", "flush", "none", "after-response"),
        ("OTEL_LAMBDA_INIT_FLUSH_TIMEOUT_MS", "0", "flush_timeout_ms", 2_000, "> 0"),
        ("OTEL_LAMBDA_INIT_RECORD_UNSAMPLED", "maybe", "record_unsampled_init", True, "true"),
        ("OTEL_LAMBDA_INIT_ARCHITECTURE", "mips", "architecture", None, "arm64"),
        ("OTEL_LAMBDA_INIT_DEFERRED_INIT", "maybe", "deferred_init", True, "true"),
        ("OTEL_LAMBDA_INIT_EXPORT_INTERVAL_MS", "-1", "export_interval_ms", 0.0, ">= 0"),
    ],
)
def test_bad_value_warns_once_naming_variable_and_accepted_values(
    caplog: pytest.LogCaptureFixture,
    name: str,
    value: str,
    field: str,
    default: object,
    accepted: str,
) -> None:
    with caplog.at_level(logging.WARNING, logger="otel_lambda_init"):
        cfg = load_config({name: value})
        load_config({name: value})
    if default is not None:
        assert getattr(cfg, field) == default
    lines = [r.getMessage() for r in caplog.records if name in r.getMessage()]
    assert len(lines) == 1, lines
    assert repr(value) in lines[0] and accepted in lines[0]


def test_values_are_case_and_space_tolerant() -> None:
    cfg = load_config(
        {"OTEL_LAMBDA_INIT_TRACE": " First-Invocation ", "OTEL_LAMBDA_INIT_FLUSH": "NONE"}
    )
    assert (cfg.trace_mode, cfg.flush) == ("first-invocation", "none")


def test_keyword_overrides_win_and_reject_unknown_modes() -> None:
    cfg = load_config({"OTEL_LAMBDA_INIT_FLUSH": "sync"}).with_overrides(
        flush="none", trace_mode=None
    )
    assert cfg.flush == "none" and cfg.trace_mode == "auto"
    with pytest.raises(ValueError, match="after-response"):
        cfg.with_overrides(flush="eventually")


@pytest.mark.parametrize("raw", ["1e303", "1e308", "1.7976931348623157e308"])
def test_an_enormous_duration_is_read_as_never_and_fits_nanoseconds(raw: str) -> None:
    config = load_config(
        {
            "OTEL_LAMBDA_INIT_IMPORT_THRESHOLD_MS": raw,
            "OTEL_LAMBDA_INIT_FLUSH_TIMEOUT_MS": raw,
            "OTEL_LAMBDA_INIT_PROACTIVE_THRESHOLD_MS": raw,
        }
    )
    for value in (
        config.import_threshold_ms,
        config.flush_timeout_ms,
        config.proactive_threshold_ms,
    ):
        assert int(value * 1_000_000) < 2**63
        assert value / 1000.0 <= threading.TIMEOUT_MAX


def test_idle_gap_is_unset_by_default_and_a_given_value_wins() -> None:
    assert load_config({}).idle_gap_ms is None  # the default depends on the sandbox
    assert load_config({}).extensions_dir == "/opt/extensions"
    cfg = load_config(
        {"OTEL_LAMBDA_INIT_IDLE_GAP_MS": "250", "OTEL_LAMBDA_INIT_EXTENSIONS_DIR": "/x"}
    )
    assert cfg.idle_gap_ms == 250.0 and cfg.extensions_dir == "/x"
    assert load_config({"OTEL_LAMBDA_INIT_IDLE_GAP_MS": "0"}).idle_gap_ms == 0.0  # rule off
