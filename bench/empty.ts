// Nothing: `node build/bench/empty.js` measures node start-up alone.
export {};
