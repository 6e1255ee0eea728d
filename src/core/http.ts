/**
 * A small JSON-over-HTTP server for the daemons: routes with `:params`, a body size limit, JSON
 * parsing at the boundary, and every failure answered as `{"error":{"code","message"}}` with a 4xx
 * or 5xx status — bad input never takes the daemon down. Raw routes (`raw: true`) get the body as a
 * byte stream instead (binary uploads), and any handler may answer bytes or a stream.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DepinError } from './errors.ts';
import type { Logger } from './log.ts';

export type RouteContext = {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  req: IncomingMessage;
  /**
   * Raw routes only (else empty): the request body as it arrives. Iterating past the route's
   * `maxBody` throws 413 `BODY_TOO_LARGE`; nothing is read until the handler iterates.
   */
  raw: AsyncIterable<Buffer>;
};

/**
 * A handler's answer. `body` is sent as JSON, unless it is a string with `contentType`, a
 * `Uint8Array` or a `Readable` (sent as bytes, `application/octet-stream` unless `contentType` says
 * otherwise; a stream that fails midway cuts the connection, so the client sees a short body).
 */
export type RouteResult =
  | { status?: number; body: unknown; contentType?: string; headers?: Record<string, string> }
  | undefined;

export type Route = {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  handler: (ctx: RouteContext) => Promise<RouteResult> | RouteResult;
  /** Hand the body to the handler unparsed, as `ctx.raw`, instead of parsing JSON. */
  raw?: boolean;
  /** Largest request body for this route, bytes (default: the server's `maxBody`). */
  maxBody?: number;
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
    let raw = false;
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
      raw = route.raw === true;
      const limit = route.maxBody ?? maxBody;
      const body =
        !route.raw && (req.method === 'POST' || req.method === 'PUT')
          ? await readJson(req, limit)
          : undefined;
      const result = await route.handler({
        params: match(route, url.pathname)!,
        query: url.searchParams,
        body,
        req,
        raw: route.raw ? readRaw(req, limit) : emptyBody(),
      });
      const status = result?.status ?? 200;
      const out = result?.body;
      if (out instanceof Readable || out instanceof Uint8Array) {
        res.writeHead(status, {
          'content-type': result?.contentType ?? 'application/octet-stream',
          ...(out instanceof Uint8Array ? { 'content-length': String(out.byteLength) } : {}),
          ...result?.headers,
        });
        if (out instanceof Uint8Array) res.end(out);
        else await pipeline(out, res);
      } else if (result?.contentType) {
        res.writeHead(status, { 'content-type': result.contentType, ...result.headers });
        res.end(out as string);
      } else {
        send(res, status, out ?? null, result?.headers);
      }
      options.onRequest?.(routeName, status);
    } catch (e) {
      if (res.headersSent) {
        // A streamed answer failed midway: the status is gone, so cut the connection (short body).
        options.log.warn({ err: e, route: routeName }, 'response stream failed');
        res.destroy();
        options.onRequest?.(routeName, 500);
        return;
      }
      const err =
        e instanceof DepinError
          ? e
          : new DepinError('INTERNAL', 'Internal error.', { cause: e, status: 500 });
      if (err.status >= 500) options.log.error({ err: e, route: routeName }, 'request failed');
      else options.log.debug({ code: err.code, route: routeName }, 'request refused');
      send(res, err.status, err.toJSON());
      options.onRequest?.(routeName, err.status);
      // A refused upload may still be arriving: don't read (possibly megabytes) of it just to keep the
      // connection alive.
      if (err.code === 'BODY_TOO_LARGE' || (raw && !req.readableEnded)) lingeringClose(req, res);
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

function send(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  const text = JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

/**
 * After refusing an oversized body: let the answer reach the client before closing. Closing at once
 * while the client is still sending makes its kernel reset the connection, which can discard the
 * 413 it has not read yet; so discard what keeps arriving for a moment, then close (as web servers'
 * "lingering close" does).
 */
function lingeringClose(req: IncomingMessage, res: ServerResponse): void {
  const socket = req.socket;
  const close = () => socket.destroy();
  res.once('finish', () => {
    if (req.readableEnded) return close();
    req.once('end', close);
    req.resume();
    setTimeout(close, LINGER_MS).unref();
  });
}
const LINGER_MS = 1000;

function tooLarge(maxBody: number): DepinError {
  return new DepinError('BODY_TOO_LARGE', `The body is over ${maxBody} bytes.`, { status: 413 });
}

async function* readRaw(req: IncomingMessage, maxBody: number): AsyncGenerator<Buffer> {
  if (Number(req.headers['content-length'] ?? 0) > maxBody) throw tooLarge(maxBody);
  let size = 0;
  // Leaving the loop early must not destroy the request: the error answer still needs the socket.
  for await (const chunk of req.iterator({ destroyOnReturn: false })) {
    size += (chunk as Buffer).length;
    if (size > maxBody) throw tooLarge(maxBody);
    yield chunk as Buffer;
  }
}

async function* emptyBody(): AsyncGenerator<Buffer> {}

async function readJson(req: IncomingMessage, maxBody: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of readRaw(req, maxBody)) {
    size += chunk.length;
    chunks.push(chunk);
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
