// Webhook receivers on loopback, as a waiting workflow would run them: they check each
// Standard Webhooks signature, de-duplicate on `webhook-id`, and now and then answer 500 or
// never answer (signoff's own SIGNOFF_HTTP_TIMEOUT bounds that).
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';

/** How long a hanging answer holds its socket before dropping it: longer than signoff waits. */
const HANG_MS = 10_000;

/**
 * Starts `count` receivers sharing one record of what arrived. `failRate` and `hangRate` are
 * the chances that an answer is a 500 or never comes.
 */
export async function startReceivers({ count, secret, failRate, hangRate, random }) {
  const verifier = new Webhook(secret);
  /** webhook-id → the event it carries and how often it was answered 2xx. */
  const events = new Map();
  /** approval id → the events of it that arrived. */
  const byApproval = new Map();
  const stats = { requests: 0, answered500: 0, hung: 0, badSignatures: 0, duplicates: 0 };
  const servers = [];
  const sockets = new Set();

  function handle(req, res) {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      stats.requests++;
      const body = Buffer.concat(chunks).toString('utf8');
      let event;
      try {
        event = verifier.verify(body, req.headers);
      } catch {
        stats.badSignatures++;
        res.writeHead(400).end();
        return;
      }
      const roll = random();
      if (roll < hangRate) {
        stats.hung++;
        setTimeout(() => res.destroy(), HANG_MS).unref();
        return;
      }
      if (roll < hangRate + failRate) {
        stats.answered500++;
        res.writeHead(500).end('not now');
        return;
      }
      const id = req.headers['webhook-id'];
      const known = events.get(id);
      if (known) {
        known.deliveries++;
        stats.duplicates++;
      } else {
        const record = {
          type: event.type,
          approvalId: event.data?.id,
          status: event.data?.status,
          deliveries: 1,
          firstAt: Date.now(),
        };
        events.set(id, record);
        const list = byApproval.get(record.approvalId) ?? [];
        list.push(record);
        byApproval.set(record.approvalId, list);
      }
      res.writeHead(200).end('ok');
    });
  }

  for (let i = 0; i < count; i++) {
    const server = createServer(handle);
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
  }

  return {
    urls: servers.map((s) => `http://127.0.0.1:${s.address().port}/hook`),
    events,
    stats,
    /** Events of one type delivered for an approval, keyed by webhook-id. */
    delivered(approvalId, type) {
      return (byApproval.get(approvalId) ?? []).filter((e) => e.type === type);
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    },
  };
}
