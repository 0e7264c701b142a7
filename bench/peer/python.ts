/**
 * Python peers of the benches (bench/peer/*.py): finding a Python that can import torch, and running a peer script as
 * a subprocess that takes its settings as one JSON argument and prints its figures as one JSON line last on stdout.
 * A missing torch is not a failure: the bench prints a line and no ratios.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * PyTorch settings a bench may run its peer under: its defaults (on Debian's build OpenMP and OpenBLAS's own pthreads
 * both spin while waiting, which costs a lot on a busy machine) and OMP_WAIT_POLICY=PASSIVE, which matches the
 * engine's default (ORT allow_spinning = 0).
 */
export const PEER_VARIANTS = { default: {}, passive: { OMP_WAIT_POLICY: 'PASSIVE' } } as const;
export type PeerVariant = keyof typeof PEER_VARIANTS;

/** The interpreters tried, in order: `python3` on the PATH first, then Debian's /usr/bin/python3 (python3-torch). */
export const PYTHON_CANDIDATES = ['python3', '/usr/bin/python3'];

/** The first candidate that can `import torch`, or null. */
export function findTorchPython(candidates: readonly string[] = PYTHON_CANDIDATES): string | null {
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
    if (r.status === 0) return py;
  }
  return null;
}

/** A peer's figures: the last non-empty line of its stdout, as JSON (earlier lines are the script's own chatter). */
export function parsePeerOutput<T>(stdout: string): T {
  const last = stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new Error(`PyTorch peer printed no JSON line last (got ${JSON.stringify(last.slice(0, 200))})`);
  }
}

/** Absolute path of bench/peer/<name> (this module compiles to dist/bench/peer/, the scripts stay in the source tree). */
export function peerScript(name: string): string {
  return fileURLToPath(new URL(`../../../bench/peer/${name}`, import.meta.url));
}

/**
 * Runs `script` under `py` with `settings` as its one argument and `threads` OpenMP threads (plus the variant's
 * environment); throws with the tail of its stderr when it fails.
 */
export function runPeer<T>(
  py: string,
  script: string,
  settings: unknown,
  threads: number,
  variant: PeerVariant = 'default',
  timeoutMs = 600_000,
): T {
  const r = spawnSync(py, [script, JSON.stringify(settings)], {
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, OMP_NUM_THREADS: String(threads), ...PEER_VARIANTS[variant] },
  });
  if (r.status !== 0)
    throw new Error(
      `PyTorch peer failed (${py}): ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' | ')}`,
    );
  return parsePeerOutput<T>(r.stdout);
}
