"""A demo of the product without a bot token: a coffee chain's 90 days of feedback,
generated deterministically (`plan`), written through the bot's services (`live`) or in
bulk for benchmarks (`bulk`), and served by `otklik demo`."""
