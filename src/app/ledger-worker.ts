// The ledger's writer thread (see ledger-thread.ts): its own connection to the
// SQLite file, the same group committer and jobs as on the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../storage/database.js';
import type { LedgerReply, LedgerRequest, LedgerWorkerData } from './ledger-thread.js';
import { inProcessLedger } from './public-ledger.js';

const port = parentPort;
if (!port) throw new Error('ledger-worker runs as a worker thread');

const { file, sharedFlags } = workerData as LedgerWorkerData;
// This connection writes the views, so it also finishes the WAL's checkpoints between its commits.
const database = openDatabase({ dataDir: '', sqliteFile: file, sqliteRole: 'writer', sharedFlags });

let reply: LedgerReply = { results: [], batches: [] };
let scheduled = false;
const send = () => {
  scheduled = false;
  const out = reply;
  reply = { results: [], batches: [] };
  port.postMessage(out);
};
// Outcomes of one commit settle together: they go back in one message.
const queue = (add: (r: LedgerReply) => void) => {
  add(reply);
  if (!scheduled) {
    scheduled = true;
    setImmediate(send);
  }
};

const ledger = inProcessLedger(database.db, { maxInFlight: 1, onBatch: (size) => queue((r) => r.batches.push(size)) });

port.on('message', (m: LedgerRequest | 'close') => {
  if (m === 'close') {
    void ledger
      .close()
      .then(() => database.close())
      .finally(() => process.exit(0));
    return;
  }
  for (const { id, job } of m.jobs) {
    ledger.run(job).then(
      (value) => queue((r) => r.results.push({ id, ok: true, value })),
      (e: { message?: string; code?: string }) => queue((r) => r.results.push({ id, ok: false, error: { message: String(e?.message ?? e), code: e?.code } })),
    );
  }
});
