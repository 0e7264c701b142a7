import { parentPort } from 'node:worker_threads';
import { AttuneError } from '../util/errors.js';
import { LocalRunner, Runner, RunnerSpec } from './runner.js';

/**
 * Worker side of WorkerRunner: hosts one LocalRunner and answers `{ id, method, args }` messages with
 * `{ id, result }` or `{ id, error }`. ORT's blocking run() happens here, off the main event loop.
 */
type Method = 'create' | keyof Runner;

let runner: LocalRunner | null = null;

async function handle(method: Method, args: unknown[]): Promise<unknown> {
  if (method === 'create') {
    runner = await LocalRunner.create(args[0] as RunnerSpec);
    return null;
  }
  if (!runner) throw new AttuneError('STATE', `worker runner: '${method}' called before create`);
  switch (method) {
    case 'run':
      return runner.run(args[0] as never);
    case 'getState':
      return runner.getState(args[0] as never);
    case 'setState':
      return runner.setState(args[0] as never);
    case 'getRngState':
      return runner.getRngState();
    case 'setRngState':
      return runner.setRngState(args[0] as never);
    case 'close': {
      await runner.close();
      runner = null;
      return null;
    }
  }
}

function serializeError(err: unknown): Record<string, unknown> {
  if (err instanceof AttuneError) return { name: err.name, code: err.code, message: err.message, details: err.details };
  return {
    name: 'Error',
    message: err instanceof Error ? err.message : String(err),
    stack: err instanceof Error ? err.stack : undefined,
  };
}

parentPort!.on('message', (msg: { id: number; method: Method; args: unknown[] }) => {
  handle(msg.method, msg.args).then(
    (result) => parentPort!.postMessage({ id: msg.id, result }),
    (err) => parentPort!.postMessage({ id: msg.id, error: serializeError(err) }),
  );
});
