import { ConfigError } from '../util/errors.js';

/**
 * Learning-rate schedules. The step graph takes the learning rate as a scalar input, so a schedule is
 * just a host-side function of the step number: changing it never recompiles anything.
 */
export type Schedule = (step: number) => number;

export interface WarmupCosineConfig {
  /** Peak learning rate, reached at the end of warmup. */
  lr: number;
  /** Steps of linear warmup from 0 (step 0 gets lr / warmupSteps, so no step is wasted at lr = 0). */
  warmupSteps: number;
  /** Total steps; after warmup the rate follows a half cosine down to `minLr` at this step. */
  totalSteps: number;
  /** Floor of the cosine (default 0). */
  minLr?: number;
}

/** A constant rate. */
export function constantSchedule(lr: number): Schedule {
  checkRate('lr', lr);
  return () => lr;
}

/** Linear warmup, then cosine decay to `minLr`; constant at `minLr` past `totalSteps`. */
export function warmupCosine(cfg: WarmupCosineConfig): Schedule {
  const { lr, warmupSteps, totalSteps } = cfg;
  const minLr = cfg.minLr ?? 0;
  checkRate('lr', lr);
  checkRate('minLr', minLr);
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0)
    throw new ConfigError(`warmupSteps must be an integer >= 0, got ${warmupSteps}`, { field: 'warmupSteps' });
  if (!Number.isInteger(totalSteps) || totalSteps < warmupSteps) {
    throw new ConfigError(`totalSteps must be an integer >= warmupSteps (${warmupSteps}), got ${totalSteps}`, {
      field: 'totalSteps',
    });
  }
  return (step) => {
    if (step < warmupSteps) return (lr * (step + 1)) / warmupSteps;
    const span = totalSteps - warmupSteps;
    if (span === 0 || step >= totalSteps) return minLr;
    const progress = (step - warmupSteps) / span; // [0, 1)
    return minLr + 0.5 * (lr - minLr) * (1 + Math.cos(Math.PI * progress));
  };
}

function checkRate(field: string, v: number): void {
  if (!Number.isFinite(v) || v < 0) throw new ConfigError(`${field} must be a finite number >= 0, got ${v}`, { field });
}
