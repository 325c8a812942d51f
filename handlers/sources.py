"""Which rule a user-visible sentence states: its source and confidence are in the rules data.

A flow marks a sentence that states a rule where it declares it::

    JKM_PAYS = states(N_("... paling lambat 3 hari kerja ..."), "jkm_payment_working_days")

``states`` returns the msgid unchanged (pybabel still extracts it through ``N_``) and records the
rule names (keys of ``lingkaran_core.rules.RULES``). ``tests/core/test_funding_truth.py`` checks
that every name exists with a source and a confidence, and lists the sentences that state an
UNCONFIRMED rule: those must read hedged ("menurut data Pemkab", "perlu dicek", "biasanya"...).
"""

from __future__ import annotations

from lingkaran_core.rules import RULES

__all__ = ["STATED", "states"]

STATED: dict[str, frozenset[str]] = {}


def states(msgid: str, *rule_names: str) -> str:
    """Record that ``msgid`` states these rules; return ``msgid``."""
    unknown = [n for n in rule_names if n not in RULES]
    if unknown or not rule_names:
        raise KeyError(f"no such rule(s) {unknown} for {msgid[:40]!r}")
    STATED[msgid] = STATED.get(msgid, frozenset()) | frozenset(rule_names)
    return msgid
