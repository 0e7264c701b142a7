import '../util/ort_env.js';
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { commandModules } from './commands/index.js';
import { reportError } from './output.js';
import { ConfigError } from '../util/errors.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
  description: string;
};

export async function main(argv: string[]): Promise<number> {
  const program = new Command('attune')
    .description(pkg.description)
    .version(pkg.version)
    .option(
      '--device <cpu|cuda>',
      'ONNX Runtime execution provider for every model this command runs (cuda is opt-in: docs/gpu.md)',
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .hook('preAction', (root) => {
      const device = root.opts().device as string | undefined;
      if (device !== undefined) {
        if (device !== 'cpu' && device !== 'cuda')
          throw new ConfigError(`--device must be 'cpu' or 'cuda', got '${device}'`, {
            field: '--device',
            got: device,
          });
        // read by the engine when it creates sessions, in this thread and in worker threads
        process.env.ATTUNE_DEVICE = device;
      }
    });
  for (const load of commandModules) (await load()).register(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err: any) {
    if (err?.code?.startsWith?.('commander.')) {
      // commander already printed help, version or the usage error (unknown command or option, missing
      // argument): help and version exit 0, every usage error exits 2 like Attune's own input errors
      return err.exitCode === 0 ? 0 : 2;
    }
    return reportError(err, argv.includes('--json'));
  }
}

// `attune ... | head` closes the pipe early: that is the reader's choice, not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const code = await main(process.argv);
process.exitCode = code;
