-- 0005: all evidence is kept, the chosen provider is derived (DESIGN.md, "Attribution").
--
-- address_providers: who each address of a snapshot belongs to, by the strongest evidence
--   (published range > origin AS > RDAP registrant), with the range's service and region.
-- evidence: every piece of evidence per site, layer and *unit* — the thing observed: an address
--   (hosting), a name-server host (dns), a CNAME target (cdn), a mail exchanger (email).
--   `dependencies` is this table aggregated to one row per (site, layer, provider); what-if
--   outages work on units (a site's hosting is down when every one of its addresses is).

create table address_providers (
    snapshot_id    integer not null,
    ip             varchar not null,
    provider       varchar not null,
    evidence       varchar not null,   -- published_range | asn | rdap
    evidence_value varchar,            -- the prefix, the ASN, the RDAP handle
    service        varchar,
    region         varchar
);

create table evidence (
    snapshot_id    integer not null,
    domain         varchar not null,
    layer          varchar not null,
    unit           varchar not null,
    provider       varchar not null,
    evidence       varchar not null,
    evidence_value varchar,
    service        varchar,
    region         varchar,
    private        boolean not null default false,
    rule           tinyint not null    -- strength: lower is stronger
);
