-- 0001: the foundation schema. One row per fact; every fact row carries snapshot_id.

create sequence if not exists snapshot_id_seq start 1;

-- One crawl: its inputs pinned (list ID or file hash, data-source versions), its settings,
-- the tool version, and how it ended.
create table snapshots (
    snapshot_id      integer primary key default nextval('snapshot_id_seq'),
    list_name        varchar not null,   -- list family: tranco, radar, crux, file, ...
    list_source      varchar,            -- path or URL the list was read from
    list_id          varchar,            -- e.g. the Tranco list ID
    list_sha256      varchar,            -- of the list file as read
    list_date        date,
    list_format      varchar,
    psl_version      varchar,
    top_n            integer,            -- requested --top (null: whole list)
    sites            integer,            -- entries measured
    list_rejected    integer,
    list_duplicates  integer,
    resolver         varchar,            -- vantage point: HOST:PORT[,HOST:PORT...]
    rib_source       varchar,            -- the pyasn database used (path or URL)
    rib_sha256       varchar,
    rib_date         date,
    registry_version varchar,
    registry_hash    varchar,            -- sha256 of datasets/providers.toml as used
    tool_version     varchar not null,
    settings         json,               -- every setting that shaped the numbers
    stats            json,               -- engine counters at the end
    started_at       timestamp not null,
    finished_at      timestamp,
    status           varchar not null,   -- running | complete | failed | interrupted
    error            varchar
);

create table list_entries (
    snapshot_id integer not null,
    rank        integer not null,
    domain      varchar not null,
    bucket      integer,                 -- rank bucket for bucketed lists (CrUX, Radar), else null
    raw         varchar
);

-- Lines of the list that were not usable, with the reason (first few per snapshot).
create table list_rejects (
    snapshot_id integer not null,
    line_no     integer,
    raw         varchar,
    reason      varchar
);

-- Exactly one DNS outcome per site.
create table site_outcomes (
    snapshot_id integer not null,
    domain      varchar not null,
    status      varchar not null,        -- NOERROR when apex or www resolved to an address
    queries     integer,
    failures    integer,                 -- queries that ended in an error status
    elapsed_ms  double,
    measured_at timestamp
);

-- One row per DNS record received, or one row per query that returned none (its status).
create table dns_answers (
    snapshot_id integer not null,
    domain      varchar not null,        -- the site whose work issued the query
    qname       varchar not null,
    qtype       varchar not null,
    status      varchar not null,        -- NOERROR, NODATA, NXDOMAIN, SERVFAIL, REFUSED, TIMEOUT, ...
    position    smallint,                -- order of the record in the answer (CNAME chain order)
    rname       varchar,                 -- owner name of the record
    rtype       varchar,
    value       varchar,                 -- rdata as text: address, target host, "pref host", SOA fields
    ttl         integer,
    attempts    smallint,
    transport   varchar,                 -- udp | tcp
    elapsed_ms  double
);

-- Origin of every distinct address seen in a snapshot, from the snapshot's dated RIB.
create table ip_origins (
    snapshot_id integer not null,
    ip          varchar not null,
    family      tinyint not null,        -- 4 | 6
    ip_num      uhugeint not null,       -- the address as an integer, for range joins
    prefix      varchar,                 -- most specific announced prefix (null: unrouted)
    asn         integer
);

-- The attribution: a site depends on a provider in a layer, with the evidence that says so.
create table dependencies (
    snapshot_id    integer not null,
    domain         varchar not null,
    layer          varchar not null,     -- hosting | dns | cdn | email
    provider       varchar not null,     -- registry id, as<N>, or a registrable domain
    evidence       varchar not null,     -- asn | cname_suffix | ns_suffix | ns_asn | mx_suffix | self | mx_domain
    evidence_value varchar,              -- the observed value that matched (an ASN, a host name)
    private        boolean not null default false
);

-- Display names of the providers a snapshot's dependencies use.
create table providers (
    snapshot_id integer not null,
    provider    varchar not null,
    name        varchar,
    org         varchar,
    kind        varchar                  -- registry | asn | domain | private
);
