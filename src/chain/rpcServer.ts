/**
 * A plain node:http JSON-RPC endpoint in front of the embedded EVM, so that any wallet or Ethereum
 * library connects with no help from this project. Binds 127.0.0.1 by default.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type RpcServerOptions = {
  handle: (body: string) => Promise<string>;
  host?: string;
  port?: number;
  /** Largest accepted request body in bytes. */
  maxBody?: number;
};

export type RpcServer = { url: string; server: Server; close: () => Promise<void> };

/**
 * Serves `handle` over HTTP POST (and answers CORS preflights for browser wallets).
 *
 * @example const rpc = await startRpcServer({ handle: devnet.handle, port: 8545 });
 */
export async function startRpcServer(options: RpcServerOptions): Promise<RpcServer> {
  const maxBody = options.maxBody ?? 16 * 1024 * 1024;
  const server = createServer((req, res) => {
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('access-control-allow-headers', 'content-type');
    res.setHeader('access-control-allow-methods', 'POST, OPTIONS');
    if (req.method === 'OPTIONS') return void res.writeHead(204).end();
    if (req.method !== 'POST') {
      res.writeHead(405, { 'content-type': 'application/json' });
      return void res.end(rpcError(-32600, 'Use POST with a JSON-RPC body'));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBody) {
        res.writeHead(413, { 'content-type': 'application/json' }).end(rpcError(-32600, 'Request too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (size > maxBody) return;
      options
        .handle(Buffer.concat(chunks).toString('utf8'))
        .then((body) => res.writeHead(200, { 'content-type': 'application/json' }).end(body))
        .catch((e: unknown) =>
          res.writeHead(500, { 'content-type': 'application/json' }).end(rpcError(-32603, String(e))),
        );
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8545, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function rpcError(code: number, message: string): string {
  return JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message } });
}
