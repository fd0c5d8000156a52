import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../src/app/verify-audit.js';
import { buildLink, buildMember, buildResource, buildWorkspace, linkEvents, send } from './helpers/factories.js';
import { describeEachDialect, listening, startHarness, type Harness } from './helpers/harness.js';
import { startTestSmtp, type ReceivedMail } from './helpers/smtp.js';
import { testDialects } from './helpers/databases.js';

const smtp = await startTestSmtp();
afterAll(() => smtp.close());

const codeIn = (m: ReceivedMail): string => {
  const found = /\b(\d{6})\b/.exec(m.text);
  if (!found) throw new Error(`no code in mail: ${m.text}`);
  return found[1];
};
let seq = 0;
const address = (who = 'ana') => `${who}-${Date.now().toString(36)}-${seq++}@client.example`;
const mailTo = (to: string) => smtp.waitFor((m) => m.to === to);

async function authLink(h: () => Harness, body: Record<string, unknown>) {
  const ws = await buildWorkspace(h());
  const r = await buildResource(ws, { fields: { status: 'running' } });
  const link = await buildLink(ws, { resource_type: 'job', resource_id: r.id, requires_auth: true, ...body });
  return { ws, link };
}

const start = (h: () => Harness, id: string, email: string) => send(h().app, 'POST', `/v1/shared/${id}/verify/start`, { email });
const confirm = (h: () => Harness, id: string, body: Record<string, unknown>) => send(h().app, 'POST', `/v1/shared/${id}/verify/confirm`, body);

describeEachDialect(
  'email verification',
  (h) => {
    it('mails a code to the recipient; the code opens the link once, with verified and viewed events and a grant carrying the address', async () => {
      const to = address();
      const { ws, link } = await authLink(h, { recipient_email: to });
      expect((await send(h().app, 'GET', `/v1/shared/${link.token}`)).body.reason).toBe('auth_required');

      const started = await start(h, link.token, to.toUpperCase());
      expect(started.status).toBe(202);
      expect(started.body).toMatchObject({ status: 'code_sent', email: to });
      const mail = await mailTo(to);
      const code = codeIn(mail);
      expect(mail.subject).toBe('Your one-time code');
      expect(mail.subject).not.toContain(code);

      const wrong = await confirm(h, link.token, { email: to, code: code === '000000' ? '111111' : '000000' });
      expect(wrong.status).toBe(401);
      expect(wrong.body).toMatchObject({ reason: 'code_invalid' });

      const opened = await confirm(h, link.token, { email: to, code });
      expect(opened.status).toBe(200);
      expect(opened.body.link.view_count).toBe(1);
      expect(opened.headers['x-porthole-grant']).toBe(opened.body.grant);
      // The grant carries the proven address: later requests need no code and count no view.
      const again = await send(h().app, 'GET', `/v1/shared/${link.token}/meta`, undefined, { 'x-porthole-grant': opened.body.grant });
      expect(again.status).toBe(200);
      const table = await send(h().app, 'GET', `/v1/shared/${link.token}`, undefined, { 'x-porthole-grant': opened.body.grant });
      expect(table.status).toBe(200);
      expect(table.body.link.view_count).toBe(1);

      // A code works once.
      expect((await confirm(h, link.token, { email: to, code })).body.reason).toBe('code_invalid');

      const events = await linkEvents(ws, link.id);
      expect(events.map((e) => [e.type, e.reason])).toEqual([
        ['created', null],
        ['access_denied', 'auth_required'],
        ['access_denied', 'code_invalid'],
        ['verified', null],
        ['viewed', null],
        ['access_denied', 'code_invalid'],
      ]);
      const verified = events.find((e) => e.type === 'verified');
      expect(verified.email).toBe(to);
      expect(verified.actor).toBe(`email:${to}`);
      expect(events.find((e) => e.type === 'viewed').email).toBe(to);
      expect((await verifyAudit(h().ctx, { linkId: link.id })).breaks).toEqual([]);

      const outbox = await h().ctx.database.db.selectFrom('outbox').selectAll().where('to_address', '=', to).execute();
      expect(outbox.map((o) => [o.kind, o.status, o.attempts])).toEqual([['verification_code', 'sent', 1]]);
      // A sent mail's text is not kept: it held the code.
      expect(outbox[0].body_text).toBe('');
      // The code is stored only as a keyed hash, and never logged.
      const stored = await h().ctx.database.db.selectFrom('verification_codes').selectAll().where('link_id', '=', link.id).execute();
      expect(JSON.stringify(stored)).not.toContain(code);
      expect(h().logs.join('')).not.toContain(code);
    });

    it('an address the link does not allow gets the same answer, no mail, and an access_denied event', async () => {
      const { ws, link } = await authLink(h, { allowed_emails: [address('allowed')] });
      const stranger = address('stranger');
      const res = await start(h, link.token, stranger);
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ status: 'code_sent', email: stranger });
      const queued = await h().ctx.database.db.selectFrom('outbox').select('id').where('to_address', '=', stranger).execute();
      expect(queued).toEqual([]);
      const denied = (await linkEvents(ws, link.id)).filter((e) => e.type === 'access_denied');
      expect(denied.map((e) => [e.reason, e.metadata])).toEqual([['auth_required', { action: 'verify', address_allowed: false }]]);
      // Nor can a guessed code open it for that address.
      expect((await confirm(h, link.token, { email: stranger, code: '123456' })).body.reason).toBe('code_invalid');
    });

    it('allowed domains match case-insensitively; with no address named, only workspace members get a code', async () => {
      const { link } = await authLink(h, { allowed_domains: ['Client.Example'] });
      const to = address('domain');
      expect((await start(h, link.token, to)).status).toBe(202);
      await mailTo(to);

      const { ws, link: membersOnly } = await authLink(h, {});
      const member = await buildMember(h(), ws, { role: 'member' });
      const outsider = address('outsider');
      expect((await start(h, membersOnly.token, outsider)).status).toBe(202);
      expect((await start(h, membersOnly.token, member.email)).status).toBe(202);
      const code = codeIn(await mailTo(member.email));
      expect((await confirm(h, membersOnly.token, { email: member.email, code })).status).toBe(200);
      const outbox = await h().ctx.database.db.selectFrom('outbox').select('to_address').where('to_address', '=', outsider).execute();
      expect(outbox).toEqual([]);
    });

    it('a code dies after 5 wrong tries, after 10 minutes, and when a newer one is sent; one new code per address per 30 seconds', async () => {
      const to = address();
      const { link } = await authLink(h, { recipient_email: to });
      const mailsTo = () => smtp.mails.filter((m) => m.to === to);

      await start(h, link.token, to);
      const first = codeIn(await mailTo(to));
      const wrong = first === '999999' ? '999998' : '999999';
      for (let i = 0; i < 5; i++) expect((await confirm(h, link.token, { email: to, code: wrong })).body.reason).toBe('code_invalid');
      expect((await confirm(h, link.token, { email: to, code: first })).body.reason).toBe('code_invalid');

      // Asking again within 30 seconds sends nothing new.
      await start(h, link.token, to);
      await h().ctx.mail.drain();
      expect(mailsTo()).toHaveLength(1);

      h().advance(31_000);
      await start(h, link.token, to);
      const second = codeIn(await smtp.waitFor((m) => m.to === to && mailsTo().indexOf(m) === 1));
      h().advance(31_000);
      await start(h, link.token, to);
      const third = codeIn(await smtp.waitFor((m) => m.to === to && mailsTo().indexOf(m) === 2));
      if (second !== third) expect((await confirm(h, link.token, { email: to, code: second })).body.reason).toBe('code_invalid');

      h().advance(10 * 60_000 + 1);
      expect((await confirm(h, link.token, { email: to, code: third })).body.reason).toBe('code_invalid');
    });

    it('with a password too, the code is tried only with the right password, and is not burnt by a missing one', async () => {
      const to = address();
      const { link } = await authLink(h, { recipient_email: to, password: 'open sesame' });
      await start(h, link.token, to);
      const code = codeIn(await mailTo(to));
      expect((await confirm(h, link.token, { email: to, code })).body.reason).toBe('password_required');
      expect((await confirm(h, link.token, { email: to, code, password: 'wrong one' })).body.reason).toBe('password_invalid');
      const opened = await confirm(h, link.token, { email: to, code, password: 'open sesame' });
      expect(opened.status).toBe(200);
    });

    it('the link must be open up to the identity check: revoked, expired and exhausted links send no code', async () => {
      const to = address();
      const { ws, link } = await authLink(h, { recipient_email: to, max_views: 1 });
      await start(h, link.token, to);
      expect((await confirm(h, link.token, { email: to, code: codeIn(await mailTo(to)) })).status).toBe(200);
      expect((await start(h, link.token, to)).body.reason).toBe('max_views_reached');

      const own = await buildLink(ws, { resource_type: 'job', resource_id: null, requires_auth: true, recipient_email: to });
      await ws.api('POST', `/v1/links/${own.id}/revoke`);
      expect((await start(h, own.token, to)).body.reason).toBe('revoked');

      const plain = await buildLink(ws, { resource_type: 'job', resource_id: null });
      const res = await start(h, plain.token, to);
      expect(res.status).toBe(409);
      expect(res.body.reason).toBe('conflict');
    });

    it('refuses malformed input with 400, and limits requests for codes per link and client', async () => {
      const to = address();
      const { link } = await authLink(h, { recipient_email: to });
      for (const body of [{}, { email: 'not-an-address' }, { email: to, extra: 1 }, { email: 'x'.repeat(400) + '@a.example' }]) {
        const res = await send(h().app, 'POST', `/v1/shared/${link.token}/verify/start`, body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.body).toMatchObject({ error: expect.any(String), reason: expect.any(String) });
      }
      for (const body of [{ email: to }, { email: to, code: '12345' }, { email: to, code: 'abcdef' }, { email: to, code: 123456 }]) {
        const res = await confirm(h, link.token, body);
        expect(res.status, JSON.stringify(body)).toBe(400);
      }
      expect((await start(h, 'short', to)).body.reason).toBe('invalid_token');

      const { link: limited } = await authLink(h, { recipient_email: to });
      for (let i = 0; i < 10; i++) expect((await start(h, limited.token, address('many'))).status).toBe(202);
      const refused = await start(h, limited.token, to);
      expect(refused.status).toBe(429);
      expect(refused.body.reason).toBe('rate_limited');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    });
  },
  { env: { SMTP_URL: smtp.url } },
);

describeEachDialect(
  'email verification pages',
  (h) => {
    it('email form, code form, then the page: no script needed, the grant in a cookie', async () => {
      const to = address('page');
      const { link } = await authLink(h, { recipient_email: to, label: 'Quarterly report' });
      const base = await listening(h().app);
      const page = `${base}/shared/${link.token}`;
      const first = await fetch(page);
      expect(first.status).toBe(401);
      const html = await first.text();
      expect(html).toContain(`action="/shared/${link.token}/verify/start"`);

      const form = (body: Record<string, string>) => ({ method: 'POST', redirect: 'manual' as const, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body).toString() });
      const bad = await fetch(`${page}/verify/start`, form({ email: 'nope' }));
      expect(bad.status).toBe(400);
      expect(await bad.text()).toContain('doesn’t look like an email address');

      const codePage = await fetch(`${page}/verify/start`, form({ email: to }));
      expect(codePage.status).toBe(200);
      const codeHtml = await codePage.text();
      expect(codeHtml).toContain('Check your mail');
      expect(codeHtml).toContain(`action="/shared/${link.token}/verify/confirm"`);
      const mail = await mailTo(to);
      expect(mail.text).toContain('“Quarterly report”');
      expect(mail.text).not.toContain(link.token);
      const code = codeIn(mail);

      const wrong = await fetch(`${page}/verify/confirm`, form({ email: to, code: code === '123123' ? '321321' : '123123' }));
      expect(wrong.status).toBe(401);
      expect(await wrong.text()).toContain('That code didn’t work');

      const right = await fetch(`${page}/verify/confirm`, form({ email: to, code }));
      expect(right.status).toBe(303);
      expect(right.headers.get('location')).toBe(`/shared/${link.token}`);
      const cookie = right.headers.get('set-cookie') ?? '';
      expect(cookie).toMatch(/porthole_grant=g1\./);
      expect(cookie).toMatch(/HttpOnly/i);
      const opened = await fetch(page, { headers: { cookie: cookie.split(';')[0] } });
      expect(opened.status).toBe(200);
      const content = await opened.text();
      expect(content).toContain('<h1>Resource ');
      expect(content).toContain('1 view');

      // Reloading a form's address leads back to the page.
      const reload = await fetch(`${page}/verify/confirm`, { redirect: 'manual' });
      expect(reload.status).toBe(303);
    });
  },
  { env: { SMTP_URL: smtp.url } },
);

describe('the outbox', () => {
  const dialects = testDialects();
  it('retries a mail the server refuses, with backoff, and marks it failed after 5 attempts', async () => {
    for (const dialect of await dialects) {
      const h = await startHarness(dialect, { SMTP_URL: smtp.url });
      try {
        const to = address('retry');
        const { link } = await authLink(() => h, { recipient_email: to });
        smtp.refuseNext(1);
        await start(() => h, link.token, to);
        await h.ctx.mail.drain();
        const row = () => h.ctx.database.db.selectFrom('outbox').selectAll().where('to_address', '=', to).executeTakeFirstOrThrow();
        expect(await row()).toMatchObject({ status: 'pending', attempts: 1 });
        expect((await row()).last_error).toContain('450');
        // Not before its time: the first retry waits 30 seconds.
        await h.ctx.mail.drain();
        expect((await row()).attempts).toBe(1);
        h.advance(30_000);
        await h.ctx.mail.drain();
        expect(await row()).toMatchObject({ status: 'sent', attempts: 2, last_error: null });
        expect(h.logs.join('')).toContain('mail not sent; will retry');

        const gone = address('gone');
        const { link: other } = await authLink(() => h, { recipient_email: gone });
        smtp.refuseNext(5);
        await start(() => h, other.token, gone);
        for (let i = 0; i < 6; i++) {
          await h.ctx.mail.drain();
          h.advance(3_600_000);
        }
        const failed = await h.ctx.database.db.selectFrom('outbox').selectAll().where('to_address', '=', gone).executeTakeFirstOrThrow();
        expect(failed).toMatchObject({ status: 'failed', attempts: 5 });
        expect(smtp.mails.filter((m) => m.to === gone)).toEqual([]);
      } finally {
        await h.close();
      }
    }
  });

  it('without SMTP_URL, writes each mail as an .eml file under the data directory', async () => {
    const h = await startHarness('sqlite');
    try {
      const to = address('file');
      const { link } = await authLink(() => h, { recipient_email: to });
      await start(() => h, link.token, to);
      await h.ctx.mail.drain();
      const dir = join(h.ctx.config.dataDir, 'mail');
      expect(existsSync(dir)).toBe(true);
      const files = readdirSync(dir);
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/^mail_[0-9a-z]+\.eml$/);
      const eml = readFileSync(join(dir, files[0]), 'utf8');
      expect(eml).toContain(`To: ${to}`);
      expect(eml).toMatch(/Your one-time code is \d{6}/);
    } finally {
      await h.close();
    }
  });
});
