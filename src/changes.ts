import { EventEmitter } from 'node:events';

/**
 * Tells waiters that an approval changed. In-process on SQLite; a PostgreSQL
 * adapter can implement the same port with LISTEN/NOTIFY.
 */
export interface ApprovalChanges {
  publish(approvalId: string): void;
  subscribe(approvalId: string, listener: () => void): () => void;
}

/** The single-process implementation. */
export function createLocalChanges(): ApprovalChanges {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    publish: (approvalId) => {
      emitter.emit(approvalId);
    },
    subscribe: (approvalId, listener) => {
      emitter.on(approvalId, listener);
      return () => emitter.off(approvalId, listener);
    },
  };
}
