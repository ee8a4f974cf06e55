"""The RDAP client's own exception: a configuration it refuses to run with."""

from __future__ import annotations

from chokepoints.errors import UserError


class RdapConfigError(UserError):
    """The RDAP client's configuration is unusable (a bad base URL, or a server off loopback)."""
