/**
 * A background pass repeated every so often: the next pass is scheduled only after the previous
 * one settled (never two at once), a failure is handed to `onError` and retried next time, and
 * `stop` waits for a pass under way.
 */

export type Loop = { start: () => void; stop: () => Promise<void> };

/**
 * @example
 * const loop = repeatEvery(3000, () => claimRewards(deps), (e) => log.warn({ err: e.message }, 'claim failed'));
 * loop.start(); … await loop.stop();
 */
export function repeatEvery(
  everyMs: number,
  pass: () => Promise<unknown>,
  onError: (e: Error) => void,
  options: { unref?: boolean } = {},
): Loop {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = pass()
        .catch((e: unknown) => onError(e as Error))
        .finally(schedule);
    }, everyMs);
    if (options.unref) timer.unref();
  };
  return {
    start() {
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
