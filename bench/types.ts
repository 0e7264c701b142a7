/**
 * What every benchmark takes and returns. Each benchmark lives in bench/<name>.ts and exports
 * `run(options: BenchOptions): Promise<BenchReport>`; `attune bench <name>` (src/cli/commands/bench.ts) loads it.
 * The types live here, below the CLI, so bench/* never imports the CLI.
 */
export interface BenchOptions {
  json: boolean;
  /** Smaller sizes, for a smoke run (CI, first look). */
  quick: boolean;
  /** Skip the peer (e.g. PyTorch) even if it is importable. */
  noPeer: boolean;
}

export interface BenchReport {
  name: string;
  /** Free-form figures, e.g. { train_ms_per_step: 12.3, ratio_vs_torch: 1.8 } */
  figures: Record<string, number | string | null>;
  /** Human-readable lines already printed, kept for the JSON report. */
  notes: string[];
}

/** A benchmark module: bench/<name>.ts. */
export interface BenchModule {
  run(options: BenchOptions): Promise<BenchReport>;
}
