import { afterAll, expect, it } from 'vitest';
import { verifyAudit } from '../src/app/verify-audit.js';
import { buildLink, buildMember, buildResource, buildWorkspace, linkEvents, send, signIn } from './helpers/factories.js';
import { describeEachDialect, listening } from './helpers/harness.js';
import { startTestSmtp } from './helpers/smtp.js';

const smtp = await startTestSmtp();
afterAll(() => smtp.close());

describeEachDialect(
  'notify_on_view: the creator hears of the first view',
  (h) => {
    it('a member-made link mails its creator once, on the first view, with a notified event in the same chain', async () => {
      const ws = await buildWorkspace(h());
      const member = await buildMember(h(), ws);
      const r = await buildResource(ws, { title: 'Nightly import #42' });
      const created = await member.session.send('POST', '/v1/links', { resource_type: 'job', resource_id: r.id, label: 'For Ana', settings: { notify_on_view: true } });
      expect(created.status).toBe(201);
      const link = created.body;

      expect((await send(h().app, 'GET', `/v1/shared/${link.token}`)).status).toBe(200);
      const mail = await smtp.waitFor((m) => m.to === member.email);
      expect(mail.subject).toBe('First view of “For Ana”');
      expect(mail.text).toContain('Nightly import #42');
      expect(mail.text).toContain(`/v1/links/${link.id}/events`);
      expect(mail.text).not.toContain(link.token);
      expect(mail.text).not.toContain(link.short_code);

      for (let i = 0; i < 3; i++) expect((await send(h().app, 'GET', `/v1/shared/${link.token}`)).status).toBe(200);
      await h().ctx.mail.drain();
      expect(smtp.mails.filter((m) => m.to === member.email)).toHaveLength(1);
      const events = await linkEvents(ws, link.id);
      expect(events.map((e) => e.type)).toEqual(['created', 'viewed', 'notified', 'viewed', 'viewed', 'viewed']);
      expect(events[2].metadata).toEqual({ kind: 'first_view_notice', to: `user:${member.userId}` });
      expect((await verifyAudit(h().ctx, { linkId: link.id })).breaks).toEqual([]);
    });

    it('many first views at once still make one mail and one notified event', async () => {
      const ws = await buildWorkspace(h());
      const owner = await signIn(h(), ws.email);
      const r = await buildResource(ws);
      const link = (await owner.send('POST', '/v1/links', { resource_type: 'job', resource_id: r.id, settings: { notify_on_view: true } })).body;
      const base = await listening(h().app);
      const answers = await Promise.all(Array.from({ length: 40 }, () => fetch(`${base}/v1/shared/${link.token}`).then((res) => res.status)));
      expect(answers.every((s) => s === 200)).toBe(true);
      await h().ctx.mail.drain();
      expect(smtp.mails.filter((m) => m.to === ws.email)).toHaveLength(1);
      const events = await linkEvents(ws, link.id);
      expect(events.filter((e) => e.type === 'notified')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'viewed')).toHaveLength(40);
      expect((await verifyAudit(h().ctx, { linkId: link.id })).breaks).toEqual([]);
    });

    it('tells nobody for links made by an API key, or without notify_on_view', async () => {
      const ws = await buildWorkspace(h());
      const byKey = await buildLink(ws, { settings: { notify_on_view: true } });
      const owner = await signIn(h(), ws.email);
      const r = await buildResource(ws);
      const quiet = (await owner.send('POST', '/v1/links', { resource_type: 'job', resource_id: r.id })).body;
      for (const link of [byKey, quiet]) expect((await send(h().app, 'GET', `/v1/shared/${link.token}`)).status).toBe(200);
      await h().ctx.mail.drain();
      expect(smtp.mails.filter((m) => m.to === ws.email)).toEqual([]);
      for (const link of [byKey, quiet]) expect((await linkEvents(ws, link.id)).map((e) => e.type)).toEqual(['created', 'viewed']);
    });
  },
  { env: { SMTP_URL: smtp.url } },
);
