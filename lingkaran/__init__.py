"""Lingkaran Cinta bot: the composition root, settings, command line and channel adapters.

``lingkaran.channels`` holds the adapters (Telegram, WhatsApp, terminal, admin CLI, outbox
dispatcher, scheduler); ``lingkaran.app`` builds everything from one ``Settings`` and one clock.
"""
