"""Templates from the registry only; parameters checked field by field with the runner's rules."""

from __future__ import annotations

import json

import pytest
from tornado.httpclient import HTTPClientError


async def _post(jp_fetch, *parts, body):
    return await jp_fetch(*parts, method="POST", body=json.dumps(body))


async def _error(jp_fetch, *parts, body, code=400):
    with pytest.raises(HTTPClientError) as err:
        await _post(jp_fetch, *parts, body=body)
    assert err.value.code == code, err.value.response.body
    return json.loads(err.value.response.body)


async def test_templates_lists_builtin_and_user_templates(jp_fetch, templates_dir):
    r = await jp_fetch("workbench", "api", "templates", params={"templates_dir": templates_dir})
    found = {t["name"]: t for t in json.loads(r.body)["templates"]}
    assert found["incident-triage"]["source"] == "builtin" and found["tiny"]["source"] == "user"
    tiny = found["tiny"]
    assert tiny["description"] == "Tiny (a test template)."
    assert tiny["parameters"]["n"] == {"type": "int", "default": "3", "help": "how many"}
    assert tiny["parameters"]["title"]["default"] == '"a title"'  # the literal, as papermill reads it
    assert "output_dir" not in tiny["parameters"]  # the runner fills it
    r = await jp_fetch("workbench", "api", "templates")
    assert "tiny" not in {t["name"] for t in json.loads(r.body)["templates"]}


async def test_unknown_template_is_refused_with_the_valid_names(jp_fetch, templates_dir, lake_in_root):
    doc = await _error(jp_fetch, "workbench", "api", "templates", "nope", "validate",
                       body={"params": {}, "templates_dir": templates_dir}, code=404)
    assert "unknown template 'nope'" in doc["message"] and "tiny" in doc["message"]
    # a path is not a template name
    for name in ("../templates/tiny.ipynb", "tiny.ipynb", "/etc/passwd"):
        doc = await _error(jp_fetch, "workbench", "api", "notebooks",
                           body={"template": name, "lake": lake_in_root, "templates_dir": templates_dir}, code=404)
        assert doc["field"] == "template"


async def test_valid_parameters_are_coerced(jp_fetch, templates_dir, lake_in_root):
    r = await _post(jp_fetch, "workbench", "api", "templates", "tiny", "validate",
                    body={"params": {"n": 5, "ratio": 1, "title": 2.0, "since": "2026-03-12T00:00Z",
                                     "lake": lake_in_root}, "templates_dir": templates_dir})
    doc = json.loads(r.body)
    assert doc == {"ok": True, "params": {"n": 5, "ratio": 1, "title": "2.0", "since": "2026-03-12T00:00Z",
                                          "lake": lake_in_root}}


async def test_bad_parameters_name_their_field(jp_fetch, templates_dir, lake_in_root):
    doc = await _error(jp_fetch, "workbench", "api", "templates", "tiny", "validate",
                       body={"params": {"bogus": 1, "n": "three", "flag": 1, "since": "yesterday-ish",
                                        "ratio": 0.25}, "templates_dir": templates_dir})
    assert doc["ok"] is False
    errors = doc["errors"]
    assert set(errors) == {"bogus", "n", "flag", "since"}
    assert "no parameter 'bogus'" in errors["bogus"]
    assert "must be int" in errors["n"] and "'three'" in errors["n"]
    assert "must be bool" in errors["flag"]
    assert "is not a time" in errors["since"] and "ISO-8601" in errors["since"]
    assert doc["field"] in errors and doc["message"]
    # the same rules refuse a job before anything starts
    doc = await _error(jp_fetch, "workbench", "api", "jobs",
                       body={"template": "tiny", "lake": lake_in_root, "params": {"n": "three"},
                             "templates_dir": templates_dir})
    assert doc["errors"] == {"n": errors["n"]}


async def test_lake_parameter_must_be_a_lake_under_the_root(jp_fetch, templates_dir, jp_root_dir):
    (jp_root_dir / "plain").mkdir()
    doc = await _error(jp_fetch, "workbench", "api", "templates", "tiny", "validate",
                       body={"params": {"lake": "plain"}, "templates_dir": templates_dir})
    assert set(doc["errors"]) == {"lake"} and "workbench.yaml" in doc["errors"]["lake"]
    doc = await _error(jp_fetch, "workbench", "api", "templates", "tiny", "validate",
                       body={"params": {"lake": "../x"}, "templates_dir": templates_dir})
    assert set(doc["errors"]) == {"lake"}


async def test_bad_bodies_are_400(jp_fetch):
    for body in ("not json", "[1, 2]"):
        with pytest.raises(HTTPClientError) as err:
            await jp_fetch("workbench", "api", "triage", method="POST", body=body)
        assert err.value.code == 400 and "JSON" in json.loads(err.value.response.body)["message"]
