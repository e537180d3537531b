/**
 * A barrier driven by a local program (a GPIO tool, a relay CLI): each
 * command runs `program` with `args`, where `{lane}`, `{command}` and
 * `{reason}` are filled in, through execFile: no shell, so a value can
 * never be read as shell syntax.
 *
 * Guarantees: ok:true only when the program exited with code 0 before
 * `timeoutMs` (default 1000); otherwise ok:false naming the exit code or
 * signal and the head of its stderr, or that it could not be started. On
 * the timeout the child is killed (SIGKILL) and the command answers at
 * once. Never throws. `close()` kills the children still running and
 * waits for them to exit.
 */
import { execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { BarrierCommand, BarrierContext, BarrierDriver, BarrierResult } from './barrier-driver.js';
import { elapsedMs } from './barrier-driver.js';
import { fillTemplate } from './template.js';

export interface CommandBarrierOptions {
  program: string;
  args?: string[];
  timeoutMs?: number;
}

const STDERR_HEAD = 200;
const MAX_OUTPUT = 64 * 1024;

function stderrHead(stderr: string): string {
  const text = stderr.replace(/\s+/g, ' ').trim();
  if (!text) return '';
  return `: ${text.length > STDERR_HEAD ? `${text.slice(0, STDERR_HEAD)}...` : text}`;
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

export class CommandBarrier implements BarrierDriver {
  readonly kind = 'command';
  readonly timeoutMs: number;
  private readonly program: string;
  private readonly args: string[];
  private readonly running = new Map<ChildProcess, () => void>();
  private closed = false;

  constructor(options: CommandBarrierOptions) {
    this.program = options.program;
    this.args = [...(options.args ?? [])];
    this.timeoutMs = options.timeoutMs ?? 1000;
  }

  send(command: BarrierCommand, context: BarrierContext): Promise<BarrierResult> {
    const startedAt = performance.now();
    const fail = (error: string): BarrierResult => ({ ok: false, error, afterMs: elapsedMs(startedAt) });
    if (this.closed) return Promise.resolve(fail('command driver is closed'));
    const args = this.args.map((a) => fillTemplate(a, command, context));
    const name = this.program;

    return new Promise<BarrierResult>((resolve) => {
      let settled = false;
      let child: ChildProcess | undefined;
      const finish = (r: BarrierResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      const kill = (): void => {
        if (child && !exited(child)) child.kill('SIGKILL');
      };
      const timer = setTimeout(() => {
        finish(fail(`${name} did not finish in ${this.timeoutMs} ms (killed)`));
        kill();
      }, this.timeoutMs);
      try {
        child = execFile(
          this.program,
          args,
          { encoding: 'utf8', maxBuffer: MAX_OUTPUT, windowsHide: true },
          (err, _stdout, stderr) => {
            if (!err) return finish({ ok: true, ackMs: elapsedMs(startedAt) });
            const e = err as NodeJS.ErrnoException & { code?: string | number; signal?: string | null };
            if (typeof e.code === 'number')
              return finish(fail(`${name} exited with code ${e.code}${stderrHead(stderr)}`));
            if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
              return finish(fail(`${name} wrote more than ${MAX_OUTPUT} bytes and was killed`));
            }
            if (e.signal) return finish(fail(`${name} was killed by ${e.signal}${stderrHead(stderr)}`));
            if (typeof e.code === 'string') return finish(fail(`cannot run ${name}: ${e.code}`));
            finish(fail(`${name} failed: ${e.message}`));
          },
        );
      } catch (err) {
        finish(fail(`cannot run ${name}: ${err instanceof Error ? err.message : String(err)}`));
        return;
      }
      const started = child;
      started.stdin?.end();
      this.running.set(started, () => {
        finish(fail('command driver closed'));
        kill();
      });
      started.once('exit', () => this.running.delete(started));
      started.once('error', () => this.running.delete(started));
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const children = [...this.running.entries()];
    await Promise.all(
      children.map(
        ([child, stop]) =>
          new Promise<void>((resolve) => {
            if (exited(child) || child.pid === undefined) return resolve();
            child.once('exit', () => resolve());
            stop();
          }),
      ),
    );
  }
}
