/**
 * The embedded chain: an in-process EVM (@nomicfoundation/edr) with funded deterministic dev
 * accounts, mining each transaction at once and an empty block every `blockTime` ms so that block
 * time (and so the epoch clock) keeps moving.
 */
import * as edr from '@nomicfoundation/edr';
import { type EIP1193RequestFn, hexToBytes } from 'viem';
import { DepinError } from '../core/errors.ts';
import { devAccounts } from './devAccounts.ts';

export type DevnetOptions = {
  chainId?: number;
  /** Number of funded dev accounts (derived from the standard test mnemonic). */
  accounts?: number;
  /** Balance of each dev account, in wei. */
  balance?: bigint;
  /** Interval of empty blocks in ms (0: only on transactions). */
  blockTime?: number;
};

export type Devnet = {
  chainId: number;
  /** EIP-1193 `request`, usable by viem's `custom` transport. */
  request: EIP1193RequestFn;
  /** Raw JSON-RPC: a request (or batch) in, the response body out. */
  handle: (body: string) => Promise<string>;
  accounts: ReturnType<typeof devAccounts>;
};

let context: edr.EdrContext | undefined;
async function getContext(): Promise<edr.EdrContext> {
  if (!context) {
    context = new edr.EdrContext();
    await context.registerProviderFactory(edr.L1_CHAIN_TYPE, edr.l1ProviderFactory());
  }
  return context;
}

/**
 * Starts an in-process EVM.
 *
 * @example
 * const devnet = await createDevnet({ chainId: 31337 });
 * const client = createPublicClient({ transport: custom(devnet) });
 */
export async function createDevnet(options: DevnetOptions = {}): Promise<Devnet> {
  const chainId = options.chainId ?? 31337;
  const accounts = devAccounts(options.accounts ?? 20);
  const balance = options.balance ?? 10n ** 24n;
  const hardfork = edr.l1HardforkLatest();
  const ctx = await getContext();
  const blockTime = options.blockTime ?? 1000;
  const provider = await ctx.createProvider(
    edr.L1_CHAIN_TYPE,
    {
      allowBlocksWithSameTimestamp: true,
      allowUnlimitedContractSize: false,
      bailOnCallFailure: true,
      bailOnTransactionFailure: false,
      chainId: BigInt(chainId),
      coinbase: new Uint8Array(20),
      defaultTransactionGasLimit: 16_000_000n,
      genesisState: [
        ...edr.l1GenesisState(hardfork),
        ...accounts.map((a) => ({ address: hexToBytes(a.address), balance })),
      ],
      hardfork: edr.l1HardforkToString(hardfork),
      initialBaseFeePerGas: 1_000_000_000n,
      minGasPrice: 0n,
      mining: {
        autoMine: true,
        ...(blockTime > 0 ? { interval: BigInt(blockTime) } : {}),
        memPool: { order: edr.MineOrdering.Priority },
      },
      network: { genesisBlockGasLimit: 60_000_000n },
      networkId: BigInt(chainId),
      observability: {},
      ownedAccounts: accounts.map((a) => a.privateKey.slice(2)),
      precompileOverrides: [],
    },
    { enable: false, decodeConsoleLogInputsCallback: () => [], printLineCallback: () => {} },
    { subscriptionCallback: () => {} },
    new edr.ContractDecoder(),
  );

  // EDR handles one request at a time per call; batches are split here.
  const handleOne = async (req: unknown): Promise<unknown> => {
    // EDR insists on `params`; JSON-RPC 2.0 lets clients omit it.
    const withParams = req && typeof req === 'object' && !('params' in req) ? { ...req, params: [] } : req;
    const r = await provider.handleRequest(JSON.stringify(withParams));
    const data = typeof r.data === 'string' ? JSON.parse(r.data) : r.data;
    const id = (req as { id?: unknown }).id ?? null;
    return { jsonrpc: '2.0', id, ...data };
  };
  const handle = async (body: string): Promise<string> => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
    }
    if (Array.isArray(parsed)) return JSON.stringify(await Promise.all(parsed.map(handleOne)));
    return JSON.stringify(await handleOne(parsed));
  };
  let nextId = 1;
  const request = (async ({ method, params }: { method: string; params?: unknown }) => {
    const res = (await handleOne({ jsonrpc: '2.0', id: nextId++, method, params: params ?? [] })) as {
      result?: unknown;
      error?: { code: number; message: string; data?: unknown };
    };
    if (res.error) {
      const err = new Error(res.error.message) as Error & { code: number; data?: unknown };
      err.code = res.error.code;
      err.data = res.error.data;
      throw err;
    }
    return res.result;
  }) as EIP1193RequestFn;
  if (!Number.isInteger(chainId) || chainId <= 0) {
    throw new DepinError('CHAIN_BAD_CHAIN_ID', `Chain id must be a positive integer, got ${chainId}.`);
  }
  return { chainId, request, handle, accounts };
}
