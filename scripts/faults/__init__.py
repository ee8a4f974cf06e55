"""The fault-injection suite: hostile inputs, a misbehaving DNS path, failing RDAP servers, a full
disk, concurrent runs and hostile text, each injected into the real command line on loopback.

- :mod:`scripts.faults.dns_proxy`: a DNS fault proxy in front of the lab's resolver;
- :mod:`scripts.faults.inputs`: hostile top lists and config files;
- :mod:`scripts.faults.harness`: the scenario registry, the context they run in, their rows;
- :mod:`scripts.faults.scenarios`: one module per fault family (each scenario is one entry);
- :mod:`scripts.faults.suite`: runs every scenario and prints the table
  (``python -m scripts.faults.suite``);
- :mod:`scripts.faults.soak`: the 50,000-site lab crawl through the proxy at 10% faults
  (``python -m scripts.faults.soak``).
"""
