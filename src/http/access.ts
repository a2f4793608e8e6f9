import { KassaError } from '../ledger/errors.ts';
import type { Wallet } from '../ledger/transfer.ts';
import type { Caller } from '../services/tokens.ts';
import { getWallet } from '../store/wallets.ts';
import { isOperator } from './auth.ts';
import type { RouteContext } from './context.ts';

/** The wallet if the caller may see it; someone else's wallet is exactly as missing as a missing one. */
export async function walletForCaller(ctx: RouteContext, caller: Caller, walletId: string): Promise<Wallet> {
  const wallet = await getWallet(ctx.pool, walletId);
  if (!wallet || (wallet.userId !== caller.userId && !isOperator(caller))) {
    throw new KassaError('wallet_not_found', `no wallet ${walletId}`);
  }
  return wallet;
}
