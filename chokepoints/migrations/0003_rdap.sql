-- 0003: RDAP networks, a cache shared by all snapshots (an address inside a cached network is
-- never asked again). One row per lookup: the network the server named (status OK), or, for a
-- failure, the asked address alone (start_num = end_num) with its status. Rows whose status is
-- transient (RATE_LIMITED, TIMEOUT, NETWORK_ERROR, MALFORMED, HTTP_5xx) are asked again by a
-- later run and replaced by its answer.
create table rdap_networks (
    rir         varchar,                 -- arin | ripe | apnic | lacnic | afrinic (IANA bootstrap)
    server      varchar,                 -- base URL asked
    query_ip    varchar not null,        -- the address whose lookup produced the row
    family      tinyint not null,        -- 4 | 6
    start_num   uhugeint not null,       -- first address of the range, as an integer
    end_num     uhugeint not null,       -- last address of the range
    handle      varchar,                 -- the network's handle (RIPE: "193.0.0.0 - 193.0.7.255")
    cidr        varchar,                 -- the range as CIDRs, ", "-joined
    name        varchar,                 -- the network's name
    org         varchar,                 -- the registrant entity's name (vCard fn)
    country     varchar,
    net_type    varchar,                 -- e.g. DIRECT ALLOCATION, ASSIGNED PA
    parent_handle varchar,
    status      varchar not null,        -- OK, NOT_FOUND, RATE_LIMITED, HTTP_<code>, MALFORMED, TIMEOUT, NETWORK_ERROR
    error       varchar,                 -- what went wrong, for a failure
    requests    smallint,                -- HTTP requests the lookup sent (429 retries, redirects)
    elapsed_ms  double,
    snapshot_id integer,                 -- the snapshot whose naming asked (provenance only)
    fetched_at  timestamp not null,
    raw         json                     -- the answer as received (OK only)
);
