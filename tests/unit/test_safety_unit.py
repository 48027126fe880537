"""Settings real functions have (issue 25), read the way the SDK reads them."""

from __future__ import annotations

import pytest

from otel_lambda_init._core.config import load_config


@pytest.mark.parametrize("value", ["true", "TRUE", " True "])
def test_otel_sdk_disabled_turns_the_package_off(value: str) -> None:
    assert load_config({"OTEL_SDK_DISABLED": value}).disabled is True


@pytest.mark.parametrize("value", ["false", "1", "yes", ""])
def test_otel_sdk_disabled_accepts_only_true_as_the_sdk_does(value: str) -> None:
    assert load_config({"OTEL_SDK_DISABLED": value}).disabled is False
