import { afterAll, expect, it } from 'vitest';
import { verifyAudit } from '../src/app/verify-audit.js';
import { buildApiKey, buildMember, buildResource, buildWorkspace, countRows, linkEvents, send, signIn, type TestWorkspace } from './helpers/factories.js';
import { describeEachDialect, type Harness } from './helpers/harness.js';
import { startTestSmtp, type ReceivedMail } from './helpers/smtp.js';
import { failInserts } from './helpers/faults.js';

const smtp = await startTestSmtp();
afterAll(() => smtp.close());

let seq = 0;
const address = (who = 'ana') => `${who}-${Date.now().toString(36)}-${seq++}@client.example`;
const mailTo = (to: string) => smtp.waitFor((m) => m.to === to);
const mailsTo = (to: string) => smtp.mails.filter((m) => m.to === to);
const URL_RE = /http:\/\/porthole\.test\/shared\/[A-Za-z0-9_-]{43}/g;
const urlsIn = (m: ReceivedMail) => m.text.match(URL_RE) ?? [];

async function outboxOf(h: Harness, workspaceId: string) {
  return h.ctx.database.db.selectFrom('outbox').selectAll().where('workspace_id', '=', workspaceId).orderBy('created_at').execute();
}

async function targetOf(ws: TestWorkspace, title = 'Nightly import #42') {
  const r = await buildResource(ws, { title });
  return { resource_type: r.type, resource_id: r.id };
}

/** Makes every mail queued to `to` fail to be written (a trigger on the outbox): the transaction that queues it must fail whole. */
const failOutboxFor = (h: Harness, to: string) => failInserts(h, 'outbox', 'to_address', to);

describeEachDialect(
  'link notifications',
  (h) => {
    it('send_notification mails the recipient the URL that opens the link, the note quoted, the expiry, and writes notified in the same transaction', async () => {
      const ws = await buildWorkspace(h());
      expect((await ws.api('PATCH', '/v1/workspace', { name: 'Acme Logistics' })).status).toBe(200);
      const target = await targetOf(ws);
      const to = address();
      const message = 'Here is the import you asked about.\nThe costs are on page 2.';
      const res = await ws.api('POST', '/v1/links', {
        ...target,
        recipient_email: to.toUpperCase(),
        send_notification: true,
        custom_message: message,
        label: 'Import for Ana',
        expires_in_days: 3,
        max_views: 5,
      });
      expect(res.status, res.text).toBe(201);
      expect(res.body).toMatchObject({ notified: true, recipient_email: to, label: 'Import for Ana', max_views: 5 });

      const mail = await mailTo(to);
      expect(mail.subject).toBe('Acme Logistics shared “Import for Ana” with you');
      expect(mail.subject).not.toContain(res.body.token);
      expect(mail.text).toContain('Acme Logistics shared “Import for Ana” (Nightly import #42) with you.');
      expect(mail.text).toContain('> Here is the import you asked about.\n> The costs are on page 2.');
      expect(urlsIn(mail)).toEqual([res.body.url]);
      const until = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' }).format(Date.parse(res.body.expires_at));
      expect(mail.text).toContain(`The link works until ${until} UTC.`);
      expect(mail.text).toContain('It can be opened 5 times.');
      expect(mail.text).not.toContain('password');

      // The URL in the mail opens the link: the page and the JSON API.
      const path = new URL(res.body.url).pathname;
      const page = await send(h().app, 'GET', path);
      expect(page.status).toBe(200);
      expect(page.text).toContain('Nightly import #42');
      const json = await send(h().app, 'GET', `/v1${path}`);
      expect(json.status).toBe(200);

      const events = await linkEvents(ws, res.body.id);
      expect(events.map((e) => e.type)).toEqual(['created', 'notified', 'viewed', 'viewed']);
      const notified = events[1];
      expect(notified.metadata).toEqual({ kind: 'link_shared', to });
      expect(notified.actor).toBe(events[0].actor);
      // The event tells who was mailed, never what: no note, no token.
      expect(JSON.stringify(events)).not.toContain('page 2');
      expect(JSON.stringify(events)).not.toContain(res.body.token);
      expect((await verifyAudit(h().ctx, { linkId: res.body.id })).breaks).toEqual([]);

      await h().ctx.mail.drain();
      const outbox = await outboxOf(h(), ws.workspaceId);
      expect(outbox.map((o) => [o.kind, o.to_address, o.status])).toEqual([['link_shared', to, 'sent']]);
      // A sent mail's text is not kept: it held the link.
      expect(outbox[0].body_text).toBe('');
      expect(h().logs.join('')).not.toContain(res.body.token);
    });

    it('a member is named by their address; a password or email check is announced, and the password never sent', async () => {
      const ws = await buildWorkspace(h());
      const member = await buildMember(h(), ws, { role: 'member' });
      const target = await targetOf(ws, 'Q3 report');
      const to = address('bo');
      const res = await member.session.send('POST', '/v1/links', { ...target, recipient_email: to, send_notification: true, password: 'open sesame', requires_auth: true });
      expect(res.status, res.text).toBe(201);
      expect(res.body.notified).toBe(true);
      const mail = await mailTo(to);
      expect(mail.subject).toBe(`${member.email} shared “Q3 report” with you`);
      expect(mail.text).toContain(`${member.email} shared “Q3 report” with you.`);
      expect(mail.text).toContain(`It asks for a password, which is not in this mail: ask ${member.email} for it.`);
      expect(mail.text).toContain(`a one-time code is mailed to ${to}`);
      expect(mail.text).not.toContain('open sesame');
      expect(mail.raw).not.toContain('open sesame');
      expect(urlsIn(mail)).toEqual([res.body.url]);
      // It asks for exactly that.
      expect((await send(h().app, 'GET', `/v1/shared/${res.body.token}`)).body.reason).toBe('password_required');
      const events = await linkEvents(ws, res.body.id);
      expect(events.map((e) => [e.type, e.actor])).toEqual([
        ['created', `user:${member.userId}`],
        ['notified', `user:${member.userId}`],
        ['access_denied', null],
      ]);
    });

    it('a collection link is named by its type\'s label; without send_notification no one is mailed', async () => {
      const ws = await buildWorkspace(h());
      expect((await ws.api('PUT', '/v1/resource-types/job', { label: 'Nightly jobs', fields: [] })).status).toBe(200);
      await buildResource(ws, { type: 'job' });
      const to = address('col');
      const res = await ws.api('POST', '/v1/links', { resource_type: 'job', resource_id: null, recipient_email: to, send_notification: true });
      expect(res.status, res.text).toBe(201);
      expect((await mailTo(to)).subject).toBe('Test workspace shared “Nightly jobs” with you');

      const quiet = address('quiet');
      const plain = await ws.api('POST', '/v1/links', { resource_type: 'job', resource_id: null, recipient_email: quiet });
      expect(plain.status).toBe(201);
      expect(plain.body.notified).toBe(false);
      await h().ctx.mail.drain();
      expect(mailsTo(quiet)).toEqual([]);
      expect((await linkEvents(ws, plain.body.id)).map((e) => e.type)).toEqual(['created']);
    });

    it('refuses send_notification without a recipient and custom_message without send_notification: 400 naming the field, nothing created or queued', async () => {
      const ws = await buildWorkspace(h());
      const target = await targetOf(ws);
      const before = await countRows(h(), ws.workspaceId);
      const cases: Array<[unknown, string]> = [
        [{ ...target, send_notification: true }, 'recipient_email'],
        [{ ...target, send_notification: true, recipient_email: null, custom_message: 'hi' }, 'recipient_email'],
        [{ ...target, recipient_email: address(), custom_message: 'hi' }, 'custom_message'],
        [{ ...target, recipient_email: address(), send_notification: false, custom_message: 'hi' }, 'custom_message'],
        [{ ...target, recipient_email: address(), send_notification: true, custom_message: 'x'.repeat(2001) }, 'custom_message'],
        [{ ...target, recipient_email: address(), send_notification: true, custom_message: '' }, 'custom_message'],
        [{ ...target, recipient_email: address(), send_notification: 'yes' }, 'send_notification'],
      ];
      for (const [body, field] of cases) {
        const res = await ws.api('POST', '/v1/links', body);
        expect(res.status, res.text).toBe(400);
        expect(res.body).toMatchObject({ reason: 'invalid_request', field });
      }
      expect(await countRows(h(), ws.workspaceId)).toEqual(before);
      expect(await outboxOf(h(), ws.workspaceId)).toEqual([]);
    });

    it('reuse_active: the reused link (200) is mailed only when asked, with its own notified event', async () => {
      const ws = await buildWorkspace(h());
      const target = await targetOf(ws);
      const to = address('reuse');
      const first = await ws.api('POST', '/v1/links', { ...target, recipient_email: to, reuse_active: true });
      expect(first.status).toBe(201);
      expect(first.body.notified).toBe(false);

      const again = await ws.api('POST', '/v1/links', { ...target, recipient_email: to, reuse_active: true, send_notification: true, custom_message: 'Same link as before' });
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ id: first.body.id, token: first.body.token, notified: true });
      const mail = await mailTo(to);
      expect(urlsIn(mail)).toEqual([first.body.url]);
      expect(mail.text).toContain('> Same link as before');

      const quiet = await ws.api('POST', '/v1/links', { ...target, recipient_email: to, reuse_active: true });
      expect(quiet.status).toBe(200);
      expect(quiet.body.notified).toBe(false);
      await h().ctx.mail.drain();
      expect(mailsTo(to)).toHaveLength(1);
      expect((await linkEvents(ws, first.body.id)).map((e) => e.type)).toEqual(['created', 'notified']);
      expect((await verifyAudit(h().ctx, { linkId: first.body.id })).breaks).toEqual([]);
    });

    it('the mail is queued in the link\'s transaction: when it cannot be queued, no link is created', async () => {
      const ws = await buildWorkspace(h());
      const target = await targetOf(ws);
      const to = address('nolink');
      const before = await countRows(h(), ws.workspaceId);
      const undo = await failOutboxFor(h(), to);
      try {
        const res = await ws.api('POST', '/v1/links', { ...target, recipient_email: to, send_notification: true });
        expect(res.status).toBe(500);
      } finally {
        await undo();
      }
      expect(await countRows(h(), ws.workspaceId)).toEqual(before);
      expect(await outboxOf(h(), ws.workspaceId)).toEqual([]);
    });

    it('a mail server refusing the mail never fails the link: it stays queued and is sent on a later attempt', async () => {
      const ws = await buildWorkspace(h());
      const target = await targetOf(ws);
      const to = address('retry');
      await h().ctx.mail.drain();
      smtp.refuseNext(1);
      const res = await ws.api('POST', '/v1/links', { ...target, recipient_email: to, send_notification: true });
      expect(res.status).toBe(201);
      expect(res.body.notified).toBe(true);
      await h().ctx.mail.drain();
      const row = async () => (await outboxOf(h(), ws.workspaceId))[0];
      expect(await row()).toMatchObject({ kind: 'link_shared', status: 'pending', attempts: 1 });
      expect((await row()).last_error).toContain('450');
      expect((await ws.api('GET', `/v1/links/${res.body.id}`)).body.status).toBe('active');

      h().advance(30_000);
      await h().ctx.mail.drain();
      expect(await row()).toMatchObject({ status: 'sent', attempts: 2 });
      expect(urlsIn(await mailTo(to))).toEqual([res.body.url]);
    });
  },
  { env: { SMTP_URL: smtp.url } },
);

describeEachDialect(
  'bulk links',
  (h) => {
    it('makes one link per recipient in input order, each with its own token, limits, events and mail', async () => {
      const ws = await buildWorkspace(h());
      const target = await targetOf(ws, 'Shipping manifest');
      const recipients = [address('a'), address('b'), address('c')];
      const res = await ws.api('POST', '/v1/links/bulk', {
        template: { ...target, max_views: 1, label: 'Manifest', send_notification: true, custom_message: 'For your records.' },
        recipients: [
          { recipient_email: recipients[0] },
          { recipient_email: recipients[1].toUpperCase(), recipient_contact_id: 'crm-17', label: 'Manifest for B', custom_message: 'B: see line 4.' },
          { recipient_email: recipients[2], label: null },
        ],
      });
      expect(res.status, res.text).toBe(201);
      const links = res.body.links;
      expect(links.map((l: any) => l.recipient_email)).toEqual(recipients);
      expect(links.map((l: any) => l.label)).toEqual(['Manifest', 'Manifest for B', null]);
      expect(links[1].recipient_contact_id).toBe('crm-17');
      expect(links.every((l: any) => l.notified && l.max_views === 1 && l.status === 'active' && l.resource_id === target.resource_id)).toBe(true);
      for (const key of ['id', 'token', 'short_code', 'url']) expect(new Set(links.map((l: any) => l[key])).size).toBe(3);

      for (const [i, l] of links.entries()) {
        const mail = await mailTo(recipients[i]);
        expect(urlsIn(mail)).toEqual([l.url]);
        expect(mail.text).toContain(i === 1 ? '> B: see line 4.' : '> For your records.');
        if (i !== 1) expect(mail.text).not.toContain('line 4');
        const events = await linkEvents(ws, l.id);
        expect(events.map((e) => [e.type, e.metadata])).toEqual([
          ['created', { resource_type: target.resource_type, resource_id: target.resource_id }],
          ['notified', { kind: 'link_shared', to: recipients[i] }],
        ]);
        expect((await verifyAudit(h().ctx, { linkId: l.id })).breaks).toEqual([]);
      }
      // Each has its own view limit: using up one leaves the others open.
      expect((await send(h().app, 'GET', `/v1/shared/${links[0].token}`)).status).toBe(200);
      expect((await send(h().app, 'GET', `/v1/shared/${links[0].token}`)).body.reason).toBe('max_views_reached');
      expect((await send(h().app, 'GET', `/v1/shared/${links[1].token}`)).status).toBe(200);
      expect(await outboxOf(h(), ws.workspaceId)).toHaveLength(3);
    });

    it('without send_notification, bulk links mail no one', async () => {
      const ws = await buildWorkspace(h());
      const target = await targetOf(ws);
      const to = [address('q1'), address('q2')];
      const res = await ws.api('POST', '/v1/links/bulk', { template: target, recipients: to.map((recipient_email) => ({ recipient_email })) });
      expect(res.status, res.text).toBe(201);
      expect(res.body.links.map((l: any) => l.notified)).toEqual([false, false]);
      for (const l of res.body.links) expect((await linkEvents(ws, l.id)).map((e) => e.type)).toEqual(['created']);
      expect(await outboxOf(h(), ws.workspaceId)).toEqual([]);
    });

    it('an invalid item refuses the whole call with 400 naming its index; nothing is created or mailed', async () => {
      const ws = await buildWorkspace(h());
      const target = await targetOf(ws);
      const ok = () => ({ recipient_email: address('ok') });
      const template = { ...target, send_notification: true };
      const before = await countRows(h(), ws.workspaceId);
      const dup = address('dup');
      const cases: Array<[string, unknown, number, string, string]> = [
        ['bad address at 3', { template, recipients: [ok(), ok(), ok(), { recipient_email: 'not-an-address' }] }, 400, 'invalid_request', 'recipients.3.recipient_email'],
        ['missing address at 1', { template, recipients: [ok(), {}] }, 400, 'invalid_request', 'recipients.1.recipient_email'],
        ['unknown key at 2', { template, recipients: [ok(), ok(), { ...ok(), password: 'x' }] }, 400, 'invalid_request', 'recipients.2.password'],
        ['message too long at 0', { template, recipients: [{ ...ok(), custom_message: 'x'.repeat(2001) }] }, 400, 'invalid_request', 'recipients.0.custom_message'],
        ['same address twice', { template, recipients: [{ recipient_email: dup }, ok(), { recipient_email: dup.toUpperCase() }] }, 400, 'invalid_request', 'recipients.2.recipient_email'],
        ['message without notification at 1', { template: target, recipients: [ok(), { ...ok(), custom_message: 'hi' }] }, 400, 'invalid_request', 'recipients.1.custom_message'],
        ['template message without notification', { template: { ...target, custom_message: 'hi' }, recipients: [ok()] }, 400, 'invalid_request', 'template.custom_message'],
        ['recipient in the template', { template: { ...template, recipient_email: address() }, recipients: [ok()] }, 400, 'invalid_request', 'template.recipient_email'],
        ['reuse_active in the template', { template: { ...template, reuse_active: true }, recipients: [ok()] }, 400, 'invalid_request', 'template.reuse_active'],
        ['filter on a single resource', { template: { ...template, filter: { status: 'done' } }, recipients: [ok()] }, 400, 'invalid_request', 'template.filter'],
        ['never expiring against policy', { template: { ...template, expires_at: null }, recipients: [ok()] }, 422, 'policy_violation', 'template.expires_at'],
        ['no recipients', { template, recipients: [] }, 400, 'invalid_request', 'recipients'],
        ['101 recipients', { template, recipients: Array.from({ length: 101 }, ok) }, 400, 'invalid_request', 'recipients'],
        ['no template', { recipients: [ok()] }, 400, 'invalid_request', 'template'],
        // One shape only: a list of create bodies is not it.
        ['a list of bodies', { links: [{ ...target, recipient_email: address() }] }, 400, 'invalid_request', 'template'],
      ];
      for (const [name, body, status, reason, field] of cases) {
        const res = await ws.api('POST', '/v1/links/bulk', body);
        expect(res.status, `${name}: ${res.text}`).toBe(status);
        expect(res.body, name).toMatchObject({ reason, error: expect.any(String) });
        if (reason === 'invalid_request' || res.body.field !== undefined) expect(res.body.field, name).toBe(field);
      }
      const missing = await ws.api('POST', '/v1/links/bulk', { template: { ...template, resource_id: 'no-such-resource' }, recipients: [ok()] });
      expect(missing.status).toBe(404);
      await h().ctx.mail.drain();
      expect(await countRows(h(), ws.workspaceId)).toEqual(before);
      expect(await outboxOf(h(), ws.workspaceId)).toEqual([]);
    });

    it('all or nothing: a failure while writing the 3rd link leaves no link, event or mail of the call', async () => {
      const ws = await buildWorkspace(h());
      const target = await targetOf(ws);
      const to = [address('x1'), address('x2'), address('x3')];
      const before = await countRows(h(), ws.workspaceId);
      const undo = await failOutboxFor(h(), to[2]);
      try {
        const res = await ws.api('POST', '/v1/links/bulk', { template: { ...target, send_notification: true }, recipients: to.map((recipient_email) => ({ recipient_email })) });
        expect(res.status).toBe(500);
      } finally {
        await undo();
      }
      await h().ctx.mail.drain();
      expect(await countRows(h(), ws.workspaceId)).toEqual(before);
      expect(await outboxOf(h(), ws.workspaceId)).toEqual([]);
      expect(to.flatMap(mailsTo)).toEqual([]);
    });

    it('100 recipients in one call', async () => {
      const ws = await buildWorkspace(h());
      const target = await targetOf(ws);
      const res = await ws.api('POST', '/v1/links/bulk', { template: target, recipients: Array.from({ length: 100 }, () => ({ recipient_email: address('many') })) });
      expect(res.status, res.text.slice(0, 300)).toBe(201);
      expect(new Set(res.body.links.map((l: any) => l.token)).size).toBe(100);
      expect((await countRows(h(), ws.workspaceId)).links).toBe(100);
    });

    it('any member or key may create in bulk; another workspace cannot see the links (404)', async () => {
      const ws = await buildWorkspace(h());
      const target = await targetOf(ws);
      const member = await buildMember(h(), ws, { role: 'member' });
      const key = await buildApiKey(h(), ws, { role: 'member' });
      const body = () => ({ template: { ...target, send_notification: true }, recipients: [{ recipient_email: address('p') }] });

      const byMember = await member.session.send('POST', '/v1/links/bulk', body());
      expect(byMember.status, byMember.text).toBe(201);
      expect(byMember.body.links[0].created_by).toBe(`user:${member.userId}`);
      expect(byMember.body.links[0].permissions).toEqual({ can_update: true, can_revoke: true });
      expect((await mailTo(byMember.body.links[0].recipient_email)).subject).toContain(member.email);
      const byKey = await key.api('POST', '/v1/links/bulk', body(), { 'x-porthole-actor': 'crm-user-9' });
      expect(byKey.status, byKey.text).toBe(201);
      expect(byKey.body.links[0].created_by).toBe('app:crm-user-9');
      const byOwnerKey = await ws.api('POST', '/v1/links/bulk', body());
      expect(byOwnerKey.status).toBe(201);

      expect((await send(h().app, 'POST', '/v1/links/bulk', body())).status).toBe(401);
      const noCsrf = await member.session.send('POST', '/v1/links/bulk', body(), { csrf: false });
      expect(noCsrf.status).toBe(403);
      expect(noCsrf.body.reason).toBe('csrf_required');

      const other = await buildWorkspace(h());
      const otherSession = await signIn(h(), other.email);
      for (const l of [...byMember.body.links, ...byKey.body.links]) {
        for (const res of [await other.api('GET', `/v1/links/${l.id}`), await otherSession.send('GET', `/v1/links/${l.id}`), await other.api('GET', `/v1/links/${l.id}/events`)]) {
          expect(res.status).toBe(404);
          expect(res.body.reason).toBe('not_found');
        }
      }
      expect((await other.api('GET', '/v1/links')).body.items).toEqual([]);
      // Nor can another workspace make links to this one's resource.
      const across = await other.api('POST', '/v1/links/bulk', body());
      expect(across.status).toBe(404);
      expect((await countRows(h(), other.workspaceId)).links).toBe(0);
    });
  },
  { env: { SMTP_URL: smtp.url } },
);
