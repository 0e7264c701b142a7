/**
 * `attune emotion`: the emotion of one utterance from its audio and/or transcript with a trained emotion model: the
 * label, class probabilities, the gate's weight per modality, which modality was missing, and (with --report) the
 * text→audio and audio→text attention as heat maps with words on one axis and seconds on the other.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { InputError } from '../../util/errors.js';
import { formatTable, printJson } from '../output.js';

interface Options {
  audio?: string;
  text?: string;
  gender?: string;
  age?: string;
  timbre?: string;
  accent?: string;
  model?: string;
  json: boolean;
  report?: string;
}

export function register(program: Command): void {
  program
    .command('emotion')
    .description(
      'emotion of an utterance from its audio and/or transcript (7 classes), with the gate per modality and cross-modal attention maps',
    )
    .option('--audio <file>', 'the utterance (any audio or video file ffmpeg reads)')
    .option('--text <text>', 'its transcript')
    .option('--gender <g>', 'speaker gender: f | m (optional metadata)')
    .option('--age <a>', 'speaker age: young | adult | senior, or years (optional metadata)')
    .option('--timbre <t>', 'speaker timbre id as in the training manifest (optional metadata)')
    .option('--accent <a>', 'speaker accent as in the training manifest, e.g. en-us (optional metadata)')
    .option('--model <run>', 'a trained emotion run folder (attune train emotion --data emospeech:2000 --out DIR)')
    .option('--report <out.html>', 'write a self-contained HTML report with the probabilities and attention heat maps')
    .option('--json', 'print the result as JSON', false)
    .addHelpText(
      'after',
      `
Either input may be missing: the model was trained with modality dropout and the output says which one was absent.
Metadata (gender, age group) lets the model read pitch relative to the speaker (EmoSpeech's labels need it).

  attune train emotion --data emospeech:2000 --out runs/emotion
  attune emotion --audio clip.wav --text "The garden was lovely." --gender f --age adult --model runs/emotion --report emotion.html`,
    )
    .action(async (o: Options) => {
      if (!o.model)
        throw new InputError(
          'attune emotion needs --model RUN (train one: attune train emotion --data emospeech:2000 --out RUN)',
          { field: '--model' },
        );
      const { loadEmotionModel, releaseEmotionModel, emotionOf } = await import('../../models/emotion/infer.js');
      const model = loadEmotionModel(o.model);
      try {
        const metadata = {
          gender: o.gender,
          age: o.age && /^\d+(\.\d+)?$/.test(o.age) ? Number(o.age) : o.age,
          timbre: o.timbre,
          accent: o.accent,
        };
        const r = await emotionOf(model, { audio: o.audio, text: o.text, metadata });
        if (o.report) await writeEmotionReport(resolve(o.report), r, o);
        if (o.json) {
          printJson({
            label: r.label,
            probs: Object.fromEntries(classes(r)),
            gate: r.gate,
            missing: r.missing,
            words: r.wordList,
            seconds: r.seconds,
            timing: r.timing,
            textToAudio: r.textToAudio,
            audioToText: r.audioToText,
            report: o.report ? resolve(o.report) : undefined,
          });
          return;
        }
        console.log(
          `${r.label} (p = ${r.probs[r.classId].toFixed(3)})${r.missing ? ` — ${r.missing} missing: predicted from the ${r.missing === 'text' ? 'audio' : 'text'} alone` : ''}`,
        );
        console.log(
          formatTable(
            ['class', 'probability'],
            classes(r)
              .sort((a, b) => b[1] - a[1])
              .map(([c, p]) => [c, p.toFixed(4)]),
          ),
        );
        console.log(
          `gate (mean per modality): text ${r.gate.text.toFixed(3)}, audio ${r.gate.audio.toFixed(3)}, metadata ${r.gate.metadata.toFixed(3)}`,
        );
        console.log(
          `time: decode ${r.timing.decode.toFixed(3)} s, features ${r.timing.features.toFixed(3)} s, model ${r.timing.model.toFixed(3)} s`,
        );
        if (o.report) console.log(`report: ${resolve(o.report)}`);
      } finally {
        await releaseEmotionModel(model);
      }
    });
}

type Result = Awaited<ReturnType<typeof import('../../models/emotion/infer.js').emotionOf>>;

const classes = (r: Result): [string, number][] =>
  ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'].map((c, i) => [
    c,
    Math.round(r.probs[i] * 1e4) / 1e4,
  ]);

async function writeEmotionReport(path: string, r: Result, o: Options): Promise<void> {
  const { writeReport } = await import('../../report/html.js');
  const { attentionSections } = await import('../../models/emotion/report.js');
  writeReport(path, {
    title: `Emotion: ${r.label}`,
    meta: {
      audio: o.audio ?? '(missing)',
      text: o.text ?? '(missing)',
      model: o.model ?? '',
      ...(o.gender ? { gender: o.gender } : {}),
      ...(o.age ? { age: o.age } : {}),
    },
    sections: [
      {
        kind: 'table',
        title: 'Class probabilities',
        columns: ['class', 'probability'],
        rows: classes(r).sort((a, b) => b[1] - a[1]),
        digits: 4,
      },
      {
        kind: 'table',
        title: "Gate per modality (mean of sigma(W_g H + b_g) over each modality's features)",
        columns: ['text', 'audio', 'metadata', 'missing'],
        rows: [[r.gate.text, r.gate.audio, r.gate.metadata, r.missing ?? 'none']],
        digits: 3,
      },
      ...attentionSections(r, r.wordList, 'This utterance'),
    ],
  });
}
