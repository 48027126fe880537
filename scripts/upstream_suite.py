"""Run opentelemetry-instrumentation-aws-lambda's own test suite with our InitSpanProcessor
added to every test's TracerProvider: once in one process, once with one process per test
(each test then sees a first invocation, as a fresh sandbox would).

Downloads the installed version's sdist from PyPI into a temporary directory (nothing of it
is committed) and needs ``opentelemetry-test-utils`` of the same version. Prints the counts.

    python scripts/upstream_suite.py [--baseline]   # --baseline: without our processor
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import tempfile
from importlib import metadata
from pathlib import Path

DIST = "opentelemetry-instrumentation-aws-lambda"
CONFTEST = """
import pytest
from opentelemetry.test.test_base import TestBase

import otel_lambda_init

_original = TestBase.setUp


def _with_our_processor(self):
    _original(self)
    otel_lambda_init.ensure_processor(self.tracer_provider)


if {add}:
    TestBase.setUp = _with_our_processor
"""


def fetch_tests(workdir: Path) -> Path:
    version = metadata.version(DIST)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-binary",
            ":all:",
            "--no-deps",
            f"{DIST}=={version}",
            "-d",
            str(workdir),
        ],
        check=True,
    )
    (archive,) = workdir.glob("*.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(workdir, filter="data")
    (root,) = (p for p in workdir.iterdir() if p.is_dir())
    return root


def test_ids(root: Path) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--collect-only", "-p", "no:cacheprovider", "tests"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    return [line for line in out.splitlines() if "::" in line]


def run(root: Path, ids: list[str]) -> bool:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *ids],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return done.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline", action="store_true", help="without our processor")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = fetch_tests(Path(tmp))
        (root / "tests" / "conftest.py").write_text(CONFTEST.format(add=not args.baseline))
        ids = test_ids(root)
        together = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=600,
        )
        print("one process:", together.stdout.strip().splitlines()[-1])
        failed = [i for i in ids if not run(root, [i])]
        print(f"one process per test: {len(ids) - len(failed)} passed, {len(failed)} failed")
        for test in failed:
            print("  failed:", test)


if __name__ == "__main__":
    main()
