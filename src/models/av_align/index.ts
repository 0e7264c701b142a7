/** av-align (design source 000): features, data, model, task and the suite metric table; see docs/models.md. */
export * from './features.js';
export * from './data.js';
export * from './model.js';
export * from './metrics.js';
export * from './task.js';
export * from './inspect.js';
