"""Apache Spark as the summary engine: the same mergeable :class:`~workbench.summaries.Summary`
objects, computed where the rows are.

pyspark is optional (the ``spark`` extra) and imported only when a lake is opened with
``engine="spark"``::

    lake = wb.open_lake("lake/", engine="spark", spark="local[2]")  # or a SparkSession, spark://, sc://
    wb.triage(lake, ...)                                            # summaries computed by Spark

Only summaries (kilobytes) and bounded samples come back to the driver; see docs/spark.md.
"""

from workbench.spark.session import QUANTILE_ERROR, require_pyspark, spark_session

__all__ = ["QUANTILE_ERROR", "require_pyspark", "spark_session"]
