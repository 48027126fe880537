"""One function's configuration, as Lambda holds it: shared by scenario, sandbox and Runtime API.

Lambda configures a function once (handler, memory, timeout, environment, initialization
type) and every execution environment of it sees the same values; the simulator does the same
with one frozen FunctionConfig, so a sandbox and its Runtime API can never disagree.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

__all__ = ["FunctionConfig", "default_execution_env"]


def default_execution_env() -> str:
    """AWS_EXECUTION_ENV of the Python that runs the simulator: the sandboxes run it too."""
    return f"AWS_Lambda_python{sys.version_info[0]}.{sys.version_info[1]}"


@dataclass(frozen=True)
class FunctionConfig:
    """What every sandbox of one function shares; times in seconds, as Lambda's settings are."""

    handler: str
    code_dir: Path = Path(".")
    function_name: str = "demo-fn"
    function_version: str = "$LATEST"
    memory_mb: int = 128
    function_timeout_s: float = 30.0
    # Lambda's INIT cap (10 s); scalable so a test can cross it in seconds.
    init_timeout_s: float = 10.0
    # | "provisioned-concurrency" | "snap-start" | "lambda-managed-instances"
    initialization_type: str = "on-demand"
    # Lambda Managed Instances: AWS_LAMBDA_MAX_CONCURRENCY, awslambdaric's worker count.
    max_concurrency: int = 2
    execution_env: str = field(default_factory=default_execution_env)
    region: str = "us-east-1"
    account_id: str = "123456789012"
    env: Mapping[str, str] = field(default_factory=dict)
    # AWS_LAMBDA_EXEC_WRAPPER, when not given in env: the managed runtime's bootstrap execs it.
    exec_wrapper: str | None = None
    extensions_dir: Path | None = None  # /opt/extensions: executables started as external ones
    layer_dirs: tuple[Path, ...] = ()  # each one's python/ goes on PYTHONPATH, bin/ on PATH
    # Lambda's CPU share for memory_mb (7 % of a vCPU at 128 MB), where the host lets the
    # simulator set one (cpu_share.py); off by default: most tests measure logic, not budgets.
    cpu_share: bool = False

    def __post_init__(self) -> None:
        # Normalised once so every sandbox resolves the same paths whatever the caller passed.
        object.__setattr__(self, "code_dir", Path(self.code_dir).resolve())
        object.__setattr__(self, "env", dict(self.env))
        if self.extensions_dir is not None:
            object.__setattr__(self, "extensions_dir", Path(self.extensions_dir))
        object.__setattr__(self, "layer_dirs", tuple(Path(d).resolve() for d in self.layer_dirs))

    @classmethod
    def given(
        cls, function: FunctionConfig | str, code_dir: Path | str | None, settings: dict[str, Any]
    ) -> FunctionConfig:
        """What a sandbox constructor was given: a FunctionConfig, or a handler with its
        settings (the shorthand), never both."""
        if isinstance(function, str):
            return cls.of(function, code_dir or ".", **settings)
        if code_dir is not None or settings:
            raise TypeError("pass a FunctionConfig, or a handler and its settings, not both")
        return function

    @classmethod
    def of(
        cls,
        handler: str,
        code_dir: Path | str = ".",
        *,
        layer_dirs: Sequence[Path | str] = (),
        **settings: Any,
    ) -> FunctionConfig:
        """Build from loose arguments (paths as str, layer dirs as any sequence)."""
        return cls(
            handler,
            Path(code_dir),
            layer_dirs=tuple(Path(d) for d in layer_dirs),
            **settings,
        )

    def with_(self, **changes: Any) -> FunctionConfig:
        """A copy with some settings changed (e.g. the initialization type of a snapshot)."""
        return replace(self, **changes)

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"

    @property
    def managed_instances(self) -> bool:
        return self.initialization_type == "lambda-managed-instances"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"
