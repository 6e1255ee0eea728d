/**
 * Turns a contract revert into a typed DepinError: the Solidity custom error `StakeTooLow(a, b)`
 * becomes code `STAKE_TOO_LOW` with `details.args` holding the decoded arguments.
 */
import { BaseError, ContractFunctionRevertedError, decodeErrorResult, type Hex } from 'viem';
import { DepinError } from '../core/errors.ts';
import * as abis from './abi/index.ts';

type AbiError = { type: 'error'; name: string; inputs: readonly { name: string; type: string }[] };

/** Every custom error of every contract, deduplicated by signature, so nested reverts decode too. */
export const allErrorsAbi: AbiError[] = (() => {
  const seen = new Map<string, AbiError>();
  for (const [key, abi] of Object.entries(abis)) {
    if (!key.endsWith('Abi')) continue;
    for (const item of abi as readonly { type: string }[]) {
      if (item.type !== 'error') continue;
      const e = item as AbiError;
      seen.set(`${e.name}(${e.inputs.map((i) => i.type).join(',')})`, e);
    }
  }
  return [...seen.values()];
})();

/** `StakeTooLow` → `STAKE_TOO_LOW`; OpenZeppelin's `ERC20InsufficientBalance` → `ERC20_INSUFFICIENT_BALANCE`. */
export function errorCode(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toUpperCase();
}

/**
 * Decodes a viem error (or raw revert data) into a DepinError with a stable code. Errors that are
 * not reverts come back as `CHAIN_ERROR` with the original as cause.
 *
 * @example
 * try { await send(...) } catch (e) { throw decodeChainError(e) } // DepinError<'STAKE_TOO_LOW'>
 */
export function decodeChainError(error: unknown, context?: string): DepinError {
  if (error instanceof DepinError) return error;
  const data = revertData(error);
  if (data && data.length >= 10) {
    try {
      const decoded = decodeErrorResult({ abi: allErrorsAbi, data });
      const inputs = allErrorsAbi.find((e) => e.name === decoded.errorName)?.inputs ?? [];
      const args: Record<string, unknown> = {};
      (decoded.args ?? []).forEach((v, i) => {
        args[inputs[i]?.name || `arg${i}`] = typeof v === 'bigint' ? v.toString() : v;
      });
      return new DepinError(
        errorCode(decoded.errorName),
        `${context ? `${context}: ` : ''}the contract refused with ${decoded.errorName}.`,
        { cause: error, details: args },
      );
    } catch {
      // fall through: unknown selector
    }
  }
  if (error instanceof BaseError) {
    const revert = error.walk((e) => e instanceof ContractFunctionRevertedError) as
      | ContractFunctionRevertedError
      | undefined;
    if (revert?.reason) {
      return new DepinError('CHAIN_REVERT', `${context ? `${context}: ` : ''}${revert.reason}`, {
        cause: error,
      });
    }
    return new DepinError('CHAIN_ERROR', `${context ? `${context}: ` : ''}${error.shortMessage}`, {
      cause: error,
    });
  }
  return new DepinError('CHAIN_ERROR', `${context ? `${context}: ` : ''}${String(error)}`, { cause: error });
}

function revertData(error: unknown): Hex | undefined {
  let e: unknown = error;
  for (let depth = 0; e && depth < 10; depth++) {
    const candidate = e as { data?: unknown; raw?: unknown; cause?: unknown };
    if (typeof candidate.raw === 'string' && candidate.raw.startsWith('0x')) return candidate.raw as Hex;
    if (typeof candidate.data === 'string' && candidate.data.startsWith('0x')) return candidate.data as Hex;
    if (candidate.data && typeof candidate.data === 'object') {
      const inner = candidate.data as { data?: unknown };
      if (typeof inner.data === 'string' && inner.data.startsWith('0x')) return inner.data as Hex;
    }
    e = candidate.cause;
  }
  return undefined;
}
