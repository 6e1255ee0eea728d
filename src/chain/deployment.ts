/** The deployment file: chain id and each contract's address by name, plus the network's fixed settings. */
import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { DepinError } from '../core/errors.ts';

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/) as z.ZodType<`0x${string}`>;

export const deploymentSchema = z.object({
  chainId: z.number().int().positive(),
  rpc: z.string().optional(),
  deployedAt: z.number().int().nonnegative(),
  contracts: z.object({
    Token: address,
    Credits: address,
    DevPriceFeed: address,
    Params: address,
    Registry: address,
    Epochs: address,
    Validators: address,
    Rewards: address,
    StorageDeals: address,
    Challenges: address,
    EgressPayments: address,
    Timelock: address,
    Governor: address,
  }),
  settings: z.object({
    epochGenesis: z.number().int(),
    epochLength: z.number().int().positive(),
    initialEmission: z.string(),
    halvingEpochs: z.string(),
  }),
});

export type Deployment = z.infer<typeof deploymentSchema>;
export type ContractName = keyof Deployment['contracts'];

/**
 * Reads and checks a deployment file.
 *
 * @example const d = readDeployment('.depin/devnet/deployment.json'); d.contracts.Token
 */
export function readDeployment(path: string): Deployment {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new DepinError(
      'DEPLOYMENT_UNREADABLE',
      `Cannot read the deployment file ${path}: start a chain with \`depin chain\` or pass --deployment.`,
      { cause: e },
    );
  }
  const parsed = deploymentSchema.safeParse(raw);
  if (!parsed.success) {
    throw new DepinError(
      'DEPLOYMENT_INVALID',
      `The deployment file ${path} is not valid: ${parsed.error.issues[0]?.message}.`,
    );
  }
  return parsed.data;
}

export function writeDeployment(path: string, deployment: Deployment): void {
  writeFileSync(path, `${JSON.stringify(deployment, null, 2)}\n`);
}
