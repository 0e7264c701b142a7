/**
 * Question generation with answer balancing. Scenes are visited in index order; for each scene and
 * family the balancer picks, among the scene's unambiguous candidates, the least-asked template and
 * within it the least-given answer, and refuses any candidate whose answer already holds more than
 * (1 + tolerance) times its uniform share of the template (uniform over the answers seen among that
 * template's candidates so far), plus one. A scene's questions depend only on the scenes before it, so the
 * first n scenes of a larger run get exactly the questions of a run of n.
 */
import { Rng } from '../../util/rng.js';
import { AvqaConfig, AvqaFamily, AvqaSplit, avqaConfig, sceneSplit } from './config.js';
import { AvqaCandidate, familyCandidates } from './questions.js';
import { AVQA_TOLERANCES, type AvqaAudio } from './templates.js';
import { AvqaScene, avqaScene } from './scene.js';

/** One question, as one line of questions.jsonl. */
export interface AvqaQuestion {
  id: string; // 'avqa000012.source.0'
  scene: string;
  index: number;
  split: AvqaSplit;
  family: AvqaFamily;
  template: string;
  question: string;
  answer: string;
  /** Seconds on the video timeline of the event the answer is about (an impact), when there is one. */
  time?: number;
  /** Seconds: the clip length. */
  duration: number;
  /** The options named in the question, for 'which ..., the A or the B?' (chance = 1 / choices.length). */
  choices?: string[];
  /** Not the scene's own synced audio: shifted by `offset` s (positive = late) or another scene's (`foil`). */
  audio?: AvqaAudio;
}

export interface AvqaSceneSummary {
  id: string;
  index: number;
  split: AvqaSplit;
  duration: number;
  questions: number;
}

export interface AvqaDataset {
  config: AvqaConfig;
  scenes: AvqaSceneSummary[];
  questions: AvqaQuestion[];
  seconds: number;
}

/** Balancer state: per template, how often each answer key was given and which keys its candidates can take. */
export class AnswerBalancer {
  readonly counts = new Map<string, Map<string, number>>();
  readonly seen = new Map<string, Set<string>>();
  constructor(
    readonly tolerance = 0.2,
    readonly slack = 1,
  ) {}

  total(template: string): number {
    let n = 0;
    for (const v of this.counts.get(template)?.values() ?? []) n += v;
    return n;
  }

  count(template: string, key: string): number {
    return this.counts.get(template)?.get(key) ?? 0;
  }

  /**
   * The most times any one key of `template` may be given once one more question is asked:
   * (1 + tolerance) times the uniform share plus `slack` (so equal counts can always grow).
   */
  cap(template: string): number {
    const support = Math.max(1, this.seen.get(template)?.size ?? 1);
    return ((1 + this.tolerance) * (this.total(template) + 1)) / support + this.slack;
  }

  /** Picks one candidate (and records it), or null when every candidate would over-represent its answer. */
  pick(cands: AvqaCandidate[], uniform: () => number): AvqaCandidate | null {
    for (const c of cands) {
      const s = this.seen.get(c.template) ?? new Set<string>();
      s.add(c.key);
      this.seen.set(c.template, s);
    }
    const ok = cands.filter((c) => this.count(c.template, c.key) + 1 <= this.cap(c.template));
    if (ok.length === 0) return null;
    const leastBy = (xs: AvqaCandidate[], f: (c: AvqaCandidate) => number): AvqaCandidate[] => {
      const best = Math.min(...xs.map(f));
      return xs.filter((c) => f(c) === best);
    };
    const byTemplate = leastBy(ok, (c) => this.total(c.template));
    const templates = [...new Set(byTemplate.map((c) => c.template))];
    const template = templates[Math.floor(uniform() * templates.length)];
    const best = leastBy(
      byTemplate.filter((c) => c.template === template),
      (c) => this.count(c.template, c.key),
    );
    const chosen = best[Math.floor(uniform() * best.length)];
    const m = this.counts.get(template) ?? new Map<string, number>();
    m.set(chosen.key, (m.get(chosen.key) ?? 0) + 1);
    this.counts.set(template, m);
    return chosen;
  }
}

const FOIL_WINDOW = 500;

/** Another scene of the same split, near `index` (so the choice does not depend on how many scenes are made), with at least two clear impacts over this scene's length. */
function pickFoil(cfg: AvqaConfig, scene: AvqaScene, rng: Rng): number | null {
  for (let attempt = 0; attempt < 64; attempt++) {
    const j = Math.max(0, scene.index - FOIL_WINDOW) + rng.int(2 * FOIL_WINDOW + 1);
    if (j === scene.index || sceneSplit(cfg, j) !== scene.split) continue;
    const foil = avqaScene(cfg, j, scene.duration);
    const { edge } = AVQA_TOLERANCES;
    if (foil.impacts.filter((i) => i.sounding && i.time >= edge && i.time <= scene.duration - edge).length >= 2)
      return j;
  }
  return null;
}

/** The questions of one scene (advances the balancer). */
export function sceneQuestions(cfg: AvqaConfig, scene: AvqaScene, balancer: AnswerBalancer): AvqaQuestion[] {
  const out: AvqaQuestion[] = [];
  for (const family of cfg.families) {
    const rng = new Rng(`avqa/v1/${cfg.seed}/${scene.index}/${family}`);
    const uniform = () => rng.uniform();
    let cands = familyCandidates(family, scene, { uniform, foil: () => pickFoil(cfg, scene, rng.fork('foil')) });
    for (let k = 0; k < cfg.perFamily && cands.length > 0; k++) {
      const c = balancer.pick(cands, uniform);
      if (!c) break;
      cands = cands.filter((x) => x.question !== c.question);
      out.push({
        id: `${scene.id}.${family}.${k}`,
        scene: scene.id,
        index: scene.index,
        split: scene.split,
        family,
        template: c.template,
        question: c.question,
        answer: c.answer,
        ...(c.time !== undefined ? { time: Math.round(c.time * 1e6) / 1e6 } : {}),
        duration: scene.duration,
        ...(c.choices ? { choices: c.choices } : {}),
        ...(c.audio ? { audio: c.audio } : {}),
      });
    }
  }
  return out;
}

/** Scenes 0..n-1 and their balanced questions. */
export function generateAvqa(
  config: Partial<AvqaConfig> | AvqaConfig,
  n: number,
  opts: { onScene?: (scene: AvqaScene, questions: AvqaQuestion[]) => void } = {},
): AvqaDataset {
  const cfg = avqaConfig(config);
  const t0 = performance.now();
  const balancer = new AnswerBalancer(cfg.tolerance);
  const scenes: AvqaSceneSummary[] = [];
  const questions: AvqaQuestion[] = [];
  for (let i = 0; i < n; i++) {
    const scene = avqaScene(cfg, i);
    const qs = sceneQuestions(cfg, scene, balancer);
    questions.push(...qs);
    scenes.push({ id: scene.id, index: i, split: scene.split, duration: scene.duration, questions: qs.length });
    opts.onScene?.(scene, qs);
  }
  return { config: cfg, scenes, questions, seconds: (performance.now() - t0) / 1000 };
}

/** Families and templates in a fixed order (for reports). */
