"""The one exception hierarchy. Every message says what to do next."""

from __future__ import annotations

__all__ = [
    "BackupError",
    "BuildError",
    "CommandError",
    "ConfigError",
    "DatabaseError",
    "DeployFailed",
    "DeployflowError",
    "HealthCheckError",
    "LockError",
    "PipelineError",
    "PreflightError",
    "ReleaseError",
    "ServiceError",
    "StackError",
    "UploadError",
    "UsageError",
]


DATA_NOT_RESTORED = 3  # the exit code of a deploy rolled back whose data stayed changed


class DeployflowError(Exception):
    """Base of every error deployflow raises on purpose; the CLI prints it as one line."""

    exit_code = 1


class StackError(DeployflowError):
    """The stack file (or a file it names) is missing or invalid."""

    exit_code = 2


class UsageError(DeployflowError):
    """The command line asks for something that cannot be done as asked."""

    exit_code = 2


class ConfigError(DeployflowError):
    """A config template is missing or does not render."""


class CommandError(DeployflowError):
    """An external command failed or could not be started."""


class BuildError(DeployflowError):
    """A build step failed."""


class ServiceError(DeployflowError):
    """A service did not start, stop or report its status."""


class HealthCheckError(DeployflowError):
    """A health check did not pass before its deadline."""


class DatabaseError(DeployflowError):
    """The database could not be reached, provisioned or migrated."""


class PreflightError(DeployflowError):
    """One or more critical preflight checks failed."""


class BackupError(DeployflowError):
    """A backup could not be written, read, verified or restored."""


class UploadError(DeployflowError):
    """An uploaded source was refused: unreadable, too large unpacked, or hostile."""


class LockError(DeployflowError):
    """Another deploy holds the lock on this deploy root."""


class PipelineError(DeployflowError):
    """A pipeline stage touched run state it does not declare: a deployflow bug."""


class ReleaseError(DeployflowError):
    """A release could not be created, switched or found."""


class DeployFailed(DeployflowError):
    """A deploy failed after it started changing things; `summary` says what was put back."""

    def __init__(self, message: str, summary: dict | None = None) -> None:
        super().__init__(message)
        self.summary = summary or {}

    @property
    def exit_code(self) -> int:  # type: ignore[override]
        """3 when the code went back but its data changed and was not restored."""
        return DATA_NOT_RESTORED if self.summary.get("data_not_restored") else 1
