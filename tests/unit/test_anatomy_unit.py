"""Unit tests of the anatomy pieces: cost arithmetic, import origins, the import tracer, phases."""

from __future__ import annotations

import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from otel_lambda_init import init_phase
from otel_lambda_init._core import classify
from otel_lambda_init._core.records import ChildRecords
from otel_lambda_init._owner import reset_sandbox_for_tests
from otel_lambda_init._probes import imports


@pytest.mark.parametrize(
    ("duration_ms", "memory_mb", "architecture", "billed", "cost"),
    [
        # 1234.5 ms -> 1235 ms; 128/1024 GB * 1.235 s * $0.0000166667
        (1234.5, 128, "x86_64", 1235, 0.125 * 1.235 * 0.0000166667),
        # 800.0001 ms -> 801 ms; 1769/1024 GB * 0.801 s * $0.0000133334
        (800.0001, 1769, "arm64", 801, 1.7275390625 * 0.801 * 0.0000133334),
    ],
)
def test_cost_matches_hand_computed_values(
    duration_ms: float, memory_mb: int, architecture: str, billed: int, cost: float
) -> None:
    price = classify.price_per_gb_second(architecture, 0.0000166667, 0.0000133334)
    attrs = classify.cost_attributes(duration_ms, memory_mb, price)
    assert attrs["lambda_init.billed_duration_ms"] == billed
    assert attrs["lambda_init.estimated_cost_usd"] == pytest.approx(cost, rel=1e-12)


def test_cost_without_a_memory_size_is_only_the_billed_duration() -> None:
    assert classify.cost_attributes(10.2, None, 1.0) == {"lambda_init.billed_duration_ms": 11}


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        ("/var/task/app/models.py", "function"),
        ("/opt/python/pandas/__init__.py", "layer"),
        ("/var/lang/lib/python3.12/json/__init__.py", "runtime"),
        ("/var/runtime/awslambdaric/bootstrap.py", "runtime"),
        ("built-in", "runtime"),
        (None, "runtime"),
        ("/home/someone/else.py", "other"),
    ],
)
def test_import_origin(origin: str | None, expected: str) -> None:
    roots = ("/var/lang/", "/var/runtime/")
    assert imports.import_origin(origin, "/var/task", roots) == expected


@pytest.fixture
def fresh_anatomy() -> Iterator[ChildRecords]:
    yield ChildRecords()


@pytest.fixture
def code_dir(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "anat_outer.py").write_text(
        textwrap.dedent(
            """
            import time
            time.sleep(0.03)
            import anat_inner
            """
        )
    )
    (tmp_path / "anat_inner.py").write_text("import time\ntime.sleep(0.02)\n")
    (tmp_path / "anat_fast.py").write_text("X = 1\n")
    (tmp_path / "anat_broken.py").write_text("import time\ntime.sleep(0.01)\nraise KeyError('k')\n")
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in ("anat_outer", "anat_inner", "anat_fast", "anat_broken"):
        sys.modules.pop(name, None)


def test_import_tracer_nests_slow_imports_and_drops_fast_ones(
    fresh_anatomy: ChildRecords, code_dir: Path
) -> None:
    tracer = imports.ImportTracer(fresh_anatomy, 5.0, str(code_dir))
    sys.meta_path.insert(0, tracer)
    try:
        import anat_fast  # noqa: F401
        import anat_outer  # noqa: F401
    finally:
        sys.meta_path.remove(tracer)
    records = {r.name: r for r in fresh_anatomy.take(time.time_ns())}
    assert set(records) == {"import anat_outer", "import anat_inner"}
    outer, inner = records["import anat_outer"], records["import anat_inner"]
    assert inner.parent is outer and outer.parent is None
    assert outer.attributes["lambda_init.import.origin"] == "function"
    assert (inner.end_ns - inner.start_ns) >= 20_000_000
    assert (outer.end_ns - outer.start_ns) >= 50_000_000
    module = sys.modules["anat_outer"]
    assert type(module.__loader__).__name__ == "SourceFileLoader"
    assert module.__spec__.loader is module.__loader__


def test_import_tracer_lets_a_failing_import_fail_unchanged(
    fresh_anatomy: ChildRecords, code_dir: Path
) -> None:
    tracer = imports.ImportTracer(fresh_anatomy, 5.0, str(code_dir))
    sys.meta_path.insert(0, tracer)
    try:
        with pytest.raises(KeyError, match="k"):
            import anat_broken  # noqa: F401
        with pytest.raises(ModuleNotFoundError):
            import anat_does_not_exist  # noqa: F401
    finally:
        sys.meta_path.remove(tracer)
    (record,) = fresh_anatomy.take(time.time_ns())
    assert record.name == "import anat_broken" and record.error


def test_start_is_idempotent_and_stop_removes_the_finder(fresh_anatomy: ChildRecords) -> None:
    tracer = imports.ImportTracer(fresh_anatomy, 5.0, None)
    tracer.start()
    tracer.start()
    try:
        assert sum(isinstance(f, imports.ImportTracer) for f in sys.meta_path) == 1
        assert tracer.tracing
    finally:
        tracer.stop()
        tracer.stop()
    assert not tracer.tracing
    assert not any(isinstance(f, imports.ImportTracer) for f in sys.meta_path)


def test_the_owner_starts_import_tracing_only_inside_a_sandbox(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AWS_LAMBDA_RUNTIME_API", raising=False)
    owner = reset_sandbox_for_tests()
    owner.begin("test", time.time_ns())
    assert owner.import_tracer is None
    monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
    monkeypatch.setenv("TMPDIR", "/nonexistent-dir")
    owner = reset_sandbox_for_tests()
    owner.begin("test", time.time_ns())
    try:
        assert owner.import_tracer is not None and owner.import_tracer.tracing
    finally:
        reset_sandbox_for_tests()
    assert not any(isinstance(f, imports.ImportTracer) for f in sys.meta_path)


def test_phases_buffer_and_nest_during_init(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
    owner = reset_sandbox_for_tests()

    @init_phase("decorated")
    def load() -> str:
        time.sleep(0.001)
        return "loaded"

    with init_phase("outer"):
        assert load() == "loaded"
        with pytest.raises(ValueError), init_phase("failing"):
            raise ValueError("bad model")
    records = {r.name: r for r in owner.records.take(time.time_ns())}
    reset_sandbox_for_tests()
    assert records["decorated"].parent is records["outer"]
    assert records["failing"].parent is records["outer"]
    assert records["failing"].error == "ValueError: bad model"
    assert records["outer"].parent is None


def test_phase_after_init_is_an_ordinary_span(monkeypatch: pytest.MonkeyPatch) -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    monkeypatch.delenv("AWS_LAMBDA_RUNTIME_API", raising=False)  # no INIT to buffer for
    reset_sandbox_for_tests()
    with init_phase("lazy load"):
        pass
    (span,) = exporter.get_finished_spans()
    assert span.name == "lazy load"
    assert span.attributes["lambda_init.child"] == "phase"


def test_ending_open_records_cuts_them_and_frees_what_runs_next() -> None:
    from otel_lambda_init._core.records import ChildRecords

    records = ChildRecords()
    ours = records.open("import otel_lambda_init.auto.shim", "import", 100)
    records.end_open_records(200)
    user = records.open("import app", "import", 210)
    records.close(user, 900)
    records.close(ours, 950)  # our import statement returns after the user's module loaded
    assert user.parent is None  # the init span's child, not ours
    assert (ours.start_ns, ours.end_ns) == (100, 200)


def test_external_extensions_are_executables_in_the_extensions_directory(tmp_path) -> None:  # noqa: ANN001
    from otel_lambda_init._probes.process import external_extensions_present

    assert not external_extensions_present(str(tmp_path / "missing"))
    (tmp_path / "README").write_text("not an extension")
    assert not external_extensions_present(str(tmp_path))
    ext = tmp_path / "collector"
    ext.write_text("#!/bin/sh\n")
    ext.chmod(0o755)
    assert external_extensions_present(str(tmp_path))
