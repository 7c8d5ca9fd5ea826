/** Reading an agent's report (its termination message, and its log for a large one) and checking it against the stage. */
import type { StageReason } from '../../api/reasons.js';
import { Ajv } from 'ajv';
import { createHash } from 'node:crypto';
import {
  AgentReport,
  MAX_OUTPUT_BYTES,
  MAX_REPORT_BYTES,
  REPORT_ENVELOPE_BYTES,
  REPORT_LINE_PREFIX,
  TERMINATION_MESSAGE_LIMIT,
} from '../../api/agent-contract.js';
import { ERROR_CLASSES } from '../../api/v2/error-class.js';
import type { OUTPUT_TYPES } from '../../api/v2/agents.js';
import { jsonShapeProblem, MAX_TOKENS } from '../../api/limits.js';
import { microsFromReport } from '../../api/grammar.js';
import type { JobObservation } from '../model/types.js';

export type ErrorClass = (typeof ERROR_CLASSES)[number];
export type OutputType = (typeof OUTPUT_TYPES)[number];

export interface Report {
  outputs: Record<string, unknown>;
  tokens: number;
  costMicros: number;
  resources?: Resources;
  error?: { class: ErrorClass; message?: string };
}

export interface Resources {
  memoryPeakBytes?: number;
  cpuSeconds?: number;
}

/** Most CPU seconds one report may claim (about 31 years): bounds what sums of them can reach. */
const MAX_CPU_SECONDS = 1e9;

export interface Problem {
  reason: StageReason;
  message: string;
}

const validateReport = new Ajv({ strict: true }).compile<AgentReport>(AgentReport);

/**
 * A report, or why there is none. A report whose outputs could not be read from the log has both:
 * its usage and error (from the termination message) still count, and the problem fails the stage.
 */
export type ParsedReport = { report: Report; problem?: Problem } | { problem: Problem };

const parsedReports = new WeakMap<JobObservation, ParsedReport>();

/** A Job's report, parsed once however many stages and breakers read it. */
export function reportOf(job: JobObservation): ParsedReport {
  let parsed = parsedReports.get(job);
  if (!parsed) {
    parsed = parseReport(job.terminationMessage, job.reportLog);
    parsedReports.set(job, parsed);
  }
  return parsed;
}

/**
 * The outputs of a report the agent put in its log: the line must carry exactly the bytes and
 * sha256 its termination message announced, and stay within the limit.
 */
function outputsFromLog(
  announced: { bytes: number; sha256: string },
  log: JobObservation['reportLog'],
): { outputs: Record<string, unknown> } | { problem: Problem } {
  const fail = (reason: StageReason, message: string) => ({ problem: { reason, message } });
  if (announced.bytes > MAX_REPORT_BYTES) {
    return fail(
      'ReportTooLarge',
      `the agent's report is ${announced.bytes} bytes, over the limit of ${MAX_REPORT_BYTES} bytes (${MAX_OUTPUT_BYTES} for outputs, ${REPORT_ENVELOPE_BYTES} for the rest)`,
    );
  }
  if (!log) return fail('ReportLogMissing', "the agent's report is in its log, which was not read");
  if ('error' in log) return fail('ReportLogUnreadable', `the agent's log could not be read: ${log.error}`);
  const [prefix, bytes, sha256] = log.line.split(' ', 3);
  const json = log.line.slice(`${prefix} ${bytes} ${sha256} `.length);
  if (prefix !== REPORT_LINE_PREFIX || Number(bytes) !== announced.bytes || sha256 !== announced.sha256) {
    return fail(
      'ReportLogMissing',
      `the agent's log has no report line of ${announced.bytes} bytes with sha256 ${announced.sha256}`,
    );
  }
  if (
    Buffer.byteLength(json) !== announced.bytes ||
    createHash('sha256').update(json).digest('hex') !== sha256
  ) {
    return fail('ReportLogCorrupt', `the report line in the agent's log does not match its size and sha256`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    return fail('ReportLogCorrupt', `the report in the agent's log is not JSON: ${(error as Error).message}`);
  }
  const outputs = (parsed as { outputs?: unknown } | null)?.outputs;
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    (outputs !== undefined && (typeof outputs !== 'object' || outputs === null || Array.isArray(outputs)))
  ) {
    return fail('ReportLogCorrupt', "the report in the agent's log has no outputs object");
  }
  return { outputs: (outputs ?? {}) as Record<string, unknown> };
}

export function parseReport(message: string | undefined, log?: JobObservation['reportLog']): ParsedReport {
  if (message === undefined || message.trim() === '') {
    return {
      problem: {
        reason: 'TerminationMessageMissing',
        message: 'the agent wrote no report to its termination message',
      },
    };
  }
  const bytes = Buffer.byteLength(message);
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch (error) {
    // Kubernetes cuts termination messages at 4 KiB, so a cut report no longer parses.
    if (bytes >= TERMINATION_MESSAGE_LIMIT) {
      return {
        problem: {
          reason: 'TerminationMessageTooLarge',
          message: `the agent's report is ${bytes} bytes, over the ${TERMINATION_MESSAGE_LIMIT}-byte termination message limit`,
        },
      };
    }
    return {
      problem: {
        reason: 'TerminationMessageMalformed',
        message: `the agent's report is not JSON: ${(error as Error).message}`,
      },
    };
  }
  if (bytes > TERMINATION_MESSAGE_LIMIT) {
    return {
      problem: {
        reason: 'TerminationMessageTooLarge',
        message: `the agent's report is ${bytes} bytes, over the ${TERMINATION_MESSAGE_LIMIT}-byte termination message limit`,
      },
    };
  }
  if (!validateReport(parsed)) {
    const detail = (validateReport.errors ?? [])
      .map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`)
      .join('; ');
    return {
      problem: {
        reason: 'TerminationMessageMalformed',
        message: `the agent's report does not follow the contract: ${detail}`,
      },
    };
  }
  const costMicros = parsed.usage?.costUSD === undefined ? 0 : microsFromReport(parsed.usage.costUSD);
  if (costMicros === undefined) {
    return {
      problem: {
        reason: 'TerminationMessageMalformed',
        message: `the agent's report has an invalid usage.costUSD: ${JSON.stringify(parsed.usage?.costUSD)}`,
      },
    };
  }
  let outputs = parsed.outputs ?? {};
  let logProblem: Problem | undefined;
  if (parsed.reportInLog) {
    const fromLog = outputsFromLog(parsed.reportInLog, log);
    if ('problem' in fromLog) logProblem = fromLog.problem;
    else outputs = fromLog.outputs;
  }
  const shape = jsonShapeProblem(outputs, ['outputs']);
  if (shape) {
    return {
      problem: {
        reason: 'TerminationMessageMalformed',
        message: `the agent's report is too large to use: ${shape.field} ${shape.message}`,
      },
    };
  }
  const report: Report = {
    outputs,
    tokens: Math.min(MAX_TOKENS, parsed.usage?.tokens ?? 0),
    costMicros,
  };
  const resources = reportedResources(parsed.resources);
  if (resources) report.resources = resources;
  if (parsed.error) report.error = reportedError(parsed.error);
  return logProblem ? { report, problem: logProblem } : { report };
}

/** The attempt's resources as reported, each bounded. */
function reportedResources(resources: AgentReport['resources']): Resources | undefined {
  if (resources?.memoryPeakBytes === undefined && resources?.cpuSeconds === undefined) return undefined;
  return {
    ...(resources.memoryPeakBytes === undefined
      ? {}
      : { memoryPeakBytes: Math.min(MAX_TOKENS, resources.memoryPeakBytes) }),
    ...(resources.cpuSeconds === undefined
      ? {}
      : { cpuSeconds: Math.min(MAX_CPU_SECONDS, resources.cpuSeconds) }),
  };
}

/** The error the agent reports, its class one the contract knows (else UNKNOWN). */
function reportedError(error: NonNullable<AgentReport['error']>): NonNullable<Report['error']> {
  const known = (ERROR_CLASSES as readonly string[]).includes(error.class);
  return {
    class: known ? (error.class as ErrorClass) : 'UNKNOWN',
    ...(error.message === undefined ? {} : { message: error.message }),
  };
}

function jsonType(value: unknown): OutputType | 'null' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value as OutputType;
}

function matches(value: unknown, declared: OutputType): boolean {
  const actual = jsonType(value);
  return actual === declared || (declared === 'number' && actual === 'integer');
}

/** The first declared output that is missing or of the wrong JSON type. */
export function checkOutputs(
  declared: Record<string, OutputType>,
  outputs: Record<string, unknown>,
): Problem | undefined {
  for (const [name, type] of Object.entries(declared)) {
    if (!Object.hasOwn(outputs, name)) {
      return {
        reason: 'OutputMissing',
        message: `the agent did not report the declared output ${name} (${type})`,
      };
    }
    if (!matches(outputs[name], type)) {
      return {
        reason: 'OutputTypeMismatch',
        message: `output ${name} is declared ${type} but the agent reported ${jsonType(outputs[name])}`,
      };
    }
  }
  return undefined;
}
