/**
 * The layers rule (eslint-rules/layers.js): through the repository's own ESLint config, and alone on snippets
 * placed in a made-up tree, one case per import form; plus docs/architecture.md agreeing with its LAYERS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ESLint, Linter } from 'eslint';
import tseslint from 'typescript-eslint';

// Compiled to dist/test/lint/: the repository is three folders up.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface LayersModule {
  LAYERS: string[];
  default: { rules: Record<string, unknown> };
}
const load = async (): Promise<LayersModule> =>
  (await import(pathToFileURL(join(ROOT, 'eslint-rules/layers.js')).href)) as LayersModule;

/** Lints `code` as the file `file` (relative to a made-up root) with the layers rule alone; returns its messages. */
async function lintAs(file: string, code: string): Promise<Linter.LintMessage[]> {
  const plugin = (await load()).default;
  const root = '/repo';
  const linter = new Linter({ configType: 'flat', cwd: root });
  const config: Linter.Config[] = [
    {
      files: ['**/*.ts'],
      languageOptions: { parser: tseslint.parser as Linter.Parser, sourceType: 'module' },
      plugins: { attune: plugin as never },
      rules: { 'attune/layers': ['error', { root }] },
    },
  ];
  return linter.verify(code, config, { filename: join(root, file) });
}

test('the repository config flags an upward import and names both folders', async () => {
  const eslint = new ESLint({ cwd: ROOT });
  const [result] = await eslint.lintText(
    "import { decodeAudio } from '../media/decode_audio.js';\nexport const f = decodeAudio;\n",
    {
      filePath: join(ROOT, 'src/nn/probe.ts'),
    },
  );
  const layer = result.messages.filter((m) => m.ruleId === 'attune/layers');
  assert.equal(layer.length, 1, JSON.stringify(result.messages));
  assert.equal(layer[0].severity, 2);
  assert.match(layer[0].message, /^src\/nn \(layer \d+\) imports src\/media \(layer \d+\)/);
});

test('the repository config accepts a downward import', async () => {
  const eslint = new ESLint({ cwd: ROOT });
  const [result] = await eslint.lintText(
    "import { makeStream } from '../timeline/timeline.js';\nexport const f = makeStream;\n",
    {
      filePath: join(ROOT, 'src/media/probe.ts'),
    },
  );
  assert.deepEqual(
    result.messages.filter((m) => m.ruleId === 'attune/layers'),
    [],
  );
});

test('every kind of import is checked, type-only and dynamic ones too', async () => {
  const cases = [
    "import type { Stream } from '../data/cache.js';",
    "export * from '../data/cache.js';",
    "export { FeatureCache } from '../data/cache.js';",
    "export async function f() { return import('../data/cache.js'); }",
    "export type T = import('../data/cache.js').FeatureSet;",
    "import x = require('../data/cache.js');",
  ];
  for (const code of cases) {
    const msgs = await lintAs('src/media/x.ts', code);
    assert.equal(msgs.length, 1, `${code}: ${JSON.stringify(msgs)}`);
    assert.match(msgs[0].message, /^src\/media \(layer \d+\) imports src\/data \(layer \d+\)/, code);
  }
});

test('the cycles this rule was written for stay flagged', async () => {
  assert.match(
    (await lintAs('bench/engine.ts', "import type { BenchReport } from '../src/cli/commands/bench.js';"))[0]?.message ??
      '',
    /bench .* imports src\/cli/,
  );
  assert.match(
    (await lintAs('src/nn/positions.ts', "import { alignedPositions } from '../media/timeline.js';"))[0]?.message ?? '',
    /src\/nn .* imports src\/media/,
  );
  assert.match(
    (await lintAs('src/models/demo.ts', "import { runDemo } from '../app/demo.js';"))[0]?.message ?? '',
    /src\/models .* imports src\/app/,
  );
  assert.match(
    (await lintAs('src/index.ts', "export * from './cli/main.js';"))[0]?.message ?? '',
    /src\/index\.ts .* imports src\/cli/,
  );
});

test('same folder, lower folders, packages and tests are fine', async () => {
  assert.deepEqual(
    await lintAs(
      'src/data/synth/clip.ts',
      "import { x } from '../cache.js';\nimport { y } from '../../util/errors.js';\nimport fs from 'node:fs';\nimport ort from 'onnxruntime-node';",
    ),
    [],
  );
  assert.deepEqual(
    await lintAs('src/cli/commands/bench.ts', "export const load = () => import('../../../bench/engine.js');"),
    [],
  );
  assert.deepEqual(
    await lintAs(
      'test/app/demo.test.ts',
      "import { runDemo } from '../../src/app/demo.js';\nimport { main } from '../../src/cli/main.js';",
    ),
    [],
  );
});

test('a folder with no layer is reported, as importer and as target', async () => {
  const own = await lintAs('src/plugins/a.ts', "import { x } from '../util/errors.js';");
  assert.equal(own.length, 1);
  assert.match(own[0].message, /src\/plugins has no layer/);
  const target = await lintAs('src/cli/a.ts', "import { x } from '../plugins/a.js';");
  assert.equal(target.length, 1);
  assert.match(target[0].message, /src\/plugins has no layer/);
});

test("docs/architecture.md lists the layers in the rule's order", async () => {
  const { LAYERS } = await load();
  const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
  const rows = [...doc.matchAll(/^\|\s*(\d+)\s*\|\s*`([^`]+?)\/?`\s*\|/gm)].map((m) => [Number(m[1]), m[2]] as const);
  assert.deepEqual(
    rows.map(([, f]) => f),
    LAYERS,
  );
  assert.deepEqual(
    rows.map(([n]) => n),
    LAYERS.map((_, i) => i + 1),
  );
});
