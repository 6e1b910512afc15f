"""Importers: real LLM telemetry -> a ``task: generation`` telemetry lake (``workbench import``).

Reads OTLP JSON span exports (the OpenTelemetry Collector's file exporter) with ``gen_ai.*`` or
OpenInference attributes, Arize Phoenix's span export, and Langfuse observation exports; writes one
row per LLM call with the canonical role columns, unknown attributes as ``attr.*`` columns, and
lineage/prompts.csv from the prompt versions seen. Never writes to its input.
"""

from workbench.importers.importer import FORMATS, ImportResult, detect_format, import_telemetry

__all__ = ["import_telemetry", "ImportResult", "detect_format", "FORMATS"]
