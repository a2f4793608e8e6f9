// npm run verify: proves the ledger from its rows (DATABASE_URL, or the embedded database in DATA_DIR).
// Exit code 0 when every check passes, 1 when any mismatch is found, naming the account or transfer.
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/database.ts';
import { verifyLedger } from '../src/store/verify.ts';
import { loadJwtSecret } from '../src/services/secrets.ts';
import { sealKey } from '../src/services/sealer.ts';

const config = loadConfig();
const database = await openDatabase(config, () => {});
try {
  // With the server's secret (JWT_SECRET, or the one kept in DATA_DIR), signed checkpoints are checked too.
  const verification = await verifyLedger(database.pool, { sealKey: sealKey(loadJwtSecret(config)) });
  for (const currency of verification.currencies) console.log(`${currency.code.padEnd(5)} sums to ${currency.total}`);
  console.log(`${verification.accountsChecked} accounts, ${verification.chain.entriesChecked} entries, ${verification.chain.checkpointsChecked} sealed checkpoints checked`);
  for (const mismatch of verification.mismatches) {
    console.log(`MISMATCH ${mismatch.kind} ${mismatch.account_id ?? mismatch.transfer_id ?? mismatch.currency ?? ''}: ${mismatch.detail}`);
  }
  console.log(verification.ok ? 'ledger verified: ok' : `ledger verification FAILED: ${verification.mismatches.length} mismatches`);
  process.exitCode = verification.ok ? 0 : 1;
} finally {
  await database.close();
}
