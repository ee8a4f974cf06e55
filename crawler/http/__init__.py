"""Fetching home pages: one HTTP/1.1 exchange with a pinned address, plain asyncio, no Scrapy.

- :mod:`~crawler.http.safety`: :func:`blocked_reason`, which addresses may be connected to;
- :mod:`~crawler.http.tls`: :class:`TlsPolicy`, the verifying and the capturing TLS contexts;
- :mod:`~crawler.http.certs`: :class:`CertInfo`, what a leaf certificate says;
- :mod:`~crawler.http.fetch`: :func:`fetch` and its :class:`Hop`, one request and response;
- :mod:`~crawler.http.resources`: :func:`resource_hosts`, the hosts a page loads from.
"""

from __future__ import annotations

from crawler.http.certs import CertInfo, cert_info
from crawler.http.fetch import (
    BLOCKED,
    CONNECT_ERROR,
    HTTP_ERROR,
    OK,
    TIMEOUT,
    TLS_ERROR,
    TLS_INVALID,
    Hop,
    Status,
    fetch,
)
from crawler.http.resources import RESOURCE_TAGS, html_like, resource_hosts
from crawler.http.safety import blocked_reason
from crawler.http.tls import TlsPolicy, default_policy, tls_policy

__all__ = [
    "BLOCKED",
    "CONNECT_ERROR",
    "HTTP_ERROR",
    "OK",
    "RESOURCE_TAGS",
    "TIMEOUT",
    "TLS_ERROR",
    "TLS_INVALID",
    "CertInfo",
    "Hop",
    "Status",
    "TlsPolicy",
    "blocked_reason",
    "cert_info",
    "default_policy",
    "fetch",
    "html_like",
    "resource_hosts",
    "tls_policy",
]
