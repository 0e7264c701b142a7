import { z } from 'zod';
import { hostArray, toFloat64 } from '../../src/io/array.js';
import { init, type Scope } from '../../src/engine/params.js';
import type { Graph } from '../../src/engine/graph.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { ConfigError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { predictInBatches } from '../../src/train/predict.js';
import { defineTask, type TaskData } from '../../src/train/task.js';

/**
 * A toy classification task proving the Task contract end to end: points in R^dim labeled by a random
 * linear teacher (argmax of x W), fitted by a small MLP with dropout (so resume must restore the
 * dropout Rng too). `poison` lists example indices whose features are NaN (for the NaN guard), and
 * `jitter` adds batch-Rng noise to the features (so resume must reproduce augmentation).
 */
const ModelSchema = z
  .object({
    hidden: z.number().int().positive(),
    dropout: z.number().min(0).max(0.9),
  })
  .strict();
const DataSchema = z
  .object({
    dim: z.number().int().positive(),
    classes: z.number().int().min(2),
    jitter: z.number().nonnegative(),
    poison: z.array(z.number().int().nonnegative()),
    dataSeed: z.number().int().nonnegative(),
  })
  .strict();
export type ToyModel = z.infer<typeof ModelSchema>;
export type ToyData = z.infer<typeof DataSchema>;

interface ToyDataset extends TaskData {
  x: Float32Array;
  y: Int32Array;
  dim: number;
  classes: number;
}

function mlp(p: Scope, x: Tensor, m: ToyModel, dim: number, classes: number, train: boolean): Tensor {
  const l1 = p.scope('l1');
  const l2 = p.scope('l2');
  let h = x
    .linear(l1.param('weight', [dim, m.hidden], init.xavierUniform()), l1.param('bias', [m.hidden], init.zeros()))
    .gelu(); // [B, H]
  if (train && m.dropout > 0) h = h.dropout(m.dropout);
  return h.linear(
    l2.param('weight', [m.hidden, classes], init.xavierUniform()),
    l2.param('bias', [classes], init.zeros()),
  ); // [B, C]
}

export const toyTask = defineTask<ToyModel, ToyData, ToyDataset>({
  name: 'toy',
  description: 'Toy classification: an MLP learns a random linear teacher.',
  modelSchema: ModelSchema,
  dataSchema: DataSchema,
  defaults: {
    model: { hidden: 32, dropout: 0.1 },
    data: { dim: 8, classes: 4, jitter: 0.05, poison: [], dataSeed: 7 },
    train: { batchSize: 16, epochs: 4, lr: 0.02, checkpointEvery: 0, export: false, report: false, threads: 1 },
  },
  datasetDefaults: { synth: { train: { epochs: 5 } } },
  variants: { tiny: () => ({ hidden: 8 }), wide: () => ({ hidden: 64 }) },
  monitor: { metric: 'acc', mode: 'max' },

  async loadData(ctx) {
    if (ctx.source.kind !== 'synth') throw new ConfigError('the toy task only reads synth:N', { field: 'data' });
    const { dim, classes, dataSeed, poison } = ctx.data;
    const n = ctx.source.clips;
    const rng = new Rng(dataSeed);
    const teacher = Float32Array.from({ length: dim * classes }, () => rng.normal());
    const x = Float32Array.from({ length: n * dim }, () => rng.normal());
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let best = -Infinity;
      for (let c = 0; c < classes; c++) {
        let s = 0;
        for (let d = 0; d < dim; d++) s += x[i * dim + d] * teacher[d * classes + c];
        if (s > best) [best, y[i]] = [s, c];
      }
      ctx.progress('toy data', i + 1, n);
    }
    for (const i of poison) x.fill(NaN, i * dim, (i + 1) * dim);
    return {
      size: n,
      x,
      y,
      dim,
      classes,
      info: { examples: n, dim, classes },
      batch(indices, { split, rng: brng }) {
        const bx = new Float32Array(indices.length * dim);
        indices.forEach((ex, b) => {
          for (let d = 0; d < dim; d++)
            bx[b * dim + d] = x[ex * dim + d] + (split === 'train' ? ctx.data.jitter * brng.normal() : 0);
        });
        return {
          x: hostArray('float32', [indices.length, dim], bx),
          y: hostArray(
            'int64',
            [indices.length],
            BigInt64Array.from(indices, (ex) => BigInt(y[ex])),
          ),
        };
      },
    };
  },

  buildLoss(g: Graph, p: Scope, ctx) {
    const x = g.input('x', 'float32', [ctx.batchSize, ctx.data.dim]);
    const y = g.input('y', 'int64', [ctx.batchSize]);
    const logits = mlp(p, x, ctx.model, ctx.data.dim, ctx.data.classes, ctx.purpose === 'train');
    return { loss: logits.crossEntropy(y), metrics: { logit_sq: logits.square().mean() } };
  },

  buildInference(g: Graph, p: Scope, ctx) {
    const x = g.input('x', 'float32', [ctx.batchSize, ctx.data.dim]);
    return { logits: mlp(p, x, ctx.model, ctx.data.dim, ctx.data.classes, false) };
  },

  async evaluate(ctx) {
    const C = ctx.data.classes;
    const accuracy = async (indices: readonly number[]) => {
      const { rows } = await predictInBatches(ctx.predictor, indices, ctx.batchSize, (b) =>
        ctx.data.batch(b, { split: ctx.split, rng: ctx.rng }),
      );
      const l = toFloat64(rows.logits);
      let correct = 0;
      indices.forEach((ex, i) => {
        let arg = 0;
        for (let c = 1; c < C; c++) if (l[i * C + c] > l[i * C + arg]) arg = c;
        if (arg === ctx.data.y[ex]) correct++;
      });
      return correct / indices.length;
    };
    const acc = await accuracy(ctx.indices);
    const metrics: Record<string, number> = { acc };
    // Something fitted on val and reported elsewhere, as av-sync's temperature is: it must come from ctx.valIndices,
    // the same whatever was evaluated before (a run resumed after its loop ended has evaluated nothing yet).
    if (ctx.split !== 'val' && ctx.valIndices) metrics.val_acc = await accuracy(ctx.valIndices);
    return {
      metrics,
      sections: ctx.final
        ? [{ kind: 'text', title: 'Toy', text: `accuracy ${acc.toFixed(3)} on ${ctx.indices.length} examples` }]
        : [],
    };
  },
});
