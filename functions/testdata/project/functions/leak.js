// Allocates until the worker's memory cap ends it.
const kept = [];
exports.handler = () => { for (;;) kept.push(new Array(4e6).fill(kept.length)); };
