// Preloaded into every benchmark server (node --expose-gc --import ./servers/gc-hook.mjs …): on SIGUSR2 run a full GC
// that also releases memory (V8's "last resort" flavour: on Node 24 a plain gc() keeps freed pages pooled, and RSS drops
// only when the memory reducer runs seconds later), then say so on stderr, so the runner reads a steady-state RSS from
// /proc without touching the server's HTTP surface.
process.on('SIGUSR2', () => {
  globalThis.gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  process.stderr.write('BENCH_GC_DONE\n');
});
