/**
 * The learned lip cue at inference: a trained lip net (lip_net.ts; weights shipped in weights/lip-sync/, reproduced
 * by `attune bench sync-lips --train-lips`) embeds a clip's lip shapes and audio rows once, and the lag curve is
 * the channels' mean full-length correlation, on the frames each stream covers (like the hand cue in mouth_cue.ts).
 * The engine's convolutions need a static number of frames, so a session is traced per clip length and kept (the
 * seven shifted copies of a bench clip, the windows of a timeline share one).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostArray, toFloat32, type HostArray } from '../../io/array.js';
import { loadSafetensors, saveSafetensors } from '../../io/safetensors.js';
import { Graph, ParamStore, Scope, Session } from '../../engine/index.js';
import { writeJsonAtomic } from '../../util/atomic.js';
import { ConfigError } from '../../util/errors.js';
import { AUDIO_DIM, type SyncFeatures } from './features.js';
import { LIP_DIM } from './lip_shape.js';
import { embeddingCurve, lipInferenceGraph, prepareLipInputs, type LipNetConfig } from './lip_net.js';
import type { MouthTrack } from './mouth_cue.js';

export const SHIPPED_LIP_MODEL = fileURLToPath(new URL('../../../../weights/lip-sync/', import.meta.url));
const WEIGHTS = 'lip.safetensors';

export class LipNet {
  private readonly sessions = new Map<number, Promise<{ session: Session; feeds: Record<string, HostArray> }>>();

  private constructor(
    private readonly params: Record<string, HostArray>,
    readonly cfg: LipNetConfig,
  ) {}

  static async fromParams(params: Record<string, HostArray>, cfg: LipNetConfig): Promise<LipNet> {
    const net = new LipNet(params, cfg);
    await net.sessionFor(2 * cfg.kernel); // checks the weights now rather than on the first clip
    return net;
  }

  private sessionFor(T: number): Promise<{ session: Session; feeds: Record<string, HostArray> }> {
    let s = this.sessions.get(T);
    if (!s) {
      const store = new ParamStore(0);
      const g = new Graph();
      const { v, a } = lipInferenceGraph(g, new Scope(g, store), this.cfg, T);
      for (const name of store.names()) {
        const value = this.params[name];
        if (!value) throw new ConfigError(`lip net weights lack '${name}'`, { field: name });
        store.set(name, value);
      }
      s = Session.create(g, { v, a }, { threads: 1 }).then((session) => ({ session, feeds: store.feeds(g) }));
      this.sessions.set(T, s);
    }
    return s;
  }

  /** A folder with config.json and lip.safetensors (as saveLipNet writes). */
  static async load(dir: string): Promise<LipNet> {
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as LipNetConfig;
    return LipNet.fromParams(Object.fromEntries(loadSafetensors(join(dir, WEIGHTS)).tensors), cfg);
  }

  /** The learned lag curve of a clip (undefined without lip shapes or with fewer than 10 frames of face and audio). */
  async curve(f: SyncFeatures, track: MouthTrack): Promise<{ curve: Float64Array; mask: Uint8Array } | undefined> {
    if (!track.lips) return undefined;
    const audioMask = f.audioMask ?? f.mask;
    const mask = Uint8Array.from(track.mask, (m, t) => m & f.mask[t]);
    if (mask.reduce((n, m) => n + m, 0) < 10) return undefined;
    const x = prepareLipInputs(track.lips, track.mask, f.audio, audioMask);
    const T = f.frames;
    const { session, feeds } = await this.sessionFor(T);
    const out = await session.run({
      lips: hostArray('float32', [1, T, LIP_DIM], x.lips),
      audio: hostArray('float32', [1, T, AUDIO_DIM], x.audio),
      ...feeds,
    });
    const curve = embeddingCurve(toFloat32(out.v), toFloat32(out.a), this.cfg.dim, audioMask, track.mask);
    return { curve, mask };
  }

  async close(): Promise<void> {
    for (const s of this.sessions.values()) await (await s).session.release();
    this.sessions.clear();
  }
}

/** Writes a trained lip net as weights/lip-sync/ holds it (atomic files). */
export function saveLipNet(dir: string, params: Record<string, HostArray>, cfg: LipNetConfig, meta: object): void {
  writeJsonAtomic(join(dir, 'config.json'), cfg);
  saveSafetensors(join(dir, WEIGHTS), params);
  writeJsonAtomic(join(dir, 'metrics.json'), meta);
}

let shipped: Promise<LipNet | undefined> | null = null;

/** The shipped lip net, loaded once per process (undefined when this installation has no weights/lip-sync). */
export function shippedLipNet(): Promise<LipNet | undefined> {
  shipped ??= existsSync(join(SHIPPED_LIP_MODEL, 'config.json'))
    ? LipNet.load(SHIPPED_LIP_MODEL)
    : Promise.resolve(undefined);
  return shipped;
}
