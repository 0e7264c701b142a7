/** FAVOR (issue #11): synchronized audio-visual tokens through a windowed causal Q-Former for a small LM (docs/favor.md). */
export * from './config.js';
export {
  favor,
  favorEncode,
  favorLoss,
  avInputs,
  avTokenWindows,
  patchify,
  type AvInputs,
  type AvTokens,
  type FavorOutputs,
} from './model.js';
export { languageModel } from './lm.js';
export { windowedQFormer, maskedDiversityLoss } from './qformer.js';
export { greedyDecode, beamDecode, type DecodeOptions, type NextLogits } from './decode.js';
export {
  loadAvqaExamples,
  avBatch,
  textBatch,
  promptIds,
  clipFromStreams,
  type AvqaExamples,
  type ClipStreams,
} from './data.js';
export { answerAll, answerBatch, scoreAnswers, templatePriors } from './evaluate.js';
export {
  loadFavorModel,
  decodeClip,
  askClip,
  askBatch,
  favorTokens,
  exportEncoder,
  type FavorModel,
  type AskResult,
  type WindowAttention,
} from './infer.js';
export { favorTask, FavorModelSchema, FavorDataSchema } from './task.js';
