"""RDAP: the owner of the network an address is in, for what other evidence cannot name.

Plain functions and a client object, no Scrapy: :class:`RdapClient` asks the RIR that the
bundled IANA bootstrap names (or one ``base_url``, the lab) for ``/ip/<addr>``, within per-server
rate limits; :func:`name_networks` caches a network per lookup in ``rdap_networks`` so that an
address inside a cached network is never asked again; :func:`rdap_rows` reads the answers back.
ipwhois is used for parsing RDAP JSON only (see :mod:`crawler.rdap.parse`).
"""

from __future__ import annotations

from crawler.rdap.bootstrap import DEFAULT_SERVERS, Bootstrap, Rir, bundled
from crawler.rdap.client import RdapClient, RdapResult, Route
from crawler.rdap.config import DEFAULT_RATES, RdapConfig
from crawler.rdap.errors import RdapConfigError
from crawler.rdap.naming import RdapRow, name_networks, rdap_rows
from crawler.rdap.parse import MalformedResponse, RdapNetwork, parse_network
from crawler.rdap.status import RETRYABLE, RdapStatus, is_retryable

__all__ = [
    "DEFAULT_RATES",
    "DEFAULT_SERVERS",
    "RETRYABLE",
    "Bootstrap",
    "MalformedResponse",
    "RdapClient",
    "RdapConfig",
    "RdapConfigError",
    "RdapNetwork",
    "RdapResult",
    "RdapRow",
    "RdapStatus",
    "Rir",
    "Route",
    "bundled",
    "is_retryable",
    "name_networks",
    "parse_network",
    "rdap_rows",
]
