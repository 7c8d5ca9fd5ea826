"""The Python SDK against the contract: the same cases as the TypeScript SDK's tests."""
import hashlib
import json
from pathlib import Path

import pytest

from agentrunbook import AssignmentError, read_assignment, write_report


def files(tmp_path: Path, **contents: object) -> Path:
    for name, value in contents.items():
        path = tmp_path / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value if isinstance(value, str) else json.dumps(value))
    return tmp_path


def env_for(directory: Path, **extra: str) -> dict:
    return {
        "AGENT_STAGE": "research",
        "AGENT_RUNBOOK": "rb",
        "AGENT_NAMESPACE": "team",
        "AGENT_ATTEMPT": "2",
        "AGENT_OUTPUTS": '{"summary": "string"}',
        "AGENT_FILES_DIR": str(directory),
        **extra,
    }


def test_reads_the_files_before_the_environment_and_resolves_file_references(tmp_path: Path) -> None:
    directory = files(
        tmp_path,
        **{
            "inputs.json": {"idea": "x", "report": {"$file": "outputs/normalize/report"}},
            "parameters.json": {"depth": 2},
            "budget.json": {"tokens": 100, "costUSD": "0.50", "deadlineSeconds": 30},
            "outputs__normalize__report": {"long": "text" * 10},
        },
    )
    work = read_assignment(env_for(directory, AGENT_INPUTS='{"idea": "from env"}', AGENT_VERSION="1.2.0"))
    assert work.stage == "research" and work.agent == "research" and work.attempt == 2
    assert work.version == "1.2.0"
    assert work.inputs == {"idea": "x", "report": {"long": "text" * 10}}
    assert work.parameters == {"depth": 2}
    assert work.budget == {"tokens": 100, "costUSD": "0.50", "deadlineSeconds": 30}
    assert work.outputs == {"summary": "string"}
    assert work.llm is None
    assert work.workspaces == {}


def test_falls_back_to_the_environment_without_files(tmp_path: Path) -> None:
    work = read_assignment(
        env_for(
            tmp_path,
            AGENT_INPUTS='{"idea": "env"}',
            AGENT_PARAMETERS='{"p": 1}',
            AGENT_BUDGET='{"tokens": 5}',
            AGENT_LLM='{"baseURL": "http://x/v1", "model": "m", "price": {}}',
            AGENT_WORKSPACES='{"source": "/workspace/source"}',
        )
    )
    assert work.workspaces == {"source": "/workspace/source"}
    assert work.inputs == {"idea": "env"} and work.parameters == {"p": 1} and work.budget == {"tokens": 5}
    assert work.llm == {"baseURL": "http://x/v1", "model": "m", "price": {}}


@pytest.mark.parametrize("path", ["../secret", "/etc/passwd", "outputs/../../x"])
def test_refuses_a_file_reference_outside_the_files(tmp_path: Path, path: str) -> None:
    directory = files(tmp_path / "files", **{"inputs.json": {"x": {"$file": path}}})
    with pytest.raises(AssignmentError, match="outside"):
        read_assignment(env_for(directory))


def test_says_which_file_is_missing_or_not_json(tmp_path: Path) -> None:
    directory = files(tmp_path, **{"inputs.json": {"x": {"$file": "outputs/a/b"}}})
    with pytest.raises(AssignmentError, match="ConfigMap of the output it passes was deleted"):
        read_assignment(env_for(directory))
    broken = files(tmp_path / "broken", **{"inputs.json": "{not json"})
    with pytest.raises(AssignmentError, match="inputs.json is not JSON"):
        read_assignment(env_for(broken))
    with pytest.raises(AssignmentError, match="AGENT_STAGE is not set"):
        read_assignment({})


def test_writes_a_small_report_to_the_termination_message_with_resources(tmp_path: Path) -> None:
    report_path = tmp_path / "termination-log"
    lines: list = []
    write_report(
        {"outputs": {"summary": "ok"}, "usage": {"tokens": 7, "costUSD": "0.01"}},
        {"AGENT_REPORT_PATH": str(report_path)},
        lines.append,
    )
    written = json.loads(report_path.read_text())
    assert written["outputs"] == {"summary": "ok"} and written["usage"]["tokens"] == 7
    assert written["resources"]["memoryPeakBytes"] > 0
    assert lines == []


def test_sends_a_large_report_through_one_log_line_and_keeps_usage_in_the_message(tmp_path: Path) -> None:
    report_path = tmp_path / "termination-log"
    lines: list = []
    answer = "é" * 200 * 1024
    write_report(
        {"outputs": {"answer": answer}, "usage": {"tokens": 9}, "error": {"class": "API_ERROR"}},
        {"AGENT_REPORT_PATH": str(report_path)},
        lines.append,
    )
    [line] = lines
    prefix, size, digest, text = line.split(" ", 3)
    assert prefix == "agentrunbook.report"
    assert int(size) == len(text.encode("utf-8"))
    assert digest == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert json.loads(text)["outputs"]["answer"] == answer
    message = json.loads(report_path.read_text())
    assert "outputs" not in message
    assert message["reportInLog"] == {"bytes": int(size), "sha256": digest}
    assert message["usage"] == {"tokens": 9} and message["error"] == {"class": "API_ERROR"}


def test_refuses_a_report_whose_envelope_alone_is_too_large(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="without its outputs is still"):
        write_report(
            {"outputs": {}, "error": {"class": "API_ERROR", "message": "x" * 5000}},
            {"AGENT_REPORT_PATH": str(tmp_path / "t")},
            lambda line: None,
        )
