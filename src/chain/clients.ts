/**
 * viem clients for one process: a public client, and a wallet client for its own key that sends
 * transactions one at a time (so nonces never collide) and turns reverts into typed errors.
 */
import {
  type Abi,
  type Account,
  type Chain,
  type ContractFunctionArgs,
  type ContractFunctionName,
  createPublicClient,
  createWalletClient,
  defineChain,
  encodeFunctionData,
  type Hex,
  http,
  type LocalAccount,
  type PublicClient,
  type TransactionReceipt,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { DepinError } from '../core/errors.ts';
import { decodeChainError } from './errors.ts';

export type ChainClientsOptions = {
  rpc: string;
  chainId: number;
  privateKey?: Hex;
  /** Alternatively, an account object (e.g. decrypted from a keystore). */
  account?: LocalAccount;
  /** How often to poll for receipts and blocks, ms. */
  pollingInterval?: number;
};

export type ChainClients = {
  chain: Chain;
  public: PublicClient;
  account: Account | undefined;
  /** Simulates, sends and waits for a contract call; reverts become DepinErrors with stable codes. */
  write: <const abi extends Abi, name extends ContractFunctionName<abi, 'nonpayable' | 'payable'>>(call: {
    address: Hex;
    abi: abi;
    functionName: name;
    args: ContractFunctionArgs<abi, 'nonpayable' | 'payable', name>;
    gas?: bigint;
  }) => Promise<TransactionReceipt>;
  /** Sends raw calldata (no `to`: a deployment), queued with `write`. */
  send: (tx: { to?: Hex; data: Hex; gas?: bigint; label: string }) => Promise<TransactionReceipt>;
};

/**
 * @example
 * const c = createChainClients({ rpc: 'http://127.0.0.1:8545', chainId: 31337, privateKey });
 * await c.write({ address, abi: registryAbi, functionName: 'stake', args: [10n ** 18n] });
 */
export function createChainClients(options: ChainClientsOptions): ChainClients {
  const chain = defineChain({
    id: options.chainId,
    name: `depin-${options.chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [options.rpc] } },
  });
  const pollingInterval = options.pollingInterval ?? 100;
  const transport = http(options.rpc, { retryCount: 2, timeout: 30_000 });
  const publicClient = createPublicClient({ chain, transport, pollingInterval }) as PublicClient;
  const account =
    options.account ?? (options.privateKey ? privateKeyToAccount(options.privateKey) : undefined);
  const wallet = account ? createWalletClient({ chain, transport, account, pollingInterval }) : undefined;
  let queue: Promise<unknown> = Promise.resolve();

  const send: ChainClients['send'] = (tx) => {
    if (!wallet || !account) {
      return Promise.reject(
        new DepinError('CHAIN_NO_ACCOUNT', 'This client has no key: pass --key or a keystore.'),
      );
    }
    const run = async () => {
      const to = tx.to ?? null;
      let gas = tx.gas;
      try {
        if (gas === undefined) {
          const estimate = await publicClient.estimateGas({ account, data: tx.data, ...(to ? { to } : {}) });
          gas = (estimate * 12n) / 10n + 10_000n;
        }
      } catch (e) {
        throw decodeChainError(e, tx.label);
      }
      let hash: Hex;
      try {
        hash = await wallet.sendTransaction({ account, chain, to, data: tx.data, gas });
      } catch (e) {
        throw decodeChainError(e, tx.label);
      }
      const receipt = await publicClient.waitForTransactionReceipt({ hash, pollingInterval });
      if (receipt.status !== 'success') {
        // Replay as a call at the same block to recover the revert reason.
        try {
          await publicClient.call({
            account,
            data: tx.data,
            blockNumber: receipt.blockNumber,
            ...(to ? { to } : {}),
          });
        } catch (e) {
          throw decodeChainError(e, tx.label);
        }
        throw new DepinError('CHAIN_TX_FAILED', `${tx.label} failed in transaction ${hash}.`);
      }
      return receipt;
    };
    const result = queue.then(run, run);
    queue = result.catch(() => undefined);
    return result;
  };

  const write: ChainClients['write'] = (call) =>
    send({
      to: call.address,
      data: encodeFunctionData({
        abi: call.abi as Abi,
        functionName: call.functionName as string,
        args: call.args as unknown[],
      }),
      label: call.functionName,
      ...(call.gas === undefined ? {} : { gas: call.gas }),
    });

  return { chain, public: publicClient, account, write, send };
}
