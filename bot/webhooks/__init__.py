"""Outgoing webhooks: events written with their causes (`events`), signed per the
Standard Webhooks spec (`signing`), managed endpoints (`endpoints`) and their own
delivery worker (`delivery`), apart from the Telegram outbox."""
