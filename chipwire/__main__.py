"""`python -m chipwire` is the `chipwire` command."""

from chipwire.cli import main

main()
