// Loaded into the app process by the bench (`node --expose-gc --import bench/heap-probe.mjs`), never
// by the app itself: on a message over the IPC channel it runs a full garbage collection and answers
// with the memory that is still live. RSS alone also counts heap V8 has grown into and not given back
// (which depends on its sizing heuristics), so it cannot tell a leak from a roomy heap.
if (typeof process.send === 'function' && typeof globalThis.gc === 'function') {
  process.on('message', (message) => {
    if (message?.type !== 'bench:heap') return;
    globalThis.gc();
    const { rss, heapUsed, external } = process.memoryUsage();
    process.send({ type: 'bench:heap', id: message.id, rss, heapUsed, external });
  });
  // The channel must not keep the app alive once it shuts down.
  process.channel?.unref();
}
