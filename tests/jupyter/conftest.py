"""Fixtures of the server-extension tests: pytest-jupyter's server, with workbench.jupyter enabled.

pytest-jupyter's fixtures (and its autouse event loop) are imported here rather than registered
as a plugin, so they apply to the tests in this folder only.
"""

from __future__ import annotations

import json
import shutil
import textwrap

import nbformat
import pytest
from pytest_jupyter.jupyter_server import *  # noqa: F401,F403 - jp_fetch, jp_serverapp, jp_root_dir, ...

from workbench.synthetic import generate_lake

# terminals off: pytest-jupyter would add them, and their websocket handler has no auth rule of its own
EXT = {"ServerApp": {"jpserver_extensions": {"workbench.jupyter": True, "jupyter_server_terminals": False}}}


@pytest.fixture
def jp_server_config():
    return json.loads(json.dumps(EXT))


@pytest.fixture
def jp_serverapp(jp_server_config, jp_argv, jp_configurable_serverapp, jp_asyncio_loop):
    """pytest-jupyter's server, plus what ``ServerApp.start()`` does after the loop starts: the
    extensions' start hooks (ours starts the loop that reaps and starts report jobs)."""
    app = jp_configurable_serverapp(config=jp_server_config, argv=jp_argv)
    jp_asyncio_loop.run_until_complete(app.extension_manager.start_all_extensions())
    return app


@pytest.fixture(autouse=True)
def jobs_dir(tmp_path, monkeypatch):
    """Each test records its report jobs in its own folder."""
    path = tmp_path / "jobs"
    monkeypatch.setenv("WORKBENCH_JOBS_DIR", str(path))
    return path


@pytest.fixture(scope="session")
def small_lake(tmp_path_factory):
    """A healthy generated lake: 3,000 rows over a week."""
    path = tmp_path_factory.mktemp("lakes") / "small"
    generate_lake(path, rows=3_000, days=7, seed=11)
    return path


@pytest.fixture(scope="session")
def incident_lake(tmp_path_factory):
    """A generated schema-mismatch incident (8,000 rows, 8 days) and its truth."""
    path = tmp_path_factory.mktemp("lakes") / "incident"
    truth = generate_lake(path, cause="schema_mismatch", variant=1, seed=302, rows=8_000, days=8)
    return path, truth


@pytest.fixture
def lake_in_root(jp_root_dir, small_lake):
    """The small lake copied under the server root, at ``lakes/small``."""
    shutil.copytree(small_lake, jp_root_dir / "lakes" / "small")
    return "lakes/small"


def _template(path, params: str, *cells: str, title: str) -> None:
    nb = nbformat.v4.new_notebook()
    first = nbformat.v4.new_code_cell(textwrap.dedent(params).strip())
    first.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\n{title} (a test template)."), first,
                *[nbformat.v4.new_code_cell(textwrap.dedent(c).strip()) for c in cells]]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture
def templates_dir(jp_root_dir):
    """Tiny templates under the root at ``templates/``: one that works, one failing, one slow (for
    cancelling), one of four short steps (to watch per-cell progress)."""
    d = jp_root_dir / "templates"
    d.mkdir()
    params = '''
        lake: str = ""  # the lake
        title: str = "a title"  # shown at the top
        n: int = 3  # how many
        ratio: float = 0.5  # a share
        flag: bool = False  # a switch
        since: str = ""  # window start (ISO-8601)
        output_dir: str = ""  # set by the runner
    '''
    _template(d / "tiny.ipynb", params, "import json, os\ntotal = n * 2",
              "print(title, total)",
              """
              if output_dir:
                  with open(os.path.join(output_dir, "findings.json"), "w") as fh:
                      json.dump({"verdict": {"cause": "none", "score": 0.0}, "total": total}, fh)
              """, title="Tiny")
    _template(d / "broken.ipynb", params, "x = n + 1", "y = x / 0", "print('never')", title="Broken")
    _template(d / "slow.ipynb", params,
              "import os, time",
              "open(os.path.join(output_dir, 'kernel.pid'), 'w').write(str(os.getpid()))",
              "time.sleep(120)", title="Slow")
    _template(d / "steps.ipynb", params, *["import time\ntime.sleep(0.4)"] * 4, title="Steps")
    return "templates"
