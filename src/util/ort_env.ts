/**
 * Side-effect module: import it before anything loads onnxruntime-node (bin/attune.js and src/index.ts do).
 *
 * onnxruntime-node (1.2x on Linux/macOS) starts Microsoft's telemetry client when it creates its first session
 * environment: it queues events in ~/.cache/Microsoft/DeveloperTools/.onnxruntime/onnxruntime.db (plus a device id
 * next to it) and leaves an empty /tmp/mat-debug-<pid>.log per process. ORT_DISABLE_TELEMETRY=1 stops all three;
 * ORT reads it when that first environment is created, so setting it here, before any session, is enough.
 *
 * A value the user set is kept: ORT_DISABLE_TELEMETRY=0 opts back in (see docs/faults.md).
 */
export const ORT_TELEMETRY_VAR = 'ORT_DISABLE_TELEMETRY';

if (process.env[ORT_TELEMETRY_VAR] === undefined) process.env[ORT_TELEMETRY_VAR] = '1';
