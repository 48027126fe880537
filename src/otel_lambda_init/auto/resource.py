"""``opentelemetry_resource_detector`` entry point: the sandbox's ``cloud.*``/``faas.*``.

The wrapper adds it to ``OTEL_EXPERIMENTAL_RESOURCE_DETECTORS`` when it hands over to
``opentelemetry-instrument``, so the distro's TracerProvider carries the same Resource.
"""

from __future__ import annotations

from opentelemetry.sdk.resources import Resource, ResourceDetector

from .._core.environment import read_environment


class LambdaSandboxResourceDetector(ResourceDetector):
    """Resource attributes Lambda's variables tell about this sandbox."""

    def detect(self) -> Resource:
        return Resource(read_environment().resource_attributes())
