// Leaks memory outside the JavaScript heap (Buffers), which V8's heap cap
// does not see: 16 MB every 10 ms, up to 1.5 GB.
const kept = [];
exports.handler = () => {
  const grow = () => {
    if (kept.length < 96) {
      kept.push(Buffer.alloc(16 << 20, 1));
      setTimeout(grow, 10);
    }
  };
  grow();
};
