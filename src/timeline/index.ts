/** Time: the Stream type every decoder and feature returns, exact resampling onto grids, positions, windows. See docs/data.md. */
export * from './timeline.js';
export * from './windows.js';
