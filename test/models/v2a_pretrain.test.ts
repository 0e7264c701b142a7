import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, ParamStore, Scope } from '../../src/engine/index.js';
import { getTask } from '../../src/models/registry.js';
import { v2aTask, type V2aTaskData } from '../../src/models/v2a/task.js';
import { parseOverrides, resolveConfig } from '../../src/train/config.js';
import { Rng } from '../../src/util/rng.js';

test('visual pretraining: the stage trains visual.* weights that become the flow network encoder and class head', async () => {
  const task = await getTask('v2a');
  const sets = ['variant="tiny"', 'data.seconds=1', 'data.classifierClips=8', 'data.eval.clips=2'];
  const model = { visualEncoder: '"pixels"', visualClassLoss: '0.5', visualPretrainSteps: '3' };
  const config = resolveConfig(task, {
    source: 'synth',
    overrides: parseOverrides([...sets, ...Object.entries(model).map(([k, v]) => `model.${k}=${v}`)]),
  });
  const data = (await v2aTask.loadData({
    data: config.data as never,
    model: config.model as never,
    source: { kind: 'synth', clips: 12 },
    seed: 0,
    rng: new Rng(0),
    progress: () => undefined,
  })) as V2aTaskData;
  const init = data.visualInit!;
  const acc = data.info!.visualPretrainValAcc as number;
  assert.ok(acc >= 0 && acc <= 1, `held-out accuracy ${acc}`);
  const names = Object.keys(init);
  assert.ok(names.length > 0 && names.every((n) => n.startsWith('visual.')), names.join(', '));
  assert.ok(names.includes('visual.class_head.weight') && names.includes('visual.pixels.color.weight'));

  // The flow loss graph declares every pretrained tensor under the same name and shape and starts from its values.
  const g = new Graph();
  const store = new ParamStore(7);
  task.buildLoss(g, new Scope(g, store), { model: config.model, data, batchSize: 2, purpose: 'train' });
  for (const n of names) {
    assert.ok(g.params.has(n), `the flow network has no parameter ${n}`);
    assert.deepEqual(store.get(n).shape, init[n].shape, n);
    assert.deepEqual(store.get(n).data, init[n].data, `${n} starts from the pretrained values`);
  }
  // Without the class loss the head is not part of the flow network, and is not put in its store.
  const g2 = new Graph();
  const store2 = new ParamStore(7);
  const noHead = { ...(config.model as object), visualClassLoss: 0 };
  task.buildLoss(g2, new Scope(g2, store2), { model: noHead, data, batchSize: 2, purpose: 'train' });
  assert.equal(store2.has('visual.class_head.weight'), false);
  assert.deepEqual(store2.get('visual.in.weight').data, init['visual.in.weight'].data);
});
