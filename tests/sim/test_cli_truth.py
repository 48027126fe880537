"""The CLI tells the truth about what arrived: the backend, the threshold, the environment, logs.

Every run here is a real one (real awslambdaric sandboxes, real OTLP/HTTP to receivers on
127.0.0.1); a backend is another `OtlpReceiver`, a dead one a port nobody listens on.
"""

from __future__ import annotations

import json
import socket
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from otel_lambda_init.cli import main
from otel_lambda_sim.backend import BackendError, forward, traces_url
from otel_lambda_sim.receiver import Behaviour, OtlpReceiver, RawRequest
from otel_lambda_sim.scenarios import SCENARIO_KEYS, Scenario, keys_table, load_scenario
from otel_lambda_sim.view import load_jsonl, truth_path
from otel_lambda_sim.view_svg import Scale

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = Path(__file__).parents[1] / "simulator_handlers"


def _scenario(tmp_path: Path, **keys: object) -> Path:
    data = {"name": "one", "arrivals": [0.0], "init_ms": 0, "handler_ms": 0, "drain_s": 0.1}
    data.update(keys)
    path = tmp_path / "one.json"
    path.write_text(json.dumps(data))
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- 1. the backend --------------------------------------------------------------------------
def test_wrong_endpoint_path_is_refused_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with OtlpReceiver() as backend:  # answers 404 to any path but /v1/traces
        argv = ["simulate", str(_scenario(tmp_path)), "--handler", "otel_spans.handler"]
        argv += ["--code-dir", str(HANDLERS), "--out", str(tmp_path / "out")]
        base = backend.endpoint
        code = main([*argv, "--endpoint", f"{base}/otlp"])
        assert not backend.spans()
    err = capsys.readouterr().err
    assert code == 2
    assert f"404 Not Found to POST {base}/otlp/v1/traces" in err
    assert "does not take OTLP traces" in err and "nothing was run" in err
    assert not (tmp_path / "out").exists()


def test_dead_endpoint_is_refused_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = _free_port()
    argv = ["simulate", str(_scenario(tmp_path)), "--handler", "otel_spans.handler"]
    argv += ["--code-dir", str(HANDLERS), "--out", str(tmp_path / "out")]
    code = main([*argv, "--endpoint", f"http://127.0.0.1:{port}"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"cannot reach the backend at http://127.0.0.1:{port}/v1/traces" in err


def test_full_traces_url_is_accepted_and_one_run_feeds_backend_and_local_view(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    with OtlpReceiver() as backend:
        argv = ["simulate", str(_scenario(tmp_path)), "--handler", "otel_spans.handler"]
        argv += ["--code-dir", str(HANDLERS), "--out", str(out), "--quiet"]
        base = backend.endpoint
        code = main([*argv, "--endpoint", f"{base}/v1/traces"])
        arrived = backend.spans()
        requests = backend.requests
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert f"using base URL {base}" in captured.err
    assert {s.name for s in arrived} >= {"module import", "handle", "child"}
    assert f"accepted {len(requests) - 1}/{len(requests) - 1}" in captured.out  # minus the probe
    local = load_jsonl(out / "one.jsonl")
    assert {s.span_id for s in local} == {s.span_id for s in arrived}
    assert (out / "one.html").exists()


def test_backend_that_accepts_nothing_makes_a_non_zero_exit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A backend that takes the (empty) probe but refuses every real export.
    monkeypatch.setattr("otel_lambda_sim.backend.probe", lambda *a, **k: None)
    with OtlpReceiver(Behaviour(status=503)) as backend:
        argv = ["simulate", str(_scenario(tmp_path)), "--handler", "otel_spans.handler"]
        argv += ["--code-dir", str(HANDLERS), "--out", str(tmp_path / "out"), "--quiet"]
        code = main([*argv, "--endpoint", backend.endpoint])
    captured = capsys.readouterr()
    assert code == 1
    assert "accepted 0/" in captured.out and "503" in captured.out
    assert "accepted nothing from this run" in captured.err


def test_forward_counts_refusals_and_a_dead_backend() -> None:
    raw = RawRequest("/v1/traces", {"content-type": "application/x-protobuf"}, b"", 0)
    with OtlpReceiver(Behaviour(status=500)) as backend:
        report = forward([raw, raw], traces_url(backend.endpoint), timeout_s=5)
    assert (report.requests, report.accepted) == (2, 0)
    assert report.failures["500 Internal Server Error"] == 2
    dead = forward([raw], traces_url(f"http://127.0.0.1:{_free_port()}"), timeout_s=5)
    assert dead.accepted == 0 and next(iter(dead.failures)).startswith("no answer")


@pytest.mark.parametrize(
    "url", ["ftp://host/x", "http://127.0.0.1:4318/v1/metrics", "127.0.0.1:4318"]
)
def test_unusable_endpoint_urls_are_refused_with_the_reason(url: str) -> None:
    with pytest.raises(BackendError, match="--endpoint"):
        traces_url(url)


# --- 2. your own handler ---------------------------------------------------------------------
PLAIN_HANDLER = textwrap.dedent(
    """
    import os
    print("INIT of a plain handler", flush=True)

    def handler(event, context):
        print("handler sees MY_SETTING=" + os.environ.get("MY_SETTING", "<unset>"), flush=True)
        return {"ok": True}
    """
)


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str, str, Path]]:
    """One run of an uninstrumented handler with --env, AWS_LAMBDA_EXEC_WRAPPER in the shell."""
    tmp = tmp_path_factory.mktemp("plain")
    (tmp / "code").mkdir()
    (tmp / "code" / "plain.py").write_text(PLAIN_HANDLER)
    scenario = _scenario(tmp)
    mp = pytest.MonkeyPatch()
    mp.setenv("AWS_LAMBDA_EXEC_WRAPPER", "otel-lambda-init-wrapper")
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(
                [
                    "simulate",
                    str(scenario),
                    "--handler",
                    "plain.handler",
                    "--code-dir",
                    str(tmp / "code"),
                    "--out",
                    str(tmp / "out"),
                    "--env",
                    "MY_SETTING=from-the-command-line",
                    "--quiet",
                ]
            )
    finally:
        mp.undo()
    yield code, out.getvalue(), err.getvalue(), tmp / "out"


def _run_log(out: Path, sandbox: str) -> Path:
    """The sandbox's log of the one run written to out (each run has a directory of its own)."""
    (log,) = (out / "logs").glob(f"*/{sandbox}.log")
    return log


def test_env_given_on_the_command_line_reaches_the_sandbox_and_is_shown(
    plain_run: tuple[int, str, str, Path],
) -> None:
    _, _, err, out = plain_run
    assert "MY_SETTING=from-the-command-line" in err  # shown before the run
    log = _run_log(out, "sbx001").read_text()
    assert "handler sees MY_SETTING=from-the-command-line" in log


def test_handler_print_appears_in_its_sandbox_log(plain_run: tuple[int, str, str, Path]) -> None:
    _, stdout, _, out = plain_run
    log = _run_log(out, "sbx001")
    assert "INIT of a plain handler" in log.read_text()
    assert str(log.parent) in stdout


def test_no_spans_is_an_error_with_a_hint_and_the_shell_wrapper_is_named(
    plain_run: tuple[int, str, str, Path],
) -> None:
    code, _, err, _ = plain_run
    assert code == 1
    assert "no spans arrived" in err and "--env AWS_LAMBDA_EXEC_WRAPPER=" in err
    assert "AWS_LAMBDA_EXEC_WRAPPER is set in your shell but not passed" in err


def test_exec_wrapper_given_by_name_on_the_command_line_instruments_a_plain_handler(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "plain.py").write_text(PLAIN_HANDLER)
    argv = ["simulate", str(_scenario(tmp_path)), "--handler", "plain.handler", "--code-dir"]
    argv += [str(tmp_path / "code"), "--out", str(tmp_path / "out"), "--quiet"]
    code = main([*argv, "--env", "AWS_LAMBDA_EXEC_WRAPPER=otel-lambda-init-wrapper"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    names = {s.name for s in load_jsonl(tmp_path / "out" / "one.jsonl")}
    assert "init demo-fn" in names and "demo-fn" in names


def test_threshold_in_effect_is_printed_for_a_scenario_without_one(
    plain_run: tuple[int, str, str, Path],
) -> None:
    _, stdout, err, _ = plain_run
    expected = "proactive threshold in effect: 10000 ms (default;"
    assert expected in err and expected in stdout


def test_threshold_in_effect_is_printed_for_the_builtin_demo_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["simulate", "demo", "--handler", "otel_spans.handler", "--code-dir",
                 str(HANDLERS), "--out", str(tmp_path), "--quiet"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "proactive threshold in effect: 10000 ms (default;" in captured.out


def test_every_scenario_key_is_documented_and_every_example_loads() -> None:
    fields = set(Scenario.__dataclass_fields__)
    assert set(SCENARIO_KEYS) == fields
    page = (ROOT / "docs" / "simulator.md").read_text()  # the scenario table, with defaults
    assert keys_table(Scenario.defaults()) in page
    examples = sorted((ROOT / "examples" / "scenarios").glob("*.yaml"))
    assert examples
    for path in examples:
        scenario = load_scenario(path)
        assert scenario.arrival_times() and scenario.handler


# --- 4. view ---------------------------------------------------------------------------------
def test_view_of_the_demo_jsonl_keeps_the_ground_truth_and_asks_before_overwriting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--quiet", "--out", str(tmp_path)]) == 0
    jsonl = tmp_path / "demo.jsonl"
    assert truth_path(jsonl).exists()
    capsys.readouterr()
    assert main(["view", str(jsonl)]) == 2  # demo.html exists
    assert "pass --force" in capsys.readouterr().err
    assert main(["view", str(jsonl), "--out", str(tmp_path / "again.html")]) == 0
    page = (tmp_path / "again.html").read_text()
    truth = json.loads(truth_path(jsonl).read_text())["truth"]
    assert f"(simulator: {truth['initializations']})" in page
    assert f"(simulator: {truth['not_waited_for']} not waited for)" in page
    assert "proactive threshold in effect: 10000 ms (default;" in page
    assert main(["view", str(jsonl), "--force"]) == 0


# --- 5. the HTML view at real scale ----------------------------------------------------------
def test_an_eleven_second_gap_is_cut_from_the_axis_so_bars_stay_readable() -> None:
    ms = 1_000_000
    init, invocation = (0, 600 * ms), (11_600 * ms, 12_000 * ms)
    scale = Scale([init, invocation])
    assert len(scale.breaks) == 1
    assert scale.w(*invocation) > 300  # about 30 px on a linear axis
    assert scale.x(invocation[1]) <= scale.segments[-1][3] + 0.01


# --- 6. small things -------------------------------------------------------------------------
def test_version_and_layer_help(capsys: pytest.CaptureFixture[str]) -> None:
    from otel_lambda_init import __version__

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and __version__ in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["layer", "--help"])
    assert exc.value.code == 0 and "layer build --out DIR" in capsys.readouterr().out


def test_gitignore_covers_the_default_output_directory() -> None:
    assert "otel-lambda-init-out/" in (ROOT / ".gitignore").read_text().splitlines()
