"""The import tracer is invisible to the modules it times (issue 13, item 1): while a module
runs it sees its real loader and spec, whatever kind of import it is."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import textwrap
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from otel_lambda_init._core.records import ChildRecords
from otel_lambda_init._probes import imports

SEES_ITSELF = textwrap.dedent(
    """
    import time
    time.sleep(0.01)
    SEEN_LOADER = __loader__
    SEEN_SPEC_LOADER = __spec__.loader
    SEEN_TYPE = type(__loader__).__name__
    OWN_EXEC = "exec_module" in getattr(__loader__, "__dict__", {})
    """
)


@pytest.fixture
def tracer(tmp_path: Path) -> Iterator[imports.ImportTracer]:
    records = ChildRecords()
    tracer = imports.ImportTracer(records, 5.0, str(tmp_path))
    sys.path.insert(0, str(tmp_path))
    before = set(sys.modules)
    tracer.start()
    yield tracer
    tracer.stop()
    sys.path.remove(str(tmp_path))
    for name in set(sys.modules) - before:
        sys.modules.pop(name, None)


def _timed(tracer: imports.ImportTracer) -> set[str]:
    return {r.name for r in tracer.records.take(time.time_ns())}


def test_a_module_sees_its_real_source_loader_while_it_runs(
    tracer: imports.ImportTracer, tmp_path: Path
) -> None:
    (tmp_path / "inv_plain.py").write_text(SEES_ITSELF)
    module = importlib.import_module("inv_plain")
    assert isinstance(module.SEEN_LOADER, importlib.machinery.SourceFileLoader)
    assert module.SEEN_SPEC_LOADER is module.SEEN_LOADER is module.__loader__
    assert module.OWN_EXEC is False  # nothing of ours on the loader while its code runs
    assert "exec_module" not in vars(module.__loader__)  # nor after
    assert _timed(tracer) == {"import inv_plain"}


def test_importlib_resources_work_inside_a_package_being_imported(
    tracer: imports.ImportTracer, tmp_path: Path
) -> None:
    package = tmp_path / "inv_res"
    package.mkdir()
    (package / "data.txt").write_text("payload")
    (package / "__init__.py").write_text(
        "import importlib.resources, time\ntime.sleep(0.01)\n"
        "DATA = importlib.resources.files(__name__).joinpath('data.txt').read_text()\n"
    )
    assert importlib.import_module("inv_res").DATA == "payload"
    assert _timed(tracer) == {"import inv_res"}


def test_a_zip_import_sees_its_zipimporter_and_is_timed(
    tracer: imports.ImportTracer, tmp_path: Path
) -> None:
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("inv_zipped/__init__.py", SEES_ITSELF + "import inv_zipped.inner\n")
        z.writestr("inv_zipped/inner.py", SEES_ITSELF)
    sys.path.insert(0, str(archive))
    try:
        outer = importlib.import_module("inv_zipped")
    finally:
        sys.path.remove(str(archive))
    import zipimport

    inner = sys.modules["inv_zipped.inner"]
    for module in (outer, inner):
        assert isinstance(module.SEEN_LOADER, zipimport.zipimporter)
        assert module.SEEN_SPEC_LOADER is module.SEEN_LOADER
    assert _timed(tracer) == {"import inv_zipped", "import inv_zipped.inner"}


def test_a_namespace_package_imports_as_without_us(
    tracer: imports.ImportTracer, tmp_path: Path
) -> None:
    (tmp_path / "inv_ns" / "part").mkdir(parents=True)
    (tmp_path / "inv_ns" / "part" / "mod.py").write_text(SEES_ITSELF)
    module = importlib.import_module("inv_ns.part.mod")
    namespace = sys.modules["inv_ns"]
    assert namespace.__file__ is None and list(namespace.__path__) == [str(tmp_path / "inv_ns")]
    assert isinstance(module.SEEN_LOADER, importlib.machinery.SourceFileLoader)
    assert "import inv_ns.part.mod" in _timed(tracer)


class _InMemoryFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """A finder another library installs at ``sys.meta_path[0]`` after us."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != "inv_virtual":
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def exec_module(self, module: Any) -> None:
        module.SEEN_LOADER = module.__loader__


def test_a_finder_inserted_before_us_later_keeps_its_modules(
    tracer: imports.ImportTracer, tmp_path: Path
) -> None:
    finder = _InMemoryFinder()
    sys.meta_path.insert(0, finder)
    try:
        (tmp_path / "inv_after.py").write_text(SEES_ITSELF + "import inv_virtual\n")
        module = importlib.import_module("inv_after")
    finally:
        sys.meta_path.remove(finder)
    assert sys.modules["inv_virtual"].SEEN_LOADER is finder
    assert isinstance(module.SEEN_LOADER, importlib.machinery.SourceFileLoader)
    assert tracer.tracing


def test_a_spec_found_but_never_imported_leaves_nothing_behind_at_init_end(
    tracer: imports.ImportTracer, tmp_path: Path
) -> None:
    (tmp_path / "inv_probed.py").write_text("X = 1\n")
    spec = importlib.util.find_spec("inv_probed")
    assert spec is not None and spec.loader is not None
    tracer.stop()
    assert "exec_module" not in vars(spec.loader)
