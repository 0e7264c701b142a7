/**
 * A clip-level sounds head on the language model's hidden state where it answers (stage 2, training only). Session
 * 9's probe (docs/favor.md) found that the AV tokens the LM reads say which kinds of sound a clip holds in 99 % of
 * test clips (a linear probe), the LM's state where it emits the answer in 92 %, and the LM answers "is a piano
 * heard?" at its prior. This head makes the state gather all the sounds: from the state at every answer position
 * (the [SEP] that emits the first answer word, the later answer words and [EOS]) it predicts, per kind of sound, how
 * many frames of the clip hold an impact of that kind. Measured (session 9): the state then holds them (100 %), the
 * answers do not follow, and the visual answers lose room in the 64-wide state; off by default.
 *
 *   states [B, Lt, Dlm] (lm.ts) -> linear -> softplus: expected frames with each sound     [B, Lt, 4]
 *   counts: frame_audio [B, F, 4] summed over frames (padded frames are 0)               [B, 1, 4]
 *   loss = Poisson NLL rate - count * log(rate) (count's own constant dropped), summed over the 4 kinds and averaged
 *          over the answer positions (target_mask): one loss for both "was it heard" (count > 0) and "how many times".
 *          Softplus, not exp: its gradient stays bounded, where an exp rate overshot by tens on Adam's first steps.
 */
import type { Scope, Tensor } from '../../engine/index.js';
import { FRAME_SOUNDS } from '../../data/avqa/index.js';
import { linear, poissonNll, softplus } from '../../nn/index.js';

export function lmAuxLoss(p: Scope, states: Tensor, answerMask: Tensor, frameAudio: Tensor): Tensor {
  const z = linear(p, states, FRAME_SOUNDS); // [B, Lt, 4]
  const rate = softplus(z); // [B, Lt, 4]
  const counts = frameAudio
    .sum([1])
    .unsqueeze([1])
    .expand(rate.shape as number[]); // [B, Lt, 4]
  return poissonNll(rate, counts, answerMask); // []
}
