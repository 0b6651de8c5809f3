// Preloaded into every benchmark server (node --expose-gc --import ./servers/gc-hook.mjs …): on SIGUSR2 run a full
// GC, so the runner can read a steady-state RSS from /proc without touching the server's HTTP surface.
process.on('SIGUSR2', () => globalThis.gc?.());
