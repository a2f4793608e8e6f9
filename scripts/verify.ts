// npm run verify: proves the ledger from its rows (DATABASE_URL, or the embedded database in DATA_DIR).
// Exit code 0 when every check passes, 1 when any mismatch is found, naming the account or transfer.
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/database.ts';
import { verifyLedger } from '../src/store/verify.ts';

const database = await openDatabase(loadConfig(), () => {});
try {
  const verification = await verifyLedger(database.pool);
  for (const currency of verification.currencies) console.log(`${currency.code.padEnd(5)} sums to ${currency.total}`);
  console.log(`${verification.accountsChecked} accounts checked`);
  for (const mismatch of verification.mismatches) {
    console.log(`MISMATCH ${mismatch.kind} ${mismatch.account_id ?? mismatch.transfer_id ?? mismatch.currency ?? ''}: ${mismatch.detail}`);
  }
  console.log(verification.ok ? 'ledger verified: ok' : `ledger verification FAILED: ${verification.mismatches.length} mismatches`);
  process.exitCode = verification.ok ? 0 : 1;
} finally {
  await database.close();
}
