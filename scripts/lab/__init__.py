"""The hermetic lab: a generated world of real-looking sites served by real DNS servers, an RDAP
server and a web endpoint on loopback, with its ground truth (DESIGN.md, "The lab").

- :mod:`scripts.lab.world`: the world generator (list, zone, pyasn db, truth);
- :mod:`scripts.lab.webplan`, :mod:`scripts.lab.thirdparty`, :mod:`scripts.lab.web`: the world's
  web (what each host serves, third-party hosts, the HTTP truth) and :mod:`scripts.lab.certs`,
  its certificate authorities;
- :mod:`scripts.lab.servers`: Knot and Unbound configs and processes;
- :mod:`scripts.lab.http_server` (run by :mod:`scripts.lab.http_main`): the web endpoint, HTTP
  and HTTPS on loopback; :mod:`scripts.lab.http_bench` measures it;
- :mod:`scripts.lab.api`: ``up`` / ``down`` / ``status`` (behind ``chokepoints lab``);
- :mod:`scripts.lab.testing`: ``running_lab`` for tests.
"""
