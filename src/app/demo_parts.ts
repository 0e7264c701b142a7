/**
 * The parts of `attune demo` beyond av-align and av-sync, one entry each (the app-level twin of the model
 * registry): what the part shows, and a function that trains and evaluates it in a reduced setting under its own
 * folder and returns report sections plus a summary whose `headline` the terminal prints. A new part is one entry.
 */
import type { Section } from '../report/spec.js';

export const DEMO_PARTS = ['align', 'sync', 'favor'] as const;
export type DemoPart = (typeof DEMO_PARTS)[number];

export interface ExtraPartContext {
  /** the part's own folder under the demo's --out */
  out: string;
  seed: number;
  quick: boolean;
  quiet: boolean;
}

export interface ExtraPartResult {
  /** one paragraph for the report: what ran and how to read the sections */
  text: string;
  sections: Section[];
  summary: Record<string, unknown> & { headline: string };
}

export interface ExtraPart {
  title: string;
  about: string;
  run(ctx: ExtraPartContext): Promise<ExtraPartResult>;
}

export const EXTRA_DEMO_PARTS: Record<Exclude<DemoPart, 'align' | 'sync'>, ExtraPart> = {
  favor: {
    title: 'FAVOR: questions about a video (design source 001)',
    about: 'FAVOR on AVQA scenes: full model, no synchronization and question-only, then test questions with attention per window',
    async run(ctx) {
      const { runFavorDemo } = await import('./favor_demo.js');
      const r = await runFavorDemo({ out: ctx.out, quiet: ctx.quiet, seeds: [ctx.seed + 1], ...(ctx.quick ? { epochs: 2, examples: 3 } : {}) });
      const full = r.rows[0]?.metrics['test.acc']?.mean;
      const headline = `test accuracy of full FAVOR ${full === undefined ? 'n/a' : full.toFixed(3)} over all question families (table in the report)`;
      return {
        text: 'A small FAVOR model (per-frame visual and audio encoders, frame-level synchronization, a windowed causal Q-Former and a small language model) trained on short AVQA scenes, next to the same model without synchronization and a question-only model that sees nothing. The second table answers a few test questions and shows how much of each answer came from each window.',
        sections: r.sections,
        summary: { headline, seconds: r.seconds, rows: r.rows.map((row) => ({ name: row.name, accuracy: row.metrics['test.acc']?.mean ?? null })) },
      };
    },
  },
};
