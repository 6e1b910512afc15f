"""One local SparkSession for the whole test session (local[2], 2 shuffle partitions, no UI):
starting Spark costs seconds, so every test shares it. Tests skip only when pyspark is not
importable; CI installs it (the `spark` extra is part of `all`)."""

from __future__ import annotations

import importlib.util

import pytest

HAVE_PYSPARK = importlib.util.find_spec("pyspark") is not None


@pytest.fixture(scope="session")
def spark():
    if not HAVE_PYSPARK:
        pytest.skip("pyspark is not installed (pip install 'ml-incident-workbench[spark]')")
    from workbench.spark import spark_session

    session = spark_session("local[2]", shuffle_partitions=2)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
