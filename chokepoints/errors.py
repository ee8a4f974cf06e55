"""The project's own exceptions: few, in one module, the docstring as default message.

A :class:`UserError` is a mistake the user can fix (a missing file, a bad list, an unknown
snapshot); the CLI prints it as one line on stderr and exits with code 1, never a traceback.
"""

from __future__ import annotations


class ChokepointsError(Exception):
    """An error in chokepoints."""

    def __init__(self, msg: str | None = None) -> None:
        super().__init__(msg or (self.__doc__ or "").strip())


class UserError(ChokepointsError):
    """Bad input from the user."""


class ListError(UserError):
    """The top list could not be read."""


class DatabaseError(UserError):
    """The database could not be opened or is not a chokepoints database."""


class SnapshotNotFound(UserError):
    """No such snapshot."""


class ReadOnlyQuery(UserError):
    """The query tried to write: the query command opens the database read-only."""


class OfflineError(UserError):
    """A download was needed but the network could not be reached."""


class LabError(ChokepointsError):
    """The lab could not be started or stopped."""
