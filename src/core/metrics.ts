/** Prometheus metrics (prom-client), one registry per daemon, served at GET /metrics. */
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { Route } from './http.ts';

export type Metrics = {
  registry: Registry;
  requests: Counter<'route' | 'status'>;
  counter: (name: string, help: string, labels?: string[]) => Counter<string>;
  gauge: (name: string, help: string, labels?: string[]) => Gauge<string>;
  route: Route;
};

/**
 * @example const m = createMetrics('depin_node'); m.gauge('depin_node_claimed', 'tokens claimed').set(1);
 */
export function createMetrics(prefix: string): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: `${prefix}_` });
  const requests = new Counter({
    name: `${prefix}_http_requests_total`,
    help: 'HTTP requests by route and status',
    labelNames: ['route', 'status'],
    registers: [registry],
  });
  return {
    registry,
    requests,
    counter: (name, help, labels = []) =>
      new Counter({ name, help, labelNames: labels, registers: [registry] }),
    gauge: (name, help, labels = []) => new Gauge({ name, help, labelNames: labels, registers: [registry] }),
    route: {
      method: 'GET',
      path: '/metrics',
      handler: async () => ({ body: await registry.metrics(), contentType: registry.contentType }),
    },
  };
}
