"""The reference LLM agent in Python, on the official ``openai`` client.

The same contract and behaviour as the TypeScript one (src/agent/llm-agent.ts): one chat
completion per stage, at the endpoint and model the agent's ``llm`` block names (AGENT_LLM, with
the model's price), with the API key from LLM_API_KEY. It asks for at most what the budget grant
leaves after the prompt, gives up just before the stage's deadline, reports the tokens the
endpoint counted and their cost, and maps failures to the contract's error classes: 429 to
RATE_LIMIT (QUOTA_EXCEEDED when the quota is spent), 402 to QUOTA_EXCEEDED, 5xx and network
errors to API_ERROR, the deadline to TIMEOUT, any other refusal or an answer that is not the
declared outputs to VALIDATION_ERROR.
"""
from __future__ import annotations

import json
import math
import os
import re
import sys
from decimal import ROUND_CEILING, Decimal
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import openai
from agentrunbook import Assignment, AssignmentError, read_assignment, write_report

API_KEY_ENV = "LLM_API_KEY"
#: Characters per token, to estimate a prompt before the endpoint counts it.
CHARS_PER_TOKEN = 4
PROMPT_PARAMETERS = {"prompt", "systemPrompt", "model", "maxTokens", "temperature"}
FENCED_JSON = re.compile(r"^\s*```(?:json)?\s*([\s\S]*?)\s*```\s*$")


class Failure(Exception):
    def __init__(self, error_class: str, message: str, usage: Optional[Dict[str, Any]] = None):
        super().__init__(message)
        self.error_class = error_class
        self.message = message
        self.usage = usage


def build_messages(work: Assignment) -> List[Dict[str, str]]:
    """Who the agent is and what it must answer, then the task, its inputs and other parameters."""
    declared = list(work.outputs.items())
    system = work.parameters.get("systemPrompt")
    identity = (
        system
        if isinstance(system, str)
        else f"You are {work.agent}, the agent of stage {work.stage} of the runbook {work.runbook}."
    )
    answer_format = (
        " Answer with one JSON object and nothing else, with exactly these keys: "
        + ", ".join(f"{name} ({kind})" for name, kind in declared)
        + "."
        if declared
        else ""
    )
    prompt = work.parameters.get("prompt")
    task = prompt if isinstance(prompt, str) else "Do the work of this stage with the inputs below."
    settings = {name: value for name, value in work.parameters.items() if name not in PROMPT_PARAMETERS}
    sections = [task, "Inputs (JSON):\n" + json.dumps(work.inputs, indent=2, ensure_ascii=False)]
    if settings:
        sections.append("Parameters (JSON):\n" + json.dumps(settings, indent=2, ensure_ascii=False))
    return [
        {"role": "system", "content": identity + answer_format},
        {"role": "user", "content": "\n\n".join(sections)},
    ]


def cost_of(price: Mapping[str, str], prompt: int, completion: int) -> str:
    """Dollars for these tokens at the model's price, rounded up to the micro-dollar."""
    dollars = (
        prompt * Decimal(price["inputPerMillionTokens"]) + completion * Decimal(price["outputPerMillionTokens"])
    ) / Decimal(1_000_000)
    micros = dollars.scaleb(6).to_integral_value(rounding=ROUND_CEILING)
    text = format(micros.scaleb(-6), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def max_tokens_for(work: Assignment, price: Mapping[str, str], prompt_tokens: int) -> Optional[int]:
    """The most completion tokens the grant's tokens and dollars leave after the prompt, and maxTokens."""
    bounds: List[float] = []
    if work.budget.get("tokens") is not None:
        bounds.append(work.budget["tokens"] - prompt_tokens)
    if work.budget.get("costUSD") is not None:
        left = Decimal(work.budget["costUSD"]) * 1_000_000 - prompt_tokens * Decimal(price["inputPerMillionTokens"])
        per_token = Decimal(price["outputPerMillionTokens"])
        if per_token > 0:
            bounds.append(math.floor(left / per_token))
    if isinstance(work.parameters.get("maxTokens"), (int, float)):
        bounds.append(work.parameters["maxTokens"])
    return math.floor(min(bounds)) if bounds else None


def call_timeout_seconds(work: Assignment) -> Optional[float]:
    """The stage's deadline less a margin to write the report in."""
    seconds = work.budget.get("deadlineSeconds")
    if seconds is None:
        return None
    return max(0.001, seconds - min(5.0, seconds * 0.1))


def outputs_of(work: Assignment, answer: str, cut: bool) -> Dict[str, Any]:
    """The declared outputs in the model's answer: a JSON object with their keys, or the text itself."""
    declared = list(work.outputs.items())
    if not declared:
        return {"answer": answer}
    fenced = FENCED_JSON.match(answer)
    try:
        parsed = json.loads(fenced.group(1) if fenced else answer)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        return {name: parsed[name] for name, _ in declared if name in parsed}
    if len(declared) == 1 and declared[0][1] == "string" and not cut:
        return {declared[0][0]: answer}
    if cut:
        raise Failure("QUOTA_EXCEEDED", "the answer was cut at the stage's token limit before it was complete")
    names = ", ".join(name for name, _ in declared)
    raise Failure("VALIDATION_ERROR", f"the model did not answer with a JSON object with {names}")


def _status_failure(error: openai.APIStatusError) -> Failure:
    status = error.status_code
    body = error.body if isinstance(error.body, dict) else {}
    detail = body.get("message") if isinstance(body.get("message"), str) else error.message
    quota = "insufficient_quota" in (body.get("code"), body.get("type"), getattr(error, "code", None))
    if status == 429 and quota:
        return Failure("QUOTA_EXCEEDED", f"the model's quota is spent (429): {detail}")
    if status == 429:
        return Failure("RATE_LIMIT", f"the endpoint is rate limiting (429): {detail}")
    if status == 402:
        return Failure("QUOTA_EXCEEDED", f"the endpoint wants payment (402): {detail}")
    if status >= 500:
        return Failure("API_ERROR", f"the endpoint failed ({status}): {detail}")
    return Failure("VALIDATION_ERROR", f"the endpoint refused the request ({status}): {detail}")


def call_model(
    work: Assignment, settings: Mapping[str, Any], api_key: Optional[str], log: Callable[[str], None]
) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    messages = build_messages(work)
    prompt_tokens = math.ceil(sum(len(message["content"]) for message in messages) / CHARS_PER_TOKEN)
    price = settings["price"]
    max_tokens = max_tokens_for(work, price, prompt_tokens)
    if max_tokens is not None and max_tokens < 1:
        raise Failure(
            "QUOTA_EXCEEDED", f"the prompt alone (about {prompt_tokens} tokens) uses up the stage's budget grant"
        )
    model = settings["model"]
    base_url = str(settings["baseURL"]).rstrip("/")
    timeout = call_timeout_seconds(work)
    client = openai.OpenAI(
        base_url=base_url,
        # The client insists on a key; an endpoint without one ignores it.
        api_key=api_key or "unused",
        # Retries are the operator's (the stage's retry strategy), so every attempt is counted.
        max_retries=0,
        timeout=timeout if timeout is not None else openai.DEFAULT_TIMEOUT,
    )
    extra: Dict[str, Any] = {}
    if max_tokens is not None:
        extra["max_tokens"] = max_tokens
    if isinstance(work.parameters.get("temperature"), (int, float)):
        extra["temperature"] = work.parameters["temperature"]
    bound = "" if max_tokens is None else f" for at most {max_tokens} tokens"
    log(f"calling {model} at {base_url}/chat/completions{bound}")
    try:
        response = client.chat.completions.create(model=model, messages=messages, **extra)
    except openai.APITimeoutError:
        millis = round((timeout or 0) * 1000)
        raise Failure("TIMEOUT", f"{model} did not answer within {millis} ms, the stage's deadline less a margin")
    except openai.APIConnectionError as error:
        cause = error.__cause__ or error
        raise Failure("API_ERROR", f"could not reach {base_url}/chat/completions: {cause}")
    except openai.APIStatusError as error:
        raise _status_failure(error)
    choice = response.choices[0] if response.choices else None
    answer = choice.message.content if choice is not None else None
    if not isinstance(answer, str):
        raise Failure("API_ERROR", "the endpoint answered without a message")
    prompt = response.usage.prompt_tokens if response.usage else prompt_tokens
    completion = response.usage.completion_tokens if response.usage else math.ceil(len(answer) / CHARS_PER_TOKEN)
    usage = {
        "tokens": response.usage.total_tokens if response.usage else prompt + completion,
        "costUSD": cost_of(price, prompt, completion),
    }
    try:
        return outputs_of(work, answer, choice is not None and choice.finish_reason == "length"), usage
    except Failure as failure:
        raise Failure(failure.error_class, failure.message, usage)


def run(env: Optional[Mapping[str, str]] = None, log: Callable[[str], None] = print) -> int:
    """Runs one stage; returns the exit code. Its log lines go to stderr, a large report to stdout."""
    env = os.environ if env is None else env
    try:
        work = read_assignment(env)
        text = env.get("AGENT_LLM", "")
        if not text:
            raise AssignmentError("AGENT_LLM is not set: give the agent's definition an llm block")
        try:
            settings = json.loads(text)
        except ValueError as error:
            raise AssignmentError(f"AGENT_LLM is not JSON: {error}") from None
    except AssignmentError as error:
        write_report({"error": {"class": "VALIDATION_ERROR", "message": str(error)}}, env)
        log(str(error))
        return 1
    try:
        outputs, usage = call_model(work, settings, env.get(API_KEY_ENV), log)
    except Failure as failure:
        report: Dict[str, Any] = {"error": {"class": failure.error_class, "message": failure.message}}
        if failure.usage:
            report["usage"] = failure.usage
        write_report(report, env)
        log(f"stage {work.stage}: {failure.error_class}: {failure.message}")
        return 1
    write_report({"outputs": outputs, "usage": usage}, env)
    log(f"stage {work.stage}: outputs {', '.join(outputs) or '(none)'}; {usage['tokens']} tokens, ${usage['costUSD']}")
    return 0


if __name__ == "__main__":
    sys.exit(run(log=lambda line: print(line, file=sys.stderr, flush=True)))
