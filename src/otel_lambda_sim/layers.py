"""Layers as Lambda mounts them: each zip extracted into /opt in order, later ones winning.

The simulator cannot write /opt, so every layer gets a directory of its own, its python/ goes
on PYTHONPATH after the function's code and its bin/ on PATH (launch.lambda_environment), and
a path under /opt in AWS_LAMBDA_EXEC_WRAPPER is read as the file of that name in the last
layer that has it, which is the file Lambda's merged /opt would show.
"""

from __future__ import annotations

import stat
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

__all__ = ["OPT", "opt_path", "unpack_layers"]

OPT = PurePosixPath("/opt")


def _extract(zip_path: Path, target: Path) -> None:
    """Unzip keeping each file's mode (a wrapper must stay executable), refusing any entry
    that would land outside target."""
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            dest = (target / info.filename).resolve()
            if not dest.is_relative_to(target.resolve()):
                raise ValueError(f"{zip_path}: entry {info.filename!r} leaves the layer")
            archive.extract(info, target)
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                dest.chmod(mode | stat.S_IRUSR)


def unpack_layers(layers: Iterable[str | Path]) -> tuple[Path, ...]:
    """A directory per layer, in order: a directory as it is, a zip extracted to a fresh one."""
    dirs: list[Path] = []
    for layer in layers:
        path = Path(layer)
        if path.is_dir():
            dirs.append(path.resolve())
        elif path.is_file() and zipfile.is_zipfile(path):
            target = Path(tempfile.mkdtemp(prefix="otel-lambda-layer-"))
            _extract(path, target)
            dirs.append(target)
        else:
            raise ValueError(f"layer {layer}: neither a directory nor a zip file")
    return tuple(dirs)


def opt_path(value: str, layer_dirs: Sequence[Path]) -> str:
    """value with /opt/... replaced by the layer file it names (the last layer wins)."""
    pure = PurePosixPath(value)
    if not layer_dirs or not pure.is_relative_to(OPT):
        return value
    inner = pure.relative_to(OPT)
    for layer in reversed(layer_dirs):
        candidate = layer / inner
        if candidate.exists():
            return str(candidate)
    return value
