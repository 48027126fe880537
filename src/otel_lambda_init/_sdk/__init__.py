"""Adapters to the OpenTelemetry SDK: init span emission, handler wrapper, processor,
sampler, metrics, exporter. Nothing below this layer imports OpenTelemetry."""
