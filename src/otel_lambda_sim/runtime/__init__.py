"""Files the simulator copies into a sandbox's runtime directory (its /var/runtime)."""
