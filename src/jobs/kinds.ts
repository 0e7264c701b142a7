/**
 * The job kinds, loaded lazily (a worker that only ever runs sync jobs never loads the retrieval model code).
 * `job` is the function every executor runs; `submitter` is the submitting side (keys, output files, final step).
 */
import { canonicalJson } from '../data/cache.js';
import { InputError } from '../util/errors.js';
import type { JobKind, KindName } from './types.js';
import type { KindSubmitter } from './submit.js';

const KINDS: Record<KindName, () => Promise<{ job: JobKind<any>; submitter: KindSubmitter }>> = {
  sync: async () => {
    const m = await import('./kinds/sync.js');
    return { job: m.syncKind, submitter: m.syncSubmitter };
  },
  features: async () => {
    const m = await import('./kinds/features.js');
    return { job: m.featuresKind, submitter: m.featuresSubmitter };
  },
  index: async () => {
    const m = await import('./kinds/index_kind.js');
    return { job: m.indexKind, submitter: m.indexSubmitter };
  },
};

export const KIND_NAMES = Object.keys(KINDS) as KindName[];

export async function loadKind(name: string): Promise<{ job: JobKind<any>; submitter: KindSubmitter }> {
  const load = KINDS[name as KindName];
  if (!load)
    throw new InputError(`unknown job kind "${name}"; expected one of: ${KIND_NAMES.join(', ')}`, {
      field: 'kind',
      got: name,
    });
  return load();
}

/**
 * Opened job contexts of one process (a loaded model), by kind and options; the least recently used is closed when
 * a worker serves more than `max` different runs.
 */
export class JobContexts {
  private readonly open = new Map<string, Promise<{ job: JobKind<any>; ctx: unknown }>>();
  constructor(private readonly max = 2) {}

  get(kind: string, options: Record<string, unknown>): Promise<{ job: JobKind<any>; ctx: unknown }> {
    const key = `${kind}\n${canonicalJson(options)}`;
    let p = this.open.get(key);
    if (p) {
      this.open.delete(key);
      this.open.set(key, p);
      return p;
    }
    p = (async () => {
      const { job } = await loadKind(kind);
      return { job, ctx: await job.open(options) };
    })();
    this.open.set(key, p);
    p.catch(() => this.open.delete(key));
    while (this.open.size > this.max) {
      const [oldest, q] = this.open.entries().next().value as [string, Promise<{ job: JobKind<any>; ctx: unknown }>];
      this.open.delete(oldest);
      void q.then(({ job, ctx }) => job.close?.(ctx)).catch(() => undefined);
    }
    return p;
  }

  async closeAll(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.all(all.map((p) => p.then(({ job, ctx }) => job.close?.(ctx)).catch(() => undefined)));
  }
}
