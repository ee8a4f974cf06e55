"""Helpers for tests that need a running lab (the lead's fixtures build on these)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dns.resolver

from scripts.lab.api import down, up


@contextmanager
def running_lab(
    tmp_dir: Path, *, sites: int = 300, seed: int = 1, **kwargs: Any
) -> Iterator[dict[str, Any]]:
    """Bring a lab up in *tmp_dir* for the ``with`` block, and always down after it.

    :param kwargs: passed on to :func:`scripts.lab.api.up` (``list_path``, ``data_dir``,
        ``world_date``).
    :returns: the lab's state (see :func:`scripts.lab.api.up`).
    """
    state = up(tmp_dir, sites=sites, seed=seed, **kwargs)
    try:
        yield state
    finally:
        down(tmp_dir)


def lab_resolver(state: dict[str, Any], timeout: float = 2.0) -> dns.resolver.Resolver:
    """A dnspython resolver aimed at the lab's Unbound (no system configuration read)."""
    host, port = state["resolver"].rsplit(":", 1)
    res = dns.resolver.Resolver(configure=False)
    res.nameservers = [host]
    res.port = int(port)
    res.lifetime = timeout
    res.timeout = timeout
    return res


def lab_ssl_context(state: dict[str, Any]) -> ssl.SSLContext:
    """A client context that trusts the lab's CAs only (``ca_bundle``), as a lab crawl does.

    Connect to ``127.0.0.1:<https_port>`` with ``server_hostname`` set to the site's host.
    """
    return ssl.create_default_context(cafile=state["ca_bundle"])
