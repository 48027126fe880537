"""Probes on the INIT path (standard library only): they measure and write into what the
owner hands them (process start, runtime-client hooks, import tracer, sandbox state file)."""
