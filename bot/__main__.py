"""`python -m bot` is the same as the `otklik` command."""

import sys

from bot.cli import main

sys.exit(main())
