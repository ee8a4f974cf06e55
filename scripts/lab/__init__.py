"""The hermetic lab: a generated world of real-looking sites served by real DNS servers on
loopback, with its ground truth (DESIGN.md, "The lab").

- :mod:`scripts.lab.world`: the world generator (list, zone, pyasn db, truth);
- :mod:`scripts.lab.servers`: Knot and Unbound configs and processes;
- :mod:`scripts.lab.api`: ``up`` / ``down`` / ``status`` (behind ``chokepoints lab``);
- :mod:`scripts.lab.testing`: ``running_lab`` for tests.
"""
