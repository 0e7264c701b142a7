import type { BenchOptions, BenchReport } from '../src/cli/commands/bench.js';
export async function run(_o: BenchOptions): Promise<BenchReport> { return { name: 'batch', figures: {}, notes: [] }; }
