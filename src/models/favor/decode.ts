/**
 * Answer decoding on the host over any "next-token logits for these prefixes" function (the traced model recomputes
 * the whole sequence per step: answers are 1-2 words, so 2-3 steps, and no KV cache is needed). Greedy for a batch,
 * beam search for one prompt (its beams run as one batch).
 */

/** prefixes (token ids) -> logits over the vocabulary for the token after each prefix. */
export type NextLogits = (prefixes: number[][]) => Promise<Float32Array[]>;

export interface DecodeOptions {
  eos: number;
  /** Tokens generated at most (the [EOS] included). */
  maxNew: number;
  /** Beam width (1 = greedy). */
  beam?: number;
  /** Ids never generated (padding and other specials); [EOS] is also refused as the first token (no empty answers). */
  banned?: readonly number[];
}

/** Logits with the banned ids (and [EOS] at the first step) set to -Infinity. */
function allowed(logits: Float32Array, step: number, opts: DecodeOptions): Float32Array {
  const out = Float32Array.from(logits);
  for (const id of opts.banned ?? []) out[id] = -Infinity;
  if (step === 0) out[opts.eos] = -Infinity;
  return out;
}

const argmax = (v: Float32Array): number => v.reduce((best, x, i) => (x > v[best] ? i : best), 0);

function logSoftmax(v: Float32Array): Float64Array {
  let max = -Infinity;
  for (const x of v) max = Math.max(max, x);
  let sum = 0;
  for (const x of v) if (x > -Infinity) sum += Math.exp(x - max);
  const lse = max + Math.log(sum);
  return Float64Array.from(v, (x) => x - lse);
}

/** Greedy decoding of every prompt at once; returns the generated ids (without [EOS]). */
export async function greedyDecode(next: NextLogits, prompts: number[][], opts: DecodeOptions): Promise<number[][]> {
  const out = prompts.map(() => [] as number[]);
  const done = prompts.map(() => false);
  for (let step = 0; step < opts.maxNew && done.some((d) => !d); step++) {
    const logits = await next(prompts.map((p, i) => [...p, ...out[i]]));
    logits.forEach((l, i) => {
      if (done[i]) return;
      const id = argmax(allowed(l, step, opts));
      if (id === opts.eos) done[i] = true;
      else out[i].push(id);
    });
  }
  return out;
}

interface Beam {
  ids: number[];
  score: number;
  done: boolean;
}

/** Beam search for one prompt: the best finished sequence by total log-probability (without [EOS]). */
export async function beamDecode(
  next: NextLogits,
  prompt: number[],
  opts: DecodeOptions,
): Promise<{ ids: number[]; score: number }> {
  const width = Math.max(1, opts.beam ?? 1);
  let beams: Beam[] = [{ ids: [], score: 0, done: false }];
  for (let step = 0; step < opts.maxNew && beams.some((b) => !b.done); step++) {
    const open = beams.filter((b) => !b.done);
    const logits = await next(open.map((b) => [...prompt, ...b.ids]));
    const candidates: Beam[] = beams.filter((b) => b.done);
    open.forEach((b, i) => {
      const lp = logSoftmax(allowed(logits[i], step, opts));
      const order = Array.from(lp.keys())
        .sort((x, y) => lp[y] - lp[x])
        .slice(0, width);
      for (const id of order)
        candidates.push({
          ids: id === opts.eos ? b.ids : [...b.ids, id],
          score: b.score + lp[id],
          done: id === opts.eos || step === opts.maxNew - 1,
        });
    });
    beams = candidates.sort((x, y) => y.score - x.score).slice(0, width);
  }
  const best = beams.find((b) => b.done) ?? beams[0];
  return { ids: best.ids, score: best.score };
}

/**
 * Each candidate answer's log-probability after `prompt`: its tokens then [EOS], the first step renormalised without
 * [EOS] and banned ids as the decoders see it (a question that offers its answers, "the A or the B", is answered by
 * the likelier one). All candidates' steps run as one batch per step.
 */
export async function scoreAnswers(
  next: NextLogits,
  prompt: number[],
  candidates: number[][],
  opts: DecodeOptions,
): Promise<number[]> {
  const scores = candidates.map(() => 0);
  const steps = Math.max(...candidates.map((c) => c.length)) + 1;
  for (let step = 0; step < steps; step++) {
    const open = candidates.flatMap((c, i) => (step <= c.length ? [i] : []));
    const logits = await next(open.map((i) => [...prompt, ...candidates[i].slice(0, step)]));
    open.forEach((i, k) => {
      const token = step < candidates[i].length ? candidates[i][step] : opts.eos;
      scores[i] += logSoftmax(allowed(logits[k], step, opts))[token];
    });
  }
  return scores;
}
