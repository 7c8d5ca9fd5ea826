/**
 * A child process of the test control plane: its output goes to a log file and a short
 * in-memory tail, so a failure can say what the process printed last.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';

const TAIL_LINES = 40;
const running = new Set<ChildProcess>();

// Children must not outlive the test run, whatever ends it.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export class ManagedProcess {
  private readonly child: ChildProcess;
  private readonly log: WriteStream;
  private readonly tail: string[] = [];
  private partialLine = '';
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly binary: string,
    readonly args: string[],
    readonly port: number,
    readonly logPath: string,
    /** Variables set in its environment, on top of this process's. */
    env: Record<string, string> = {},
  ) {
    this.log = createWriteStream(logPath, { flags: 'a' });
    this.child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    running.add(this.child);
    this.child.stdout?.on('data', (chunk: Buffer) => {
      this.record(chunk);
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.record(chunk);
    });
    this.exited = new Promise((resolve) => {
      this.child.on('error', (error) => {
        this.record(Buffer.from(`failed to start: ${error.message}\n`));
        this.exit ??= { code: null, signal: null };
        running.delete(this.child);
        resolve();
      });
      this.child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        running.delete(this.child);
        resolve();
      });
    });
  }

  private record(chunk: Buffer): void {
    this.log.write(chunk);
    const lines = (this.partialLine + chunk.toString()).split('\n');
    this.partialLine = lines.pop() ?? '';
    this.tail.push(...lines);
    if (this.tail.length > TAIL_LINES) this.tail.splice(0, this.tail.length - TAIL_LINES);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.exit !== undefined;
  }

  /** An error that names the binary, its port, how it ended and the tail of its log. */
  failure(problem: string): Error {
    const ended = this.exit ? ` (exited with ${this.exit.signal ?? `code ${String(this.exit.code)}`})` : '';
    const tail = [...this.tail, this.partialLine].filter((line) => line.length > 0).join('\n');
    return new Error(
      `${this.name} (${this.binary}, port ${this.port}) ${problem}${ended}\n--- last lines of its log ---\n${tail}`,
    );
  }

  /** Asks the process to stop, and kills it if it has not stopped within the grace period. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.hasExited) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    await new Promise<void>((resolve) => this.log.end(resolve));
  }
}
