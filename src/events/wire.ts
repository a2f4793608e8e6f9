// Events as every consumer sees them: the HTTP feed, live streams, brokers and webhooks alike.
import { renderTransfer, type Currencies } from '../http/render.ts';
import type { EventWire } from '../http/schemas.ts';
import type { EventRecord } from '../store/events.ts';
import { transferFromSnapshot, type TransferSnapshot } from '../store/transfers.ts';

/** Transfer events carry the transfer as the write recorded it (minor units); the wire shows it as the API does. */
export function renderEvent(event: EventRecord, currencies: Currencies): EventWire {
  const isUserOrWallet = event.type === 'user.created' || event.type === 'wallet.created';
  return {
    id: event.id,
    sequence: event.sequence.toString(),
    type: event.type as EventWire['type'],
    created_at: event.createdAt.toISOString(),
    wallet_ids: event.walletIds,
    data: isUserOrWallet ? event.data : renderTransfer(transferFromSnapshot(event.data as unknown as TransferSnapshot), currencies),
  };
}
