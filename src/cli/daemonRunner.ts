/** Shared by `depin node` and `depin validator`: start, announce readiness, stop cleanly on signals. */
export async function runDaemon(
  daemon: { url: string; start: () => Promise<void>; stop: () => Promise<void> },
  log: { info: (o: object, m: string) => void },
): Promise<void> {
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    daemon
      .stop()
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  await daemon.start();
  // One machine-readable line on stdout tells a supervisor the daemon is serving.
  process.stdout.write(`${JSON.stringify({ event: 'ready', url: daemon.url })}\n`);
}
