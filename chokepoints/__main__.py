"""``python -m chokepoints`` runs the command line."""

from chokepoints.cli import main

main()
