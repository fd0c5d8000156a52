import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startMailDispatcher } from '../src/notify/mail-dispatcher.js';
import { openMailTransport } from '../src/notify/mail-transport.js';
import { openDatabase } from '../src/storage/database.js';
import { migrateToLatest } from '../src/storage/migrate.js';
import { enqueueMail } from '../src/storage/outbox.js';
import { startTestSmtp } from './helpers/smtp.js';

// A mail server that takes the connection and then says nothing (a hung relay, a black-holing
// firewall): a stopping instance must not wait on it mail after mail, and nothing queued is lost.

const dir = mkdtempSync(join(tmpdir(), 'porthole-mail-'));
const database = openDatabase({ dataDir: dir });
const sockets: Socket[] = [];
const silent = createServer((socket) => void sockets.push(socket));
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => silent.close(r));
  await database.close();
  rmSync(dir, { recursive: true, force: true });
});

it('closing waits at most a few seconds for a stalled send, sends no more, and leaves every mail to be sent later', async () => {
  await migrateToLatest(database.db);
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const started = Date.now();
  for (let i = 0; i < 3; i++) await enqueueMail(database.db, { workspaceId: null, kind: 'test', to: `reader${i}@example.test`, subject: `mail ${i}`, text: 'hello' }, started);

  const stalled = startMailDispatcher(database.db, openMailTransport({ smtpUrl: `smtp://127.0.0.1:${(silent.address() as AddressInfo).port}`, dataDir: dir }), { from: 'Porthole <p@example.test>', now: Date.now });
  stalled.kick();
  // The first mail is under way: its connection is open and unanswered.
  while (sockets.length === 0) await new Promise((r) => setTimeout(r, 10));
  const closing = Date.now();
  await stalled.close();
  // Not the 10 s greeting timeout of each of the three mails: the one under way is left to its claim.
  expect(Date.now() - closing).toBeLessThan(5_000);
  expect(sockets).toHaveLength(1);

  // The next instance sends all three: two at once, the claimed one when its claim lapses.
  const smtp = await startTestSmtp();
  try {
    let offset = 0;
    const next = startMailDispatcher(database.db, openMailTransport({ smtpUrl: smtp.url, dataDir: dir }), { from: 'Porthole <p@example.test>', now: () => Date.now() + offset });
    expect(await next.drain()).toBe(2);
    offset = 121_000;
    expect(await next.drain()).toBe(1);
    await next.close();
    expect(smtp.mails.map((m) => m.subject).sort()).toEqual(['mail 0', 'mail 1', 'mail 2']);
    const rows = await database.db.selectFrom('outbox').select('status').execute();
    expect(rows.map((r) => r.status)).toEqual(['sent', 'sent', 'sent']);
  } finally {
    await smtp.close();
  }
}, 30_000);
