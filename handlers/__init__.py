"""Channel-neutral conversations."""
