// signoff processes (`bin/signoff.js serve`) that can be SIGKILLed and started again on the
// same port. Without SMTP, each prints the mails it sends on stderr; they are read from there.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';

const BIN = new URL('../../bin/signoff.js', import.meta.url).pathname;
const MAIL_START = '----- signoff mail';
// A printed mail ends with a line of five dashes and an empty line (src/channels/mailer.ts).
const MAIL = /----- signoff mail[^\n]*\n([\s\S]*?)\n-----\n/;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A printed mail as { to, subject, text }. */
function parseMail(block) {
  const to = /^To: (.*)$/m.exec(block)?.[1] ?? '';
  const subject = /^Subject: (.*)$/m.exec(block)?.[1] ?? '';
  return { to, subject, text: block };
}

/**
 * One signoff instance, started with exactly `env` (plus its port and public URL). `state` is 'up' once it listens, 'down' from the moment it is killed;
 * `epoch` grows at every kill, so a request can tell that its instance died under it.
 */
export function createInstance({ name, port, env, logDir, onMail, log }) {
  const logFile = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
  const instance = {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    state: 'down',
    epoch: 0,
    kills: 0,
    starts: 0,
    failedStarts: 0,
    /** How long each start took, spawn to listening. */
    startMs: [],
    /** Exits nobody asked for: each one is a finding. */
    crashes: [],
    child: undefined,
    /** Set by `halt`: the run is ending, so nothing starts the instance again. */
    halted: false,
    start,
    kill,
    stop,
    halt,
  };

  function spawnOnce() {
    const child = spawn(process.execPath, [BIN, 'serve'], {
      env: { ...env, SIGNOFF_PORT: String(port), SIGNOFF_PUBLIC_URL: instance.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(logFile, { end: false });
    let pending = '';
    let banner = '';
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const listening = new Promise((resolve) => {
      child.stderr.on('data', (chunk) => {
        const text = String(chunk);
        logFile.write(text.replaceAll(/\/d\/[A-Za-z0-9_-]{43}|\/sign-in\/[A-Za-z0-9_-]{43}/g, '/…'));
        if (banner !== undefined) {
          banner += text;
          if (/signoff is listening on /.test(banner)) {
            banner = undefined;
            resolve();
          }
        }
        pending += text;
        for (;;) {
          const match = MAIL.exec(pending);
          if (!match) break;
          onMail(parseMail(match[1]));
          pending = pending.slice(match.index + match[0].length);
        }
        // Keep only what may start a mail still being printed.
        const partial = pending.lastIndexOf(MAIL_START);
        pending = partial === -1 ? '' : pending.slice(partial);
      });
    });
    return { child, exited, listening };
  }

  /** Starts the process, trying again while it exits at start (its database restarting). */
  async function start(deadlineMs = 120_000) {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      if (instance.halted) return;
      const spawnedAt = Date.now();
      const { child, exited, listening } = spawnOnce();
      instance.child = child;
      const first = await Promise.race([listening.then(() => 'listening'), exited]);
      if (first === 'listening') {
        instance.state = 'up';
        instance.starts++;
        instance.startMs.push(Date.now() - spawnedAt);
        void exited.then(({ code, signal }) => {
          if (instance.child !== child || instance.state !== 'up') return;
          instance.state = 'down';
          instance.epoch++;
          instance.crashes.push(`${name} exited on its own (code ${code}, signal ${signal})`);
          log?.(`${name} exited on its own (code ${code}, signal ${signal}); starting it again`);
          void start();
        });
        return;
      }
      instance.failedStarts++;
      if (Date.now() > deadline)
        throw new Error(`${name} did not start within ${deadlineMs / 1000} s (last exit ${first.code})`);
      log?.(`${name} exited at start (code ${first.code}); starting it again`);
      await sleep(500);
    }
  }

  /** SIGKILL: no shutdown, no goodbye. Marked down before the signal, so failures are the kill's. */
  async function kill() {
    const child = instance.child;
    instance.state = 'down';
    instance.epoch++;
    instance.kills++;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  }

  /** Kills the instance for good, even one that is starting. */
  async function halt() {
    instance.halted = true;
    await kill();
  }

  /** SIGTERM at the end: finishes what is in flight; SIGKILL if it takes too long. */
  async function stop() {
    const child = instance.child;
    instance.state = 'down';
    instance.epoch++;
    if (!child || child.exitCode !== null || child.signalCode !== null) return logFile.end();
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await gone;
    clearTimeout(timer);
    logFile.end();
  }

  return instance;
}

/**
 * SIGKILLs a random instance 0.5–3 s after all of them run (so with several, one always serves
 * while another is down: the failover case), and starts it again 0.1–1 s later, until
 * `done()` and at least `minKills` kills. The kills are spread over the work: the next one
 * waits until `progress()` (0 to 1) has reached its share, so a slow machine, where a start
 * takes long, gets as many kills in the middle of the work as a fast one. Resolves once every
 * instance runs again.
 */
export async function runKillLoop({ instances, random, minKills, progress, done, log }) {
  const restarts = [];
  let kills = 0;
  while (!(done() && kills >= minKills)) {
    while (instances.some((i) => i.state !== 'up') || (kills >= minKills * progress() && !done()))
      await sleep(100);
    if (done() && kills >= minKills) break;
    await sleep(500 + random() * 2500);
    const up = instances.filter((i) => i.state === 'up');
    if (up.length < instances.length) continue;
    const victim = up[Math.floor(random() * up.length)];
    await victim.kill();
    kills++;
    const downFor = 100 + random() * 900;
    log(`kill ${kills}: ${victim.name} (SIGKILL), starting again in ${(downFor / 1000).toFixed(1)} s`);
    restarts.push(
      sleep(downFor)
        .then(() => victim.start())
        .then(() =>
          log(`${victim.name} is up again (start took ${(victim.startMs.at(-1) / 1000).toFixed(1)} s)`),
        ),
    );
  }
  await Promise.all(restarts);
  return kills;
}
