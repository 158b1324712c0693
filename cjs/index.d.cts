// Types of require('pgconform'): the ES module's own (Node 20.19+ and TypeScript's node20/nodenext load it with require).
export * from '../dist/index.js';
