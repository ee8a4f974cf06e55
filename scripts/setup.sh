#!/usr/bin/env bash
# Install what chokepoints needs on a fresh Debian/Ubuntu machine: the DNS servers the lab and
# the tests run (Knot, Unbound), dnsperf for the benchmark, Chromium for the HTML report's
# headless-browser test, and the Python package with its dev extras into the current Python.
# Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pair in knotd:knot unbound:unbound dnsperf:dnsperf chromium:chromium redis-server:redis-server; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/${pair%%:*}" ] || need+=("${pair##*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # The packages enable system services; the lab starts its own instances on free ports.
  for svc in knot unbound redis-server; do
    $sudo systemctl disable --now "$svc" >/dev/null 2>&1 || $sudo service "$svc" stop >/dev/null 2>&1 || true
  done
fi
python3 -m pip install -q --disable-pip-version-check -e '.[dev]'
echo "setup: ok ($(command -v chokepoints))"
