-- 0007: the HTTP layer — home pages, their redirect hops, headers and certificates, the hosts
-- a page makes every visitor's browser load, and those hosts' DNS answers.
--
-- http_outcomes: exactly one HTTP outcome per site of a crawl with HTTP (NO_ADDRESS when DNS
--   gave the site no address). `address` is what DNS gave for the final hop's host: the
--   address recorded and attributed (in lab mode the connection went to the lab endpoint).
-- http_hops: every request made for a site's home page, in order: a failed https attempt before
--   the http fallback, each redirect, the final response; a hop never connected to carries
--   BLOCKED (private, loopback, link-local, multicast or reserved address).
-- http_headers: the response headers of each hop, one row per header line, names lower case.
-- tls_certificates: the leaf certificate of each https hop (also when verification failed).
-- page_resources: hosts the final page references (script, link, img, iframe, source).
-- host_answers: DNS answers for the distinct hosts of page_resources (A and AAAA, with their
--   CNAME chains), asked once per snapshot; same columns as dns_answers with `host` for
--   `domain`.

create table http_outcomes (
    snapshot_id integer not null,
    domain      varchar not null,
    status      varchar not null,        -- OK | NO_ADDRESS | BLOCKED | TIMEOUT | CONNECT_ERROR | TLS_ERROR | TLS_INVALID | HTTP_ERROR | ROBOTS_DISALLOWED | TOO_MANY_REDIRECTS | ERROR
    start_url   varchar,
    final_url   varchar,
    http_status smallint,
    address     varchar,
    hops        smallint,
    body_bytes  integer,
    truncated   boolean,
    resources   integer,                 -- distinct hosts the final page references
    elapsed_ms  double,
    error       varchar,
    measured_at timestamp
);

create table http_hops (
    snapshot_id integer not null,
    domain      varchar not null,
    hop         smallint not null,       -- 0 = first request
    url         varchar not null,
    host        varchar,
    address     varchar,                 -- the address DNS gave for host
    connected   varchar,                 -- ip:port actually connected to (null: none)
    status      varchar not null,
    http_status smallint,
    location    varchar,                 -- Location of a redirect, as sent
    tls_version varchar,
    cert_sha256 varchar,
    body_bytes  integer,
    elapsed_ms  double,
    error       varchar
);

create table http_headers (
    snapshot_id integer not null,
    domain      varchar not null,
    hop         smallint not null,
    position    smallint not null,
    name        varchar not null,
    value       varchar
);

create table tls_certificates (
    snapshot_id  integer not null,
    domain       varchar not null,
    hop          smallint not null,
    host         varchar,
    sha256       varchar not null,
    issuer_org   varchar,
    issuer_cn    varchar,
    subject_cn   varchar,
    sans         varchar[],
    not_before   timestamp,
    not_after    timestamp,
    serial       varchar,
    verified     boolean not null,
    verify_error varchar
);

create table page_resources (
    snapshot_id integer not null,
    domain      varchar not null,
    host        varchar not null,
    tag         varchar not null,        -- script | link | img | iframe | source
    count       integer not null,        -- references of this host by this tag
    third_party boolean not null         -- host outside the site's registrable domain
);

create table host_answers (
    snapshot_id integer not null,
    host        varchar not null,
    qname       varchar not null,
    qtype       varchar not null,
    status      varchar not null,
    position    smallint,
    rname       varchar,
    rtype       varchar,
    value       varchar,
    ttl         integer,
    attempts    smallint,
    transport   varchar,
    elapsed_ms  double
);
