"""What a sandbox's rules recorded, as read-only properties of the API that owns them."""

from __future__ import annotations

from typing import Any

from .lambda_rules import SandboxRules

__all__ = ["RulesView"]


class RulesView:
    """The rules' timestamps and errors, read through the Runtime API (tests and the fleet)."""

    rules: SandboxRules

    @property
    def init_start_ns(self) -> int:
        return self.rules.init_start_ns

    @property
    def runtime_ready_ns(self) -> int:
        return self.rules.runtime_ready_ns

    @property
    def init_done_ns(self) -> int:
        return self.rules.init_done_ns

    @property
    def restore_next_ns(self) -> int:
        return self.rules.restore_next_ns

    @property
    def restored_ns(self) -> int:
        return self.rules.restored_ns

    @property
    def runtime_next_ns(self) -> list[int]:
        return self.rules.runtime_next_ns

    @property
    def init_error(self) -> dict[str, Any] | None:
        return self.rules.init_error

    @property
    def restore_error(self) -> dict[str, Any] | None:
        return self.rules.restore_error

    @property
    def extension_errors(self) -> list[dict[str, Any]]:
        return self.rules.extension_errors

    @property
    def restore_mode(self) -> bool:
        return self.rules.restore_mode

    @restore_mode.setter
    def restore_mode(self, value: bool) -> None:
        self.rules.restore_mode = value

    @property
    def init_done(self) -> bool:
        return self.rules.init_done

    @property
    def generation(self) -> int:
        return self.rules.generation
