/**
 * The fault-injection run (docs/faults.md): random kill -9 during training, checkpoint writes and a batch
 * feature job, each resumed or re-run and compared with an uninterrupted reference; and hostile inputs generated
 * on the fly for every reader. Prints counts (tried / survived / lost / wrong / stack traces / ...) and exits
 * non-zero on any loss, any corrupt or false output, any crash, and any error that does not name the file.
 *
 *   node dist/bench/faults/run.js [--quick] [--seed N] [--only hostile|kills|train|writes|features] [--keep] [--dir D] [--json] [--verbose]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { OUTCOMES, Ledger } from './common.js';
import { runHostile } from './hostile.js';
import { runKills } from './kills.js';

interface Args {
  quick: boolean;
  seed: number;
  only?: string;
  keep: boolean;
  dir?: string;
  json: boolean;
  verbose: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, seed: 1, keep: false, json: false, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === '--quick') a.quick = true;
    else if (v === '--keep') a.keep = true;
    else if (v === '--json') a.json = true;
    else if (v === '--verbose') a.verbose = true;
    else if (v === '--seed') a.seed = Number(argv[++i]);
    else if (v === '--only') a.only = argv[++i];
    else if (v === '--dir') a.dir = argv[++i];
    else {
      process.stderr.write(
        `faults: unknown argument ${v}\nusage: node dist/bench/faults/run.js [--quick] [--seed N] [--only hostile|kills|train|writes|features] [--keep] [--dir D] [--json] [--verbose]\n`,
      );
      process.exit(2);
    }
  }
  if (!Number.isSafeInteger(a.seed) || a.seed < 0) {
    process.stderr.write('faults: --seed expects a non-negative integer\n');
    process.exit(2);
  }
  if (a.only && !['hostile', 'kills', 'train', 'writes', 'features'].includes(a.only)) {
    process.stderr.write(`faults: --only expects hostile, kills, train, writes or features, got "${a.only}"\n`);
    process.exit(2);
  }
  return a;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const root = args.dir ? resolve(args.dir) : mkdtempSync(join(tmpdir(), 'attune-faults-'));
  const ledger = new Ledger(args.verbose);
  const t0 = Date.now();
  process.stderr.write(`faults: ${args.quick ? 'quick' : 'full'} run, seed ${args.seed}, in ${root}\n`);
  let kills = 0;
  if (!args.only || args.only === 'hostile') {
    process.stderr.write('faults: hostile inputs\n');
    await runHostile(join(root, 'hostile'), { quick: args.quick, seed: args.seed, ledger });
  }
  if (!args.only || args.only !== 'hostile') {
    process.stderr.write('faults: kill -9 and resume\n');
    kills = await runKills(join(root, 'kills'), {
      quick: args.quick,
      seed: args.seed,
      ledger,
      only: args.only === 'kills' ? undefined : args.only,
    });
  }
  const seconds = (Date.now() - t0) / 1000;
  const hostile = ledger.counts((t) => !['train', 'train-seeds', 'writes', 'features'].includes(t.group));
  const killed = ledger.counts((t) => ['train', 'train-seeds', 'writes', 'features'].includes(t.group));
  const total = ledger.counts();
  const groups = [...new Set(ledger.trials.map((t) => t.group))];
  const failed = ledger.trials.filter((t) => t.outcome !== 'survived');
  if (args.json) {
    process.stdout.write(
      JSON.stringify(
        {
          seed: args.seed,
          quick: args.quick,
          seconds,
          kills,
          hostile,
          killed,
          total,
          groups: Object.fromEntries(groups.map((g) => [g, ledger.counts((t) => t.group === g)])),
          failures: failed,
        },
        null,
        2,
      ) + '\n',
    );
  } else {
    const cols = ['tried', ...OUTCOMES] as const;
    const row = (name: string, c: Record<string, number>) =>
      `${name.padEnd(22)}${cols.map((k) => String(c[k]).padStart(9)).join('')}`;
    const lines = [
      `${''.padEnd(22)}${cols.map((k) => (k === 'stack' ? 'stack tr.' : k).padStart(9)).join('')}`,
      ...groups.map((g) =>
        row(
          g,
          ledger.counts((t) => t.group === g),
        ),
      ),
      row('hostile inputs', hostile),
      row('kill -9 trials', killed),
      row('all', total),
      `kills: ${kills}; hostile inputs: ${hostile.tried}; ${seconds.toFixed(0)} s`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
    for (const f of failed)
      process.stdout.write(`  ${f.outcome}: ${f.group}/${f.name}: ${f.detail.split('\n')[0].slice(0, 400)}\n`);
  }
  if (!args.keep && !args.dir && failed.length === 0) rmSync(root, { recursive: true, force: true });
  else process.stderr.write(`faults: files kept in ${root}\n`);
  return failed.length === 0 ? 0 : 1;
}

process.exitCode = await main();
