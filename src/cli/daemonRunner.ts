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
  // A supervisor that keeps a pipe to our stdin (a devnet) sets this: when it dies, however it
  // dies, the pipe closes and we stop too instead of running on as an orphan.
  if (process.env['DEPIN_EXIT_WITH_PARENT'] === '1') {
    process.stdin.on('end', () => shutdown('parent exited'));
    process.stdin.on('error', () => shutdown('parent exited'));
    process.stdin.resume();
  }
  await daemon.start();
  // One machine-readable line on stdout tells a supervisor the daemon is serving.
  process.stdout.write(`${JSON.stringify({ event: 'ready', url: daemon.url })}\n`);
}
