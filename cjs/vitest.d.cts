// Types of require('pgconform/vitest'): the ES module's own.
export * from '../dist/vitest/conformance.js';
