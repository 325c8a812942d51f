"""Lingkaran Cinta bot: ``python bot.py ...`` is ``lingkaran ...`` (see ``lingkaran.cli``).

python bot.py chat [--db PATH] [--user ID] [--lang id|en]
python bot.py telegram | whatsapp | serve
python bot.py admin ...        (see `python bot.py admin --help`)
"""

from __future__ import annotations

import sys

from lingkaran.cli import main

if __name__ == "__main__":
    sys.exit(main())
