"""resource_hosts on a table of HTML snippets, and html_like."""

from __future__ import annotations

import os
import random

import pytest

from crawler.http import RESOURCE_TAGS, html_like, resource_hosts

BASE = "https://www.site.test/dir/page.html"

CASES: list[tuple[str, bytes, list[tuple[str, str, int]]]] = [
    (
        "every tag",
        b"""<html><head>
        <script src="https://cdn.js.test/a.js"></script>
        <script src="https://cdn.js.test/b.js"></script>
        <script>var inline = 1;</script>
        <link rel="stylesheet" href="https://fonts.test/css">
        <link rel="dns-prefetch" href="//dns.prefetch.test">
        </head><body>
        <img src="http://img.test/x.png">
        <iframe src="https://frame.test/embed"></iframe>
        <video><source src="https://video.test/v.mp4"></video>
        <a href="https://not-a-resource.test/">link</a>
        <form action="https://nor-this.test/"></form>
        </body></html>""",
        [
            ("cdn.js.test", "script", 2),
            ("dns.prefetch.test", "link", 1),
            ("fonts.test", "link", 1),
            ("frame.test", "iframe", 1),
            ("img.test", "img", 1),
            ("video.test", "source", 1),
        ],
    ),
    (
        "relative refs are the page's host",
        b'<script src="/static/app.js"></script><img src="logo.png"><img src="../up.png"><link href="?v=2">',
        [("www.site.test", "img", 2), ("www.site.test", "link", 1), ("www.site.test", "script", 1)],
    ),
    (
        "base href",
        b'<head><base href="https://static.test/assets/"></head><img src="a.png"><script src="/b.js"></script>'
        b'<img src="https://other.test/c.png">',
        [("other.test", "img", 1), ("static.test", "img", 1), ("static.test", "script", 1)],
    ),
    (
        "relative base href resolves against the page",
        b'<base href="/assets/"><img src="a.png">',
        [("www.site.test", "img", 1)],
    ),
    (
        "a javascript: base href is ignored",
        b'<base href="javascript:alert(1)"><img src="a.png">',
        [("www.site.test", "img", 1)],
    ),
    (
        "srcset",
        b'<img src="https://a.test/1.png" srcset="https://b.test/1x.png 1x, //c.test/2x.png 2x,'
        b'https://d.test/w.png 640w,/rel.png">'
        # a comma without a space after it stays inside the URL (HTML spec): f.test is e.test's path
        b'<picture><source srcset="https://e.test/a.webp,https://f.test/b.webp 2x" type="image/webp"></picture>'
        b'<img srcset="data:image/png;base64,iVBOR,w0KGgo= 1x, https://g.test/x.png (max-width: 1px, y) 2x">',
        [
            ("a.test", "img", 1),
            ("b.test", "img", 1),
            ("c.test", "img", 1),
            ("d.test", "img", 1),
            ("e.test", "source", 1),
            ("g.test", "img", 1),
            ("www.site.test", "img", 1),
        ],
    ),
    (
        "protocol-relative takes the page's scheme",
        b'<script src="//cdn.x.com/a.js"></script><script src="  //CDN.X.COM/b.js  "></script>',
        [("cdn.x.com", "script", 2)],
    ),
    (
        "hosts: upper case, port, trailing dot, userinfo, IPv4 and IPv6 literals",
        b'<img src="HTTPS://Img.Example.COM:8443/a.png"><img src="https://img.example.com./b.png">'
        b'<img src="https://user:pw@img.example.com/c.png"><img src="http://192.0.2.1/d.png">'
        b'<img src="http://[2001:DB8::1]:8080/e.png">',
        [("192.0.2.1", "img", 1), ("2001:db8::1", "img", 1), ("img.example.com", "img", 3)],
    ),
    (
        "IDN host in UTF-8 and already in punycode",
        "<meta charset=utf-8><img src='https://bücher.example/a.png'><img src='https://xn--bcher-kva.example/b'>"
        "<script src='https://MÜNCHEN.example/x.js'></script>".encode(),
        [("xn--bcher-kva.example", "img", 2), ("xn--mnchen-3ya.example", "script", 1)],
    ),
    (
        "IDN host in a legacy encoding declared by meta",
        "<meta http-equiv='Content-Type' content='text/html; charset=iso-8859-1'>"
        "<img src='https://bücher.example/a.png'>".encode("latin-1"),
        [("xn--bcher-kva.example", "img", 1)],
    ),
    (
        "non-http schemes are skipped",
        b'<script src="javascript:void(0)"></script><img src="data:image/gif;base64,R0lGOD">'
        b'<iframe src="about:blank"></iframe><img src="blob:https://www.site.test/uuid">'
        b'<link href="mailto:a@b.test"><img src="ftp://files.test/a.png"><script src="ws://ws.test/"></script>'
        b'<img src=""><img src="   "><script src="https://"></script><img src="http://[::1/x.png">',
        [],
    ),
    (
        "whitespace inside a URL is dropped, as browsers do",
        b'<script src="https://cdn.\nsplit.test/a.js"></script><script src="\thttps://tab.test/a.js"></script>'
        b'<script src="https://sp ace.test/a.js"></script>',  # a space in a host: not a URL
        [("cdn.split.test", "script", 1), ("tab.test", "script", 1)],
    ),
    (
        "malformed HTML",
        b'<html><body><div><img src="https://a.test/1.png"<p><iframe src=\'https://c.test/\'></iframe>'
        b"<table><td><img src=//d.test/2.png></div></span></html><img src=https://e.test/after-html.png>"
        b"<script src=https://b.test/x.js>",
        [("a.test", "img", 1), ("b.test", "script", 1), ("c.test", "iframe", 1), ("d.test", "img", 1),
         ("e.test", "img", 1)],
    ),
    (
        "comments and uppercase tags",
        b'<!-- <script src="https://commented.test/a.js"></script> --><SCRIPT SRC="https://upper.test/a.js"></SCRIPT>',
        [("upper.test", "script", 1)],
    ),
    (
        "xml declaration and xhtml",
        b'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE html><html xmlns="http://www.w3.org/1999/xhtml">'
        b'<body><img src="https://x.test/a.png"/></body></html>',
        [("x.test", "img", 1)],
    ),
    (
        "after </html>, as injected scripts often are",
        b"<html><body><p>a</p></body></html>\n<script src='https://late.test/a.js'></script>"
        b"</HTML ><img src=//x.test/>",
        [("late.test", "script", 1), ("x.test", "img", 1)],
    ),
    (
        "a broken tag swallows what follows, as in a browser",
        b"<img src='https://ok.test/'><p <<img src='https://f.test/' alt='unclosed quote><script src=https://b.test/>",
        [("ok.test", "img", 1)],
    ),
    ("empty body", b"", []),
    ("whitespace body", b"  \r\n\t ", []),
    ("text, no tags", b"just some text", []),
    ("NUL bytes", b"\x00\x00<img src='https://nul.test/a.png'>\x00", [("nul.test", "img", 1)]),
    ("UTF-16 with BOM", '\ufeff<img src="https://wide.test/a.png">'.encode("utf-16"), [("wide.test", "img", 1)]),
    (
        "wrong declared encoding",
        b'<meta charset="no-such-charset"><img src="https://a.test/\xff\xfe.png">',
        [("a.test", "img", 1)],
    ),
    (
        "a codec that is not a text encoding",
        b'<meta charset="rot13"><img src="https://a.test/">',
        [("a.test", "img", 1)],
    ),
]


@pytest.mark.parametrize(("body", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_resource_hosts(body: bytes, expected: list[tuple[str, str, int]]) -> None:
    assert resource_hosts(body, BASE) == expected


def test_content_type_charset_wins_over_default() -> None:
    body = "<img src='https://bücher.example/a.png'>".encode("cp1252")
    assert resource_hosts(body, BASE, "text/html; charset=windows-1252") == [("xn--bcher-kva.example", "img", 1)]


def test_result_is_sorted_and_only_resource_tags() -> None:
    body = b"".join(b'<%s src="https://h%d.test/" href="https://h%d.test/"></%s>' % (t.encode(), i, i, t.encode())
                    for i, t in enumerate(RESOURCE_TAGS * 3))
    result = resource_hosts(body, BASE)
    assert result == sorted(result)
    assert {tag for _, tag, _ in result} == set(RESOURCE_TAGS)


def test_binary_garbage_never_raises() -> None:
    rng = random.Random(20240501)
    for _ in range(50):
        blob = bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 3000)))
        assert isinstance(resource_hosts(blob, BASE), list)
    assert isinstance(resource_hosts(os.urandom(100_000) + b"<img src=//x.test/>", BASE), list)


def test_deep_nesting_does_not_raise() -> None:
    body = b"<div>" * 50_000 + b'<img src="https://deep.test/a.png">' + b"</div>" * 50_000
    assert isinstance(resource_hosts(body, BASE), list)


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ([("content-type", "text/html; charset=utf-8")], b"", True),
        ([("content-type", "application/xhtml+xml")], b"", True),
        ([("content-type", "application/json")], b"<html>", False),
        ([("content-type", "image/png")], b"\x89PNG", False),
        ([], b"\xef\xbb\xbf  <!DOCTYPE html><html>", True),
        ([], b"<HTML><body>", True),
        ([], b'{"a": 1}', False),
        ([], b"", False),
    ],
)
def test_html_like(headers: list[tuple[str, str]], body: bytes, expected: bool) -> None:
    assert html_like(headers, body) is expected
