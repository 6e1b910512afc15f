"""Getting a SparkSession: the caller's own, or one built from a master URL.

``local[2]`` and ``spark://host:7077`` build a classic session; ``sc://host:15002`` a Spark
Connect one (``SparkSession.builder.remote``). Either way the session time zone is set to UTC:
the lake's contract reads naive times as UTC, and buckets are cut in UTC.
"""

from __future__ import annotations

from typing import Any

from workbench.exceptions import SparkNotInstalledError, UsageError

__all__ = ["QUANTILE_ERROR", "require_pyspark", "spark_session"]

#: relative error of the approximate quantiles (``DataFrame.approxQuantile``) that fit the
#: numeric bins on Spark: an edge meant for quantile q lies between the ranks (q ± 0.001) × n
QUANTILE_ERROR = 0.001
_APP_NAME = "workbench"


def require_pyspark():
    """Import pyspark, or raise :class:`SparkNotInstalledError` naming the extra to install."""
    try:
        import pyspark
        import pyspark.sql  # noqa: F401
    except ImportError as exc:
        raise SparkNotInstalledError(
            f"the Spark engine needs pyspark, which is not installed ({exc})",
            expected="pyspark >= 4.0", found="no importable pyspark",
            hint="pip install 'ml-incident-workbench[spark]' (Java 17 or later must be on the machine), "
                 "or open the lake with engine='polars'.") from None
    return pyspark


def spark_session(spark: Any = None, *, shuffle_partitions: int | None = None, config: dict | None = None):
    """A SparkSession: ``spark`` itself when it is one, else one for the master URL ``spark``
    (``local[2]``, ``spark://...``, ``sc://...`` for Spark Connect; ``None`` means ``local[*]``);
    ``config`` adds Spark settings to a session built here.

    Raises
    ------
    SparkNotInstalledError
        pyspark is not installed.
    UsageError
        ``spark`` is neither a session nor a master URL.
    """
    require_pyspark()
    from pyspark.sql import SparkSession

    if spark is not None and not isinstance(spark, str):
        if not hasattr(spark, "createDataFrame") or not hasattr(spark, "conf"):
            raise UsageError("`spark` must be a SparkSession or a master URL", column="spark",
                             expected="a SparkSession, 'local[2]', 'spark://host:7077' or 'sc://host:15002'",
                             found=type(spark).__name__)
        session = spark
    else:
        master = (spark or "local[*]").strip()
        if not master.startswith(("local", "spark://", "sc://", "yarn", "k8s://", "mesos://")):
            raise UsageError("unknown Spark master URL", column="spark-master",
                             expected="local[N], spark://host:port, sc://host:port (Spark Connect), yarn or k8s://...",
                             found=repr(master)[:80])
        builder = SparkSession.builder.appName(_APP_NAME)
        builder = builder.remote(master) if master.startswith("sc://") else builder.master(master)
        builder = builder.config("spark.sql.session.timeZone", "UTC")
        if not master.startswith("sc://"):
            builder = builder.config("spark.ui.enabled", "false")
        if shuffle_partitions:
            builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        for k, v in (config or {}).items():
            builder = builder.config(k, str(v))
        session = builder.getOrCreate()
    session.conf.set("spark.sql.session.timeZone", "UTC")
    return session
