"""The GitHub Actions workflow that reviews a prompt change in the pull request
(``.github/workflows/reasoning.yml``): valid against the GitHub workflow JSON schema
(SchemaStore's, as the ``check-jsonschema`` package ships it: ``--builtin-schema
vendor.github-workflows``), and shaped as the README describes (read with PyYAML)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

WORKFLOW = Path(__file__).resolve().parent.parent / ".github" / "workflows" / "reasoning.yml"


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    try:
        import check_jsonschema  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("check-jsonschema is missing under CI; it is in the test extra")
        pytest.skip("check-jsonschema is missing: pip install check-jsonschema")
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                           str(path)], capture_output=True, text=True, timeout=60)


def test_the_workflow_is_valid_against_the_github_workflow_schema():
    result = _validate(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text(encoding="utf-8").replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest"),
                      encoding="utf-8")
    assert _validate(broken).returncode != 0


def _load() -> dict:
    yaml = pytest.importorskip("yaml")
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def _runs(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_replay_job_reports_in_the_pull_request():
    data = _load()
    assert set(data["on"]) == {"pull_request", "workflow_dispatch"}
    job = data["jobs"]["replay"]
    assert job["runs-on"] == "ubuntu-latest" and job["permissions"]["pull-requests"] == "write"
    run = _runs(job)
    assert "python -m pytest example_tests" in run
    assert "--reasoning-report=reasoning-report.md" in run and "--reasoning-html=reasoning-report.html" in run
    uses = {step.get("uses", "").split("@")[0]: step for step in job["steps"]}
    comment = uses["marocchino/sticky-pull-request-comment"]
    assert comment["with"] == {"header": "reasoning-report", "path": "reasoning-report.md"}
    assert "!cancelled()" in comment["if"]  # posted when tests fail too: that is when it matters
    artifact = uses["actions/upload-artifact"]
    assert "reasoning-report.html" in artifact["with"]["path"] and "!cancelled()" in artifact["if"]


def test_gpu_job_rerecords_with_unsloth_and_pushes():
    job = _load()["jobs"]["rerecord"]
    assert "self-hosted" in job["runs-on"] and "gpu" in job["runs-on"]
    assert "workflow_dispatch" in job["if"] and "re-record" in job["if"]
    assert job["permissions"] == {"contents": "write"}
    run = _runs(job)
    for flag in ("--reasoning-backend=unsloth", "--reasoning-record-mode=all", "--snapshot-update"):
        assert flag in run
    assert "$TESTS" in run and "${{" not in run  # inputs reach the shell through env, never spliced in
    assert "git add -- example_tests/cassettes snapshots" in run and 'git push origin "HEAD:$BRANCH"' in run
