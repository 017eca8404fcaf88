"""`python -m tests.support.fake_telegram`: the fake server on its own."""

from tests.support.fake_telegram.entities import main

main()
