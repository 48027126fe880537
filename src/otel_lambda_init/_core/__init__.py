"""The pure core: vocabulary, configuration, sandbox facts, timeline, records, classification.

Standard library only, no OpenTelemetry, no clock reads: every time is an explicit integer
of nanoseconds since the epoch, passed in by the probes that measured it.
"""
