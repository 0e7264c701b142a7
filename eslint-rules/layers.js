/**
 * Layers only point down. Every folder of the package has a rank (LAYERS, lowest first; docs/architecture.md
 * explains each); a file may import files of its own folder and of lower folders only. Because the order is
 * total, an import graph without upward imports has no cycle between folders.
 *
 * Folders: src/<name> (everything below it, subfolders included), the file src/index.ts (the public API),
 * bench/ and test/. Files elsewhere (bin/, eslint-rules/, configs) are not checked. Relative specifiers only:
 * static imports (type-only too), `export ... from`, dynamic `import('...')` with a literal, `import('...')`
 * types and `import x = require('...')`.
 *
 * Reports: an upward import, naming both folders; a file in, or an import of, a folder with no rank (add the
 * folder to LAYERS and to docs/architecture.md).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const LAYERS = [
  'src/util',
  'src/io',
  'src/timeline',
  'src/engine',
  'src/nn',
  'src/text',
  'src/media',
  'src/data',
  'src/metrics',
  'src/report',
  'src/train',
  'src/models',
  'src/jobs',
  'src/index.ts',
  'src/app',
  'bench',
  'src/cli',
  'test',
];

/** The repository root: the folder above eslint-rules/. */
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The layer a path belongs to ('src/nn', 'src/index.ts', 'bench', ...), or null for paths outside src/, bench/, test/. */
export function folderOf(root, file) {
  const rel = path.relative(root, file).split(path.sep);
  if (rel.length < 2) return null;
  if (rel[0] === 'src') return `src/${rel[1]}`; // src/<folder>/** or a file directly in src/
  if (rel[0] === 'bench' || rel[0] === 'test') return rel[0];
  return null;
}

/** @type {import('eslint').Rule.RuleModule} */
export const layers = {
  meta: {
    type: 'problem',
    docs: {
      description:
        'imports only point down the layer order of docs/architecture.md (no upward imports, no folder cycles)',
    },
    schema: [
      {
        type: 'object',
        properties: {
          root: { type: 'string' },
          layers: { type: 'array', items: { type: 'string' } },
        },
        additionalProperties: false,
      },
    ],
    messages: {
      upward:
        '{{from}} (layer {{fromRank}}) imports {{to}} (layer {{toRank}}): layers only point down ({{order}}); see docs/architecture.md',
      unranked: '{{folder}} has no layer: add it to LAYERS in eslint-rules/layers.js and to docs/architecture.md',
    },
  },
  create(context) {
    const opts = context.options[0] ?? {};
    const root = path.resolve(opts.root ?? REPO_ROOT);
    const order = opts.layers ?? LAYERS;
    const rank = new Map(order.map((f, i) => [f, i]));
    const file = context.filename ?? context.getFilename();
    if (!path.isAbsolute(file)) return {};
    const from = folderOf(root, file);
    if (from === null) return {};

    function check(node, spec) {
      if (typeof spec !== 'string' || !(spec.startsWith('./') || spec.startsWith('../'))) return;
      const to = folderOf(root, path.resolve(path.dirname(file), spec));
      if (to === null || to === from) return;
      if (!rank.has(to)) {
        context.report({ node, messageId: 'unranked', data: { folder: to } });
        return;
      }
      const fromRank = rank.get(from);
      const toRank = rank.get(to);
      if (toRank > fromRank) {
        const between = order.slice(fromRank, toRank + 1).join(' < ');
        context.report({
          node,
          messageId: 'upward',
          data: { from, to, fromRank: String(fromRank + 1), toRank: String(toRank + 1), order: between },
        });
      }
    }
    const literal = (n) =>
      n && n.type === 'Literal' && typeof n.value === 'string'
        ? n.value
        : n && n.type === 'TemplateLiteral' && n.expressions.length === 0
          ? n.quasis[0].value.cooked
          : undefined;

    return {
      Program(node) {
        if (!rank.has(from))
          context.report({ node, loc: { line: 1, column: 0 }, messageId: 'unranked', data: { folder: from } });
      },
      ImportDeclaration: (node) => check(node.source, node.source.value),
      ExportAllDeclaration: (node) => check(node.source, node.source.value),
      ExportNamedDeclaration: (node) => {
        if (node.source) check(node.source, node.source.value);
      },
      ImportExpression: (node) => check(node.source, literal(node.source)),
      TSImportType: (node) => {
        const src = node.source ?? node.argument?.literal;
        check(node, literal(src));
      },
      TSExternalModuleReference: (node) => check(node.expression, literal(node.expression)),
    };
  },
};

/** The local plugin registered in eslint.config.js as `attune`. */
export default { meta: { name: 'attune-local' }, rules: { layers } };
