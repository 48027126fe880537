"""Build the Lambda layer: ``python/`` (the package and its dependencies for one Python
version and architecture) and the exec wrapper at the layer root (``/opt/otel-lambda-init``).

Wheels are chosen by ``pip install --target --platform --python-version
--only-binary=:all:``, so the layer can be built on any machine for Lambda's. Scripts pip
writes to ``python/bin`` carry the build machine's interpreter path and are dropped.
"""

from __future__ import annotations

import argparse
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

ARCHITECTURES = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}
PYTHON_VERSIONS = ("3.10", "3.11", "3.12", "3.13", "3.14")
WRAPPER_NAME = "otel-lambda-init"
LAYER_PACKAGE = "otel_lambda_init"  # the only import package of this distribution in the layer
_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same inputs give the same zip


class LayerBuildError(RuntimeError):
    """pip could not resolve the layer for the platform asked for."""


def wrapper_script() -> bytes:
    """The exec wrapper as shipped inside the package."""
    return (resources.files(__package__) / "otel-lambda-init-wrapper").read_bytes()


def _project_root() -> Path | None:
    """The source checkout this module runs from, if any (else install from the index)."""
    root = Path(__file__).resolve().parents[3]
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and 'name = "otel-lambda-init"' in pyproject.read_text():
        return root
    return None


def _pip(*args: str) -> None:
    command = [sys.executable, "-m", "pip", *args]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LayerBuildError(f"{' '.join(command)} failed:\n{done.stderr[-4000:]}")


def build_layer(
    out_dir: str | Path,
    python_version: str = "3.12",
    architecture: str = "x86_64",
    *,
    package: str | None = None,
) -> Path:
    """Write ``otel-lambda-init-python{version}-{arch}.zip`` into ``out_dir``; return its path.

    ``package`` is a pip requirement or path for this package (default: the source checkout
    this module runs from, else ``otel-lambda-init==<this version>``).
    """
    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture must be one of {', '.join(ARCHITECTURES)}")
    if python_version not in PYTHON_VERSIONS:
        raise ValueError(f"python_version must be one of {', '.join(PYTHON_VERSIONS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="otel-lambda-init-layer-") as tmp:
        staging = Path(tmp) / "layer"
        requirement = package
        if requirement is None:
            root = _project_root()
            if root is None:
                from .._core.vocabulary import VERSION as __version__

                requirement = f"otel-lambda-init=={__version__}"
            else:  # a wheel of the checkout: --only-binary refuses source trees
                wheels = Path(tmp) / "wheel"
                _pip("wheel", "--no-deps", "--quiet", "-w", str(wheels), str(root))
                requirement = str(next(wheels.glob("*.whl")))
        site = Path(tmp) / "site"
        _pip(
            "install",
            "--quiet",
            "--no-compile",
            "--target",
            str(site),
            "--platform",
            ARCHITECTURES[architecture],
            "--implementation",
            "cp",
            "--python-version",
            python_version,
            "--only-binary=:all:",
            requirement,
        )
        _copy_layer_content(site, staging / "python")
        (staging / WRAPPER_NAME).write_bytes(wrapper_script())
        zip_path = out / f"otel-lambda-init-python{python_version}-{architecture}.zip"
        _write_zip(staging, zip_path)
    return zip_path


def _copy_layer_content(site: Path, python_dir: Path) -> None:
    """Copy what the layer needs from a ``pip install --target`` tree into ``python/``.

    Every dependency goes in; of this distribution only ``otel_lambda_init`` and its metadata:
    the distribution also carries developer tools (the local simulator and its demo function)
    that never run inside Lambda. ``bin/`` holds scripts with the build machine's interpreter.
    """
    ours = _distribution_top_levels(site)
    python_dir.mkdir(parents=True)
    for entry in sorted(site.iterdir()):
        if entry.name == "bin" or (entry.name in ours and not _is_layer_content(entry.name)):
            continue
        target = python_dir / entry.name
        if entry.is_dir():
            shutil.copytree(entry, target, symlinks=True)
        else:
            shutil.copy2(entry, target)


def _is_layer_content(name: str) -> bool:
    return name == LAYER_PACKAGE or (
        name.startswith(f"{LAYER_PACKAGE}-") and name.endswith(".dist-info")
    )


def _distribution_top_levels(site: Path) -> set[str]:
    """Top-level names this distribution installed into site (from its dist-info RECORD)."""
    names: set[str] = set()
    for record in site.glob(f"{LAYER_PACKAGE}-*.dist-info/RECORD"):
        for line in record.read_text().splitlines():
            path = line.split(",", 1)[0]
            if path and not path.startswith(".."):
                names.add(path.split("/", 1)[0])
    return names


def _write_zip(staging: Path, zip_path: Path) -> None:
    partial = zip_path.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(staging.rglob("*")):
            if path.is_dir() or "__pycache__" in path.parts:
                continue
            name = path.relative_to(staging).as_posix()
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            mode = 0o755 if name == WRAPPER_NAME else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    os.replace(partial, zip_path)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``layer build``, shared by this module's main and the CLI's subparser."""
    parser.add_argument("--out", required=True, help="directory for the zip")
    parser.add_argument(
        "--python",
        default="3.12",
        choices=PYTHON_VERSIONS,
        help="the Lambda runtime's Python version (default: %(default)s)",
    )
    parser.add_argument(
        "--arch",
        default="x86_64",
        choices=sorted(ARCHITECTURES),
        help="the function's architecture (default: %(default)s)",
    )
    parser.add_argument(
        "--package",
        default=None,
        help="pip requirement or wheel path for otel-lambda-init (default: a wheel of this "
        "checkout when run from one, else otel-lambda-init==VERSION from the index)",
    )


def run(args: argparse.Namespace) -> int:
    """Build the zip the parsed options ask for; print its path, or why it failed (exit 1)."""
    try:
        path = build_layer(args.out, args.python, args.arch, package=args.package)
    except (LayerBuildError, OSError, ValueError) as error:
        print(f"otel-lambda-init: layer build failed: {error}", file=sys.stderr)
        if args.package is None and "otel-lambda-init==" in str(error):
            print(
                "otel-lambda-init is not published on PyPI: build its wheel in the checkout "
                "(python -m build) and pass it, e.g. --package dist/otel_lambda_init-*.whl",
                file=sys.stderr,
            )
        return 1
    print(path)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``otel-lambda-init layer build --out DIR``: the arguments after ``layer build``."""
    parser = argparse.ArgumentParser(
        prog="otel-lambda-init layer build",
        description="Build the Lambda layer zip (python/ and /opt/otel-lambda-init).",
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
