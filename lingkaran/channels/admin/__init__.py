"""The admin CLI's command modules (``lingkaran admin ...``); the parser is ``admin_cli``."""
