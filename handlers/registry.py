"""All flows, and the engine wired with them."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import datetime

from handlers.engine import Engine, Flow
from lingkaran_core.storage import Database

# Each module exposes Flow objects at module level; modules still being written are skipped.
FLOW_MODULES = (
    "handlers.menu",
    "handlers.settings",
    "handlers.info",
    "handlers.link",
    "handlers.my_data",
    "handlers.whom",
    "handlers.household",
    "handlers.coverage",
    "handlers.eligibility",
    "handlers.claim_jkk",
    "handlers.claim_jkm",
    "handlers.beasiswa",
    "handlers.docs",
    "handlers.my_claims",
    "handlers.handover",
    "handlers.assist",
    "handlers.facilitator",
)


def all_flows() -> dict[str, Flow]:
    """Every declared flow by name."""
    flows: dict[str, Flow] = {}
    for name in FLOW_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        for value in vars(module).values():
            if isinstance(value, Flow):
                flows[value.name] = value
    return flows


def build_engine(
    db: Database, *, clock: Callable[[], datetime], track_replies: bool = False
) -> Engine:
    """The engine with every flow and hook (``track_replies`` for channels that confirm sends)."""
    engine = Engine(db, all_flows(), clock=clock, track_replies=track_replies)
    from handlers import link

    # First: an expired link (recycled number) is dropped before any flow can read it.
    engine.before_step.append(link.link_freshness_hook)
    from handlers import language_offer

    # Javanese / Madurese: a press on the offer switches; a message written in it gets the offer.
    engine.before_step.append(language_offer.offer_hook)
    engine.after_step.append(language_offer.add_offer)
    for module_name in ("handlers.facilitator",):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        hook = getattr(module, "bind_code_hook", None)
        if hook is not None:
            engine.before_step.append(hook)
    return engine
