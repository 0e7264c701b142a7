export * from './task.js';
export * from './embedder.js';
export * from './index_store.js';
export * from './search.js';
