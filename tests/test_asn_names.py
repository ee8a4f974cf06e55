"""AS names: both file formats, stored per snapshot, used to name long-tail providers."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from chokepoints.errors import UserError
from crawler import attribution, registry
from crawler.asn_names import load_as_names, store_names
from tests import test_attribution
from tests.test_attribution import crawl_fake

asndb = test_attribution.asndb  # the fixture


def test_pyasn_json_and_bgptools_csv(tmp_path: Path) -> None:
    j = tmp_path / "asnames.json.gz"
    j.write_bytes(gzip.compress(json.dumps({"64500": "SMALLHOST Small Host, NL", "x": "y"}).encode()))
    assert load_as_names(j) == {64500: "SMALLHOST Small Host, NL"}
    c = tmp_path / "asns.csv"
    c.write_text('asn,name,class,cc\nAS64500,"Small Host, B.V.",Content,NL\nASX,bad,,\n')
    assert load_as_names(c) == {64500: "Small Host, B.V."}
    with pytest.raises(UserError, match="not found"):
        load_as_names(tmp_path / "missing.csv")
    (tmp_path / "junk.csv").write_text("a,b\n1,2\n")
    with pytest.raises(UserError, match="no AS names"):
        load_as_names(tmp_path / "junk.csv")


def test_real_bgptools_dump_names_aws(shared_data: Path) -> None:
    names = load_as_names(shared_data / "asn_names" / "bgptools_opendb" / "asns_2026-05-31.csv.gz")
    assert names[16509] == "Amazon.com, Inc."
    assert len(names) > 100_000


def test_long_tail_providers_are_named_by_their_as(con, asndb) -> None:  # type: ignore[no-untyped-def]
    reg = registry.load()
    sid = crawl_fake(con, asndb, reg)
    assert store_names(con, sid, {64500: "Small Host", 1: "unused"}, [64500, 16509], "test") == 1
    attribution.attribute(con, sid, reg)
    names = dict(con.execute("select provider, name from providers where snapshot_id = ?", [sid]).fetchall())
    assert names["as64500"] == "AS64500 Small Host"
