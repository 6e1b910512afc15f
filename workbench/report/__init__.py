"""Reports: the template registry, the Papermill runner, and the calls templates make.

``run_report("incident-triage", lake=..., params={...}, out=...)`` writes ``report.ipynb``,
an offline ``report.html`` and ``findings.json``; ``list_templates()`` shows what is available;
``rerun_report("out/x/report.ipynb", out=...)`` runs an old report again and says what changed.
"""

from workbench.report.params import parse_cli_params, validate_params
from workbench.report.demo import demo_lake, lake_or_demo
from workbench.report.evidence_charts import canary_chart, cause_charts
from workbench.report.llm_sections import (
    RagHealth, culprit_calls, culprit_proxies, llm_lineage_chart, llm_triage, rag_health, rag_health_chart,
)
from workbench.report.provenance import environment
from workbench.report.rerun import RerunResult, rerun_report
from workbench.report.runner import ReportError, ReportResult, lake_fingerprint, run_report, to_offline_html
from workbench.report.sections import (
    Markdown, action_items, bias_audit, canary_review, drift_study, evidence_table, hypotheses_table, latency_study,
    model_health, narrative, next_steps, postmortem, publish, setup, symptoms_table, timeline_chart_for,
    verdicts_table, worst_segment_chart,
)
from workbench.report.studies import BiasStudy, CanaryReview, DriftStudy, HealthStudy, LatencyStudy, Postmortem, Study
from workbench.report.templates import Template, find_template, list_templates
from workbench.report.interactive import _register
from workbench.tables import table

_register()  # alt.renderers.enable("workbench") (also an entry point); enabling it is the notebook's choice

__all__ = ["culprit_calls", "culprit_proxies", "llm_lineage_chart", "llm_triage", "RagHealth", "rag_health", "rag_health_chart",
           "action_items", "BiasStudy", "bias_audit", "CanaryReview", "canary_chart", "canary_review", "cause_charts",
           "demo_lake", "drift_study", "DriftStudy", "environment", "evidence_table", "HealthStudy", "lake_or_demo", "LatencyStudy", "Postmortem",
           "Study",
           "find_template", "hypotheses_table", "lake_fingerprint", "latency_study", "list_templates",
           "Markdown", "model_health", "narrative", "next_steps", "parse_cli_params", "postmortem", "publish",
           "ReportError", "ReportResult", "rerun_report", "RerunResult", "run_report", "setup",
           "symptoms_table", "table", "Template", "timeline_chart_for", "to_offline_html", "validate_params", "verdicts_table",
           "worst_segment_chart"]
