/** core.executeAsModal: the execution context, history suspension and rollback (media/executeasmodal). */
import type { SimState } from './state.js';
import type {
  ExecutionContext,
  HistoryStateInfo,
  HistorySuspension,
  ModalRecord,
  ReportProgressOptions,
} from './types.js';

export function createCore(sim: SimState) {
  return {
    executeAsModal: async <T>(
      fn: (ctx: ExecutionContext, descriptor?: object) => Promise<T>,
      options: { commandName: string; interactive?: boolean },
    ): Promise<T> => {
      // "You can have nested modal scopes. A target function can itself call executeAsModal" (media/executeasmodal).
      if (sim.modal) return fn(sim.modal);
      // Another plugin's (or Photoshop's) modal scope: since 25.10 retried for a second, then rejected, error number 9.
      if (sim.otherModal) {
        await new Promise((r) => setTimeout(r, 20));
        throw Object.assign(new Error(`Plugin: "${sim.otherModal}" is running a modal command`), { number: 9 });
      }
      const record: ModalRecord = {
        commandName: options.commandName,
        interactive: options.interactive === true,
        progress: [],
        shown: [],
      };
      sim.modals.push(record);
      const ctx = {
        isCancelled: false,
        onCancel: undefined as ExecutionContext['onCancel'],
        reportProgress(p: ReportProgressOptions) {
          record.progress.push(p.value ?? NaN);
          if (!sim.modalUiShown?.()) record.shown.push(p.value ?? NaN);
          sim.onProgress?.(p.value ?? NaN, ctx);
        },
        cancel() {
          if (ctx.isCancelled) return;
          ctx.isCancelled = true;
          ctx.onCancel?.({ reason: 'user cancelled' } as never);
        },
        hostControl: {
          suspendHistory: async (info: HistoryStateInfo): Promise<HistorySuspension> => {
            const doc = sim.doc(info.documentID);
            if (doc.suspension) throw new Error('History is already suspended on this document.');
            doc.suspension = { id: sim.suspensionIds++, name: info.name, snapshot: doc.snapshot() };
            return { historySuspensionID: doc.suspension.id };
          },
          resumeHistory: async (s: HistorySuspension, commit = true): Promise<void> => {
            if (ctx.isCancelled) throw new Error('resumeHistory: the user cancelled the operation');
            const doc = sim.documents.find((d) => d.suspension?.id === s.historySuspensionID);
            if (!doc) throw new Error(`No suspended history with id ${s.historySuspensionID} (document closed?)`);
            const susp = doc.suspension!;
            doc.suspension = undefined;
            if (commit) doc.history.push(susp.name);
            else doc.restore(susp.snapshot);
          },
          registerAutoCloseDocument: async () => undefined,
          unregisterAutoCloseDocument: async () => undefined,
        },
      };
      sim.modal = ctx as unknown as ExecutionContext;
      let threw = false;
      try {
        return await fn(ctx as unknown as ExecutionContext);
      } catch (err) {
        threw = true;
        throw err;
      } finally {
        sim.modal = undefined;
        // "If the target function … returns normally, then all unsuspended states are committed. If the target
        // function exits via an exception, then all unsuspended history states are cancelled."
        for (const d of sim.documents) {
          if (d.suspension) {
            if (threw) d.restore(d.suspension.snapshot);
            else d.history.push(d.suspension.name);
            d.suspension = undefined;
          }
        }
      }
    },
  };
}
