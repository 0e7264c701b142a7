import type { Command } from 'commander';

/**
 * Every CLI command lives in its own file under src/cli/commands and exports `register(program)`.
 * Add new commands to this list (keep it sorted by name).
 */
type Register = (program: Command) => void;

export const commandModules: (() => Promise<{ register: Register }>)[] = [
];
