/**
 * A small JSON-over-HTTP server for the daemons: routes with `:params`, a body size limit, JSON
 * parsing at the boundary, and every failure answered as `{"error":{"code","message"}}` with a 4xx
 * or 5xx status — bad input never takes the daemon down.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DepinError } from './errors.ts';
import type { Logger } from './log.ts';

export type RouteContext = {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  req: IncomingMessage;
};

export type RouteResult = { status?: number; body: unknown; contentType?: string } | undefined;

export type Route = {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  handler: (ctx: RouteContext) => Promise<RouteResult> | RouteResult;
};

export type JsonServerOptions = {
  routes: Route[];
  host?: string;
  port?: number;
  maxBody?: number;
  log: Logger;
  /** Called for every request with its outcome, for metrics. */
  onRequest?: (route: string, status: number) => void;
};

export type JsonServer = { url: string; server: Server; stop: () => Promise<void> };

const compiled = new WeakMap<Route, RegExp>();
function match(route: Route, path: string): Record<string, string> | undefined {
  let re = compiled.get(route);
  if (!re) {
    re = new RegExp(`^${route.path.replace(/:([a-zA-Z]+)/g, '(?<$1>[^/]+)')}$`);
    compiled.set(route, re);
  }
  const m = re.exec(path);
  return m ? { ...(m.groups ?? {}) } : undefined;
}

/**
 * @example
 * const s = await startJsonServer({ log, port: 0, routes: [{ method: 'GET', path: '/health', handler: () => ({ body: { ok: true } }) }] });
 */
export async function startJsonServer(options: JsonServerOptions): Promise<JsonServer> {
  const maxBody = options.maxBody ?? 1024 * 1024;
  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      options.log.error({ err: e }, 'unhandled error in request');
      if (!res.headersSent) send(res, 500, { error: { code: 'INTERNAL', message: 'Internal error' } });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let routeName = 'unknown';
    try {
      const candidates = options.routes.filter((r) => match(r, url.pathname));
      if (candidates.length === 0)
        throw new DepinError('NOT_FOUND', `No route ${url.pathname}.`, { status: 404 });
      const route = candidates.find((r) => r.method === req.method);
      if (!route)
        throw new DepinError('METHOD_NOT_ALLOWED', `Use ${candidates.map((r) => r.method).join(' or ')}.`, {
          status: 405,
        });
      routeName = `${route.method} ${route.path}`;
      const body = req.method === 'POST' || req.method === 'PUT' ? await readJson(req, maxBody) : undefined;
      const result = await route.handler({
        params: match(route, url.pathname)!,
        query: url.searchParams,
        body,
        req,
      });
      const status = result?.status ?? 200;
      if (result?.contentType) {
        res.writeHead(status, { 'content-type': result.contentType });
        res.end(result.body as string);
      } else {
        send(res, status, result?.body ?? null);
      }
      options.onRequest?.(routeName, status);
    } catch (e) {
      const err =
        e instanceof DepinError
          ? e
          : new DepinError('INTERNAL', 'Internal error.', { cause: e, status: 500 });
      if (err.status >= 500) options.log.error({ err: e, route: routeName }, 'request failed');
      else options.log.debug({ code: err.code, route: routeName }, 'request refused');
      send(res, err.status, err.toJSON());
      options.onRequest?.(routeName, err.status);
      if (err.code === 'BODY_TOO_LARGE') req.destroy();
    }
  }

  server.keepAliveTimeout = 10_000;
  server.headersTimeout = 15_000;
  server.requestTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    server,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      }),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(text);
}

async function readJson(req: IncomingMessage, maxBody: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBody) {
    throw new DepinError('BODY_TOO_LARGE', `The body is over ${maxBody} bytes.`, { status: 413 });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBody)
      throw new DepinError('BODY_TOO_LARGE', `The body is over ${maxBody} bytes.`, { status: 413 });
    chunks.push(chunk as Buffer);
  }
  if (size === 0) throw new DepinError('BAD_JSON', 'The body is empty: send a JSON object.');
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (e) {
    throw new DepinError('BAD_JSON', 'The body is not valid JSON.', { cause: e });
  }
}

/**
 * Fetches JSON from another daemon with a timeout; non-2xx answers become DepinErrors carrying the
 * remote code.
 */
export async function fetchJson<T>(
  url: string,
  init: { method?: string; body?: unknown; timeoutMs?: number } = {},
): Promise<T> {
  const res = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
    ...(init.body === undefined
      ? {}
      : { body: JSON.stringify(init.body, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) }),
    signal: AbortSignal.timeout(init.timeoutMs ?? 5000),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    throw new DepinError('BAD_RESPONSE', `${url} answered ${res.status} with a body that is not JSON.`);
  }
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string } } | null)?.error;
    throw new DepinError(e?.code ?? 'HTTP_ERROR', e?.message ?? `${url} answered ${res.status}.`, {
      status: res.status,
    });
  }
  return json as T;
}
