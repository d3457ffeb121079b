// The driver's HTTP client: every request it sends is counted with what became of it, and a
// request that meets a killed instance or a 5xx is sent again, as a real client would.
import { request as httpRequest } from 'node:http';

/**
 * A request is sent again for as long as the chaos lasts (instances down, the database
 * restarting); only one still unanswered after this long counts as lost.
 */
const RETRY_FOR_MS = 300_000;

export class ConnectionError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'ConnectionError';
  }
}

export class LostRequestError extends Error {
  constructor(message) {
    super(message);
    this.name = 'LostRequestError';
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** One HTTP exchange on a fresh connection: no pooled socket can outlive the process it went to. */
function exchange(url, { method, headers, body, timeoutMs }) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', (error) => reject(new ConnectionError(error.message, { cause: error })));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => reject(new ConnectionError(error.message, { cause: error })));
    req.end(body);
  });
}

/**
 * `instances` are the running signoff processes (each with `url`, `state` and an `epoch` that
 * grows at every kill); `outage` says whether a moment lies in the database restart window.
 */
export function createClient({ instances, outage, random, trace = () => {} }) {
  const stats = {
    sent: 0,
    answered: 0,
    byStatus: new Map(),
    connectionErrorsDuringKills: 0,
    unexplainedConnectionErrors: [],
    serverErrorsInRestartWindow: 0,
    serverErrorsOutside: [],
    retried: 0,
    lost: [],
  };

  function pick(preferred, avoid) {
    const up = instances.filter((i) => i.state === 'up');
    if (preferred !== undefined && instances[preferred]?.state === 'up') return instances[preferred];
    const others = up.filter((i) => i !== avoid);
    const choices = others.length > 0 ? others : up;
    return choices.length > 0 ? choices[Math.floor(random() * choices.length)] : undefined;
  }

  /** One attempt on one instance; classifies a failure as the kill's doing or not. */
  async function attempt(instance, options) {
    const epoch = instance.epoch;
    const sentAt = Date.now();
    stats.sent++;
    try {
      const answer = await exchange(`${instance.url}${options.path}`, options);
      stats.answered++;
      stats.byStatus.set(answer.status, (stats.byStatus.get(answer.status) ?? 0) + 1);
      if (answer.status >= 500) {
        if (outage.overlaps(sentAt, Date.now())) stats.serverErrorsInRestartWindow++;
        else
          stats.serverErrorsOutside.push({
            at: new Date(sentAt).toISOString(),
            instance: instance.name,
            request: `${options.method} ${options.path.replace(/\/d\/[^/?]+/, '/d/…')}`,
            status: answer.status,
            body: answer.body.slice(0, 300),
          });
      }
      return answer;
    } catch (error) {
      const duringKill = instance.epoch !== epoch || instance.state !== 'up';
      trace(
        `${new Date(sentAt).toISOString()} ${instance.name} epoch ${epoch}→${instance.epoch} ${instance.state} after ${Date.now() - sentAt} ms: ${options.method} ${options.path.replace(/\/d\/[^/?]+/, '/d/…')}: ${error.message}`,
      );
      // Killed while the request was on its way, or between being chosen and connecting.
      if (duringKill) stats.connectionErrorsDuringKills++;
      else
        stats.unexplainedConnectionErrors.push({
          at: new Date(sentAt).toISOString(),
          instance: instance.name,
          request: `${options.method} ${options.path.replace(/\/d\/[^/?]+/, '/d/…')}`,
          error: error.message,
        });
      throw error;
    }
  }

  /**
   * Sends a request to `target` (an instance index, or any running instance) until it is
   * answered below 500. The answer says whether an earlier attempt may have taken effect
   * (`uncertain`): its connection broke or it answered 5xx.
   */
  async function call({ method = 'GET', path, headers = {}, body, target, timeoutMs = 30_000 }) {
    const deadline = Date.now() + RETRY_FOR_MS;
    let uncertain = false;
    let last;
    let failedOn;
    for (;;) {
      const instance = pick(target, failedOn);
      if (!instance) {
        if (Date.now() > deadline) break;
        await sleep(100);
        continue;
      }
      if (uncertain) stats.retried++;
      try {
        const answer = await attempt(instance, { method, path, headers, body, timeoutMs });
        if (answer.status < 500) return { ...answer, uncertain, instance: instance.name };
        last = `HTTP ${answer.status}`;
      } catch (error) {
        last = error.message;
      }
      uncertain = true;
      failedOn = instance;
      if (Date.now() > deadline) break;
      await sleep(100 + random() * 400);
    }
    const lost = `${method} ${path.replace(/\/d\/[^/?]+/, '/d/…')}: ${last ?? 'no instance came up'}`;
    stats.lost.push(lost);
    throw new LostRequestError(`gave up after ${RETRY_FOR_MS / 1000} s: ${lost}`);
  }

  return { call, stats };
}
