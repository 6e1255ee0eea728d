/** Structured JSON logs (pino) to stderr, one logger per component. */
import { pino } from 'pino';

export type Logger = pino.Logger;

/**
 * @example const log = createLogger('node', { level: 'info' }).child({ component: 'liveness' });
 */
export function createLogger(name: string, options: { level?: string } = {}): Logger {
  return pino({ name, level: options.level ?? process.env.DEPIN_LOG_LEVEL ?? 'info' }, pino.destination(2));
}
