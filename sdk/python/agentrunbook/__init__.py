"""The agent side of the AgentRunbook contract (src/api/agent-contract.ts), standard library only.

The operator hands a stage's container its assignment as files in a read-only volume
(``/var/run/agentrunbook``: ``inputs.json``, ``parameters.json``, ``budget.json`` and upstream
outputs under ``outputs/<stage>/<output>``) and, when small, in environment variables. An input
that passes a large output whole is a file reference, ``{"$file": "outputs/<stage>/<output>"}``.

The agent writes one JSON report to its termination message (``/dev/termination-log``, at most
4 KiB). A larger report goes to stdout as one line (``agentrunbook.report <bytes> <sha256>
<json>``) and the termination message keeps the rest, with ``reportInLog`` instead of the outputs.

    from agentrunbook import read_assignment, write_report

    work = read_assignment()
    write_report({"outputs": {"summary": work.inputs["idea"][:100]}, "usage": {"tokens": 42}})
"""
from __future__ import annotations

import hashlib
import json
import os
import resource
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, Optional

__all__ = [
    "Assignment",
    "AssignmentError",
    "ENV",
    "FILES_DIR",
    "TERMINATION_MESSAGE_LIMIT",
    "process_resources",
    "read_assignment",
    "write_report",
]

TERMINATION_MESSAGE_PATH = "/dev/termination-log"
TERMINATION_MESSAGE_LIMIT = 4096
REPORT_LINE_PREFIX = "agentrunbook.report"
FILES_DIR = "/var/run/agentrunbook"
FILE_REF = "$file"
FILES = {"inputs": "inputs.json", "parameters": "parameters.json", "budget": "budget.json"}
ENV = {
    "runbook": "AGENT_RUNBOOK",
    "namespace": "AGENT_NAMESPACE",
    "stage": "AGENT_STAGE",
    "agent": "AGENT_NAME",
    "version": "AGENT_VERSION",
    "attempt": "AGENT_ATTEMPT",
    "inputs": "AGENT_INPUTS",
    "parameters": "AGENT_PARAMETERS",
    "outputs": "AGENT_OUTPUTS",
    "budget": "AGENT_BUDGET",
    "report_path": "AGENT_REPORT_PATH",
    "files_dir": "AGENT_FILES_DIR",
    "llm": "AGENT_LLM",
    "workspaces": "AGENT_WORKSPACES",
}


class AssignmentError(Exception):
    """What the operator handed over is not what the contract says: report it, do not guess."""


@dataclass
class Assignment:
    runbook: str
    namespace: str
    stage: str
    agent: str
    attempt: int
    inputs: Dict[str, Any]
    parameters: Dict[str, Any]
    #: Declared outputs, name -> JSON type (string, number, integer, boolean, object, array).
    outputs: Dict[str, str]
    #: What the stage may spend: tokens, costUSD (a decimal string), deadlineSeconds.
    budget: Dict[str, Any]
    version: Optional[str] = None
    #: The LLM settings (baseURL, model, price) when the agent's definition has an llm block.
    llm: Optional[Dict[str, Any]] = field(default=None)
    #: The runbook's workspaces this stage mounts: name -> directory.
    workspaces: Dict[str, str] = field(default_factory=dict)


def _parse(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise AssignmentError(f"{what} is not JSON: {error}") from None


def _read(directory: Path, path: str) -> Optional[str]:
    try:
        return (directory / path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def _json(env: Mapping[str, str], directory: Path, file: str, variable: str, fallback: Any) -> Any:
    text = _read(directory, file)
    if text is not None:
        return _parse(text, str(directory / file))
    value = env.get(variable, "")
    return fallback if value == "" else _parse(value, variable)


def _file_references(value: Any, directory: Path, at: str) -> Any:
    """Replaces each {"$file": path} in the inputs with the JSON of that file under the files dir."""
    if isinstance(value, list):
        return [_file_references(item, directory, f"{at}[{index}]") for index, item in enumerate(value)]
    if not isinstance(value, dict):
        return value
    if len(value) == 1 and isinstance(value.get(FILE_REF), str):
        path = value[FILE_REF]
        root = directory.resolve()
        target = (directory / path).resolve()
        if os.path.isabs(path) or (target != root and root not in target.parents):
            raise AssignmentError(f"input {at} refers to {path}, outside {directory}")
        text = _read(directory, path)
        if text is None:
            raise AssignmentError(
                f"input {at} is the file {directory / path}, which is missing: "
                "the ConfigMap of the output it passes was deleted"
            )
        return _parse(text, str(directory / path))
    return {key: _file_references(item, directory, f"{at}.{key}") for key, item in value.items()}


def read_assignment(env: Optional[Mapping[str, str]] = None) -> Assignment:
    """The stage's assignment, from the files when they are there, else from the environment."""
    env = os.environ if env is None else env
    stage = env.get(ENV["stage"])
    if not stage:
        raise AssignmentError(f"{ENV['stage']} is not set: this program runs as an AgentRunbook stage")
    directory = Path(env.get(ENV["files_dir"], FILES_DIR))
    inputs = _json(env, directory, FILES["inputs"], ENV["inputs"], {})
    outputs = env.get(ENV["outputs"], "")
    llm = env.get(ENV["llm"], "")
    workspaces = env.get(ENV["workspaces"], "")
    return Assignment(
        runbook=env.get(ENV["runbook"], ""),
        namespace=env.get(ENV["namespace"], ""),
        stage=stage,
        agent=env.get(ENV["agent"], stage),
        version=env.get(ENV["version"]) or None,
        attempt=int(env.get(ENV["attempt"], "1")),
        inputs=_file_references(inputs, directory, "inputs"),
        parameters=_json(env, directory, FILES["parameters"], ENV["parameters"], {}),
        outputs=_parse(outputs, ENV["outputs"]) if outputs else {},
        budget=_json(env, directory, FILES["budget"], ENV["budget"], {}),
        llm=_parse(llm, ENV["llm"]) if llm else None,
        workspaces=_parse(workspaces, ENV["workspaces"]) if workspaces else {},
    )


def process_resources() -> Dict[str, Any]:
    """What this process used so far: its peak resident memory and its CPU time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    # ru_maxrss is in KiB on Linux.
    return {
        "memoryPeakBytes": usage.ru_maxrss * 1024,
        "cpuSeconds": round(usage.ru_utime + usage.ru_stime, 3),
    }


def _dumps(value: Any) -> str:
    # The same text as JSON.stringify, so the sha256 the operator checks is of these bytes.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def write_report(
    report: Dict[str, Any],
    env: Optional[Mapping[str, str]] = None,
    log: Optional[Callable[[str], None]] = None,
) -> None:
    """Writes the report where the operator reads it; one over 4 KiB goes to the log as one line."""
    env = os.environ if env is None else env
    full = dict(report)
    full.setdefault("resources", process_resources())
    text = _dumps(full)
    encoded = text.encode("utf-8")
    if len(encoded) > TERMINATION_MESSAGE_LIMIT:
        sha256 = hashlib.sha256(encoded).hexdigest()
        line = f"{REPORT_LINE_PREFIX} {len(encoded)} {sha256} {text}"
        if log is None:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        else:
            log(line)
        rest = {key: value for key, value in full.items() if key != "outputs"}
        rest["reportInLog"] = {"bytes": len(encoded), "sha256": sha256}
        text = _dumps(rest)
        if len(text.encode("utf-8")) > TERMINATION_MESSAGE_LIMIT:
            raise ValueError(
                f"the report without its outputs is still {len(text.encode('utf-8'))} bytes; "
                f"the termination message holds at most {TERMINATION_MESSAGE_LIMIT}"
            )
    Path(env.get(ENV["report_path"], TERMINATION_MESSAGE_PATH)).write_text(text, encoding="utf-8")
