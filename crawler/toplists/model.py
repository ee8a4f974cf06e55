"""The results of loading a top list: frozen records, safe to share and to store.

No settings are read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

#: Number of rejected lines kept, with their reasons, on a :class:`TopList`.
MAX_REJECTS_KEPT = 20


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One site of a list.

    :ivar rank: 1 = most popular. For ``rank_domain`` lists the rank printed in the file
        (gaps kept); for lists without ranks the position in the list as published (for
        CrUX, after a stable sort by bucket).
    :ivar domain: the registrable domain (see :func:`normalise_domain`).
    :ivar raw: the entry as written in the file (the domain field, stripped).
    :ivar bucket: the popularity bucket the entry sits in (CrUX ``1000``/``5000``/...; a
        Radar ``top-10000`` file puts all its entries in bucket ``10000``); None for lists
        with exact ranks. Inside a bucket the order carries no meaning.
    """

    rank: int
    domain: str
    raw: str
    bucket: int | None = None


@dataclass(frozen=True, slots=True)
class Reject:
    """A line that did not yield a domain: its 1-based line number in the file and why."""

    line_no: int
    raw: str
    reason: str


@dataclass(frozen=True, slots=True)
class TopList:
    """A loaded, normalised and pinned top list.

    :ivar name: the list family (``tranco``, ``radar``, ``crux``, ``umbrella``, ``alexa``,
        ``majestic`` or ``file``), to follow one list over time.
    :ivar source: the path or URL the list was read from.
    :ivar list_id: the Tranco list ID when known.
    :ivar sha256: hex SHA-256 of the file bytes as stored (compressed when the file is).
    :ivar list_date: the date of the list, as given or as read from the file name.
    :ivar format: ``rank_domain``, ``domain_lines``, ``radar_csv`` or ``crux_bucket``.
    :ivar entries: sorted by rank, registrable domains, no duplicates (best rank kept);
        only the first ``top`` when a top was asked for.
    :ivar rejected: number of lines of the whole file that yielded no domain.
    :ivar rejects: the first :data:`MAX_REJECTS_KEPT` of them, with reasons.
    :ivar duplicates: entries of the whole file dropped because a better rank had the same
        registrable domain.
    :ivar psl_version: the bundled Public Suffix List used to normalise.
    """

    name: str
    source: str
    list_id: str | None
    sha256: str
    list_date: date | None
    format: str
    entries: tuple[ListEntry, ...]
    rejected: int
    rejects: tuple[Reject, ...]
    duplicates: int
    psl_version: str

    @property
    def domains(self) -> tuple[str, ...]:
        """The registrable domains, in rank order."""
        return tuple(entry.domain for entry in self.entries)
