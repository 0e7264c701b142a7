/**
 * A pool worker process (forked by pool.ts): runs one job at a time with the same job functions as every other
 * executor and answers over IPC. It exits when its parent goes away (the IPC channel closes), so a killed
 * `attune` or `attune worker` never leaves workers behind.
 */
import { JobContexts } from './kinds.js';
import { toWireError, type JobRequest } from './types.js';

const contexts = new JobContexts();

process.on('message', (m: { type: 'run'; id: number; req: JobRequest } | { type: 'close' }) => {
  if (m.type === 'close') {
    void contexts.closeAll().finally(() => process.exit(0));
    return;
  }
  void (async () => {
    try {
      const { job, ctx } = await contexts.get(m.req.kind, m.req.options);
      const out = await job.run(ctx, m.req.item);
      process.send!({ type: 'done', id: m.id, out });
    } catch (err) {
      process.send!({ type: 'error', id: m.id, error: toWireError(err) });
    }
  })();
});

process.on('disconnect', () => process.exit(0));
process.send!({ type: 'ready' });
