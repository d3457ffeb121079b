import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/signoff.js', import.meta.url));

/** What every signoff these tests start is told unless a test says otherwise: its receivers listen on 127.0.0.1. */
const TEST_ENV = { SIGNOFF_WEBHOOK_ALLOW: '127.0.0.1/32' };

/** A port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A running `signoff` command whose output can be waited on. */
export interface CliRun {
  /** Resolves with the first match of `pattern` in stderr; rejects if the command ends first. */
  stderrMatching(pattern: RegExp): Promise<RegExpExecArray>;
  readonly done: Promise<CliResult>;
}

/** Starts the built `signoff` command (`input` on its stdin); it is killed if it runs longer than `timeoutMs`. */
export function startCli(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
  input?: string,
): CliRun {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...TEST_ENV, ...env },
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  child.stdin?.end(input);
  let stdout = '';
  let stderr = '';
  let ended = false;
  const watchers = new Set<() => void>();
  const notify = () => {
    for (const watch of watchers) watch();
  };
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
    notify();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      ended = true;
      notify();
      resolve({ code, stdout, stderr });
    });
  });
  return {
    done,
    stderrMatching(pattern) {
      return new Promise((resolve, reject) => {
        const watch = () => {
          const match = pattern.exec(stderr);
          if (!match && !ended) return;
          watchers.delete(watch);
          if (match) resolve(match);
          else reject(new Error(`signoff ${args.join(' ')} ended without printing ${pattern}:\n${stderr}`));
        };
        watchers.add(watch);
        watch();
      });
    },
  };
}

/** Runs the built `signoff` command to completion. */
export function runCli(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<CliResult> {
  return startCli(args, env, timeoutMs).done;
}

/** Starts `signoff serve` and resolves once it says it is listening. */
export async function startServerProcess(
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [BIN, 'serve'], {
    env: { ...process.env, ...TEST_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = `http://127.0.0.1:${env.SIGNOFF_PORT}`;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`signoff did not start:\n${output}`)), timeoutMs);
      const read = (chunk: Buffer) => {
        output += chunk;
        // `serve` prints this once the port is open.
        if (/signoff is listening on /.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', read);
      child.stderr?.on('data', read);
      child.once('close', () => {
        clearTimeout(timer);
        reject(new Error(`signoff exited early:\n${output}`));
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return { child, url, output: () => output };
}

/** Sends a signal and waits for the process to be gone. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  await exited;
}

export interface Answer {
  readonly status: number;
  readonly body: string;
  /** `Date.now()` when the answer's headers arrived. */
  readonly at: number;
}

/**
 * Sends a GET and resolves once the request has been handed to the connection, with its
 * answer still to come: for long polls, whose answer is the point of the test.
 */
export function sendGet(url: string, headers: Record<string, string>): Promise<{ answer: Promise<Answer> }> {
  let written: () => void = () => {};
  const sent = new Promise<void>((resolve) => {
    written = resolve;
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => {
      const at = Date.now();
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, at }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.on('finish', written);
    req.end();
  });
  // A request that fails before it is written fails the send; later failures belong to the answer.
  return Promise.race([sent.then(() => ({ answer })), answer.then(() => ({ answer }))]);
}
