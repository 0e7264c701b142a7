export * from './classes.js';
export * from './config.js';
export * from './scene.js';
export * from './render.js';
export * from './clip.js';
export * from './write.js';
