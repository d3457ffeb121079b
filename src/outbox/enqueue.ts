import { insertOutbox } from '../store/outbox.js';
import type { UnitOfWork } from '../unit-of-work/context.js';
import type { OutboxKind, OutboxPayloads } from './kinds.js';

export interface EnqueueOptions {
  /**
   * A stable id makes a retried step queue the message once (a repeated id changes
   * nothing); a fresh one is made otherwise.
   */
  readonly id?: string | undefined;
  /** When to deliver it; now unless given. */
  readonly dueAt?: Date | undefined;
}

/** Queues one message in the unit's transaction, next to the state change that causes it. */
export async function enqueue<K extends OutboxKind>(
  unit: UnitOfWork,
  kind: K,
  payload: OutboxPayloads[K],
  options: EnqueueOptions = {},
): Promise<void> {
  const dueAt = options.dueAt ?? unit.now;
  await insertOutbox(unit.db, {
    id: options.id ?? unit.newId('msg'),
    approvalId: payload.approvalId,
    kind,
    payload: JSON.stringify(payload),
    createdAt: unit.now,
    dueAt,
  });
  if (dueAt <= unit.now) unit.afterCommit.wakeDispatcher();
}
