import { EventEmitter } from 'node:events';

/**
 * Tells waiters that an approval changed. In-process on SQLite; a PostgreSQL
 * adapter can implement the same port with LISTEN/NOTIFY.
 */
export interface ApprovalChanges {
  publish(approvalId: string): void;
  subscribe(approvalId: string, listener: () => void): () => void;
  /**
   * Hears every change, with the approval's id; null when changes may have been missed (a
   * lost LISTEN connection came back), so anything may have changed.
   */
  subscribeAll(listener: (approvalId: string | null) => void): () => void;
}

/** The event every change is also emitted as, for `subscribeAll`. */
const ANY_CHANGE = Symbol('any approval changed');

/** The single-process implementation. */
export function createLocalChanges(): ApprovalChanges {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    publish: (approvalId) => {
      emitter.emit(approvalId);
      emitter.emit(ANY_CHANGE, approvalId);
    },
    subscribe: (approvalId, listener) => {
      emitter.on(approvalId, listener);
      return () => emitter.off(approvalId, listener);
    },
    subscribeAll: (listener) => {
      emitter.on(ANY_CHANGE, listener);
      return () => emitter.off(ANY_CHANGE, listener);
    },
  };
}

/** How many waits (signoff wait, long polls) this process holds on each approval now. */
export interface WaitCounter {
  /** Counts one wait on `approvalId`; call what it returns when the wait ends. */
  enter(approvalId: string): () => void;
  count(approvalId: string): number;
}

/** A page can then say that deciding answers a waiting CLI, as far as this process sees. */
export function createWaitCounter(): WaitCounter {
  const counts = new Map<string, number>();
  return {
    enter: (approvalId) => {
      counts.set(approvalId, (counts.get(approvalId) ?? 0) + 1);
      let left = false;
      return () => {
        if (left) return;
        left = true;
        const rest = (counts.get(approvalId) ?? 1) - 1;
        if (rest > 0) counts.set(approvalId, rest);
        else counts.delete(approvalId);
      };
    },
    count: (approvalId) => counts.get(approvalId) ?? 0,
  };
}
