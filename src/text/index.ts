export * from './bpe.js';
export * from './sentiment.js';
