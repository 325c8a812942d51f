"""Channel adapters: Telegram, WhatsApp Cloud API and the terminal chat."""
