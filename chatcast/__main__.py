"""Allow ``python -m chatcast``."""

from chatcast.cli import main

main()
