"""`python -m server.cli`: the `pinql` command."""

from server.cli import main

main()
