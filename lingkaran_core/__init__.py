"""Lingkaran Cinta domain core: pure rules, codes and numbers; no chat, no network."""
