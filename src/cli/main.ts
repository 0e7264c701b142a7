import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { commandModules } from './commands/index.js';
import { reportError } from './output.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string; description: string };

export async function main(argv: string[]): Promise<number> {
  const program = new Command('attune')
    .description(pkg.description)
    .version(pkg.version)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const load of commandModules) (await load()).register(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err: any) {
    if (err?.code?.startsWith?.('commander.')) {
      // commander already printed help, version or the usage error
      return err.exitCode ?? 1;
    }
    return reportError(err, argv.includes('--json'));
  }
}

const code = await main(process.argv);
process.exitCode = code;
