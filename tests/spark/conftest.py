"""One local SparkSession for the whole test session (local[2], 2 shuffle partitions, no UI):
starting Spark costs seconds, so every test shares it. Tests skip only when pyspark is not
importable; CI installs it (the `spark` extra is part of `all`).

The session also serves Spark Connect (the connect plugin, on a free port): a client in another
process (``--spark-master sc://localhost:PORT``) runs its queries on this same JVM."""

from __future__ import annotations

import importlib.util
import socket

import pytest

HAVE_PYSPARK = importlib.util.find_spec("pyspark") is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CONNECT_PORT = _free_port()


@pytest.fixture(scope="session")
def spark():
    if not HAVE_PYSPARK:
        pytest.skip("pyspark is not installed (pip install 'ml-incident-workbench[spark]')")
    from workbench.spark import spark_session

    session = spark_session("local[2]", shuffle_partitions=2, config={
        "spark.plugins": "org.apache.spark.sql.connect.SparkConnectPlugin",
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": CONNECT_PORT})
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def connect_url(spark):
    """The Spark Connect address of the test session's JVM."""
    return f"sc://127.0.0.1:{CONNECT_PORT}"
