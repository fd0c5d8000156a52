import { describe, expect, it } from 'vitest';
import { maskHeaders, maskUrl } from '../src/http/log-redaction.js';
import { buildLink, buildResource, buildWorkspace, send, signIn } from './helpers/factories.js';
import { describeEachDialect } from './helpers/harness.js';

const TOKEN = 'Abcdefghijklmnopqrstuvwxyz0123456789_-ABCDE';
const CODE = 'Zx9Yw8Vu';

describe('maskUrl / maskHeaders', () => {
  it.each([
    [`/v1/shared/${TOKEN}`, '/v1/shared/[redacted]'],
    [`/v1/shared/${TOKEN}/export.csv?table=tasks`, '/v1/shared/[redacted]/export.csv?table=tasks'],
    [`/v1/shared/${CODE}/meta`, '/v1/shared/[redacted]/meta'],
    [`/shared/${TOKEN}`, '/shared/[redacted]'],
    [`/s/${CODE}`, '/s/[redacted]'],
    [`/s/${CODE}?x=1`, '/s/[redacted]?x=1'],
    [`/v1/links?grant=g1.abc.def&token=${TOKEN}&password=pw&code=${CODE}&key=phk_x`, '/v1/links?grant=[redacted]&token=[redacted]&password=[redacted]&code=[redacted]&key=[redacted]'],
  ])('%s', (url, masked) => {
    expect(maskUrl(url)).toBe(masked);
  });

  it.each([`//v1/shared/${TOKEN}`, `/V1/SHARED/${TOKEN}`, `/v1//shared/${TOKEN}`, `/Shared/${TOKEN}`, `//s/${CODE}`, `/v1/shared/x?GRANT=${TOKEN}`, `/v1/links?t=${TOKEN}`, `/v1/nowhere/${TOKEN}/x`])('odd spellings are masked too: %s', (url) => {
    expect(maskUrl(url)).not.toContain(url.includes(TOKEN) ? TOKEN : CODE);
  });

  it('masks secret headers whatever their case', () => {
    const masked = maskHeaders({ Authorization: 'Bearer phk_x', cookie: 'a=b', 'X-Porthole-Grant': 'g1.a.b', 'user-agent': 'curl/8' });
    expect(masked).toEqual({ Authorization: '[redacted]', cookie: '[redacted]', 'X-Porthole-Grant': '[redacted]', 'user-agent': 'curl/8' });
  });
});

describeEachDialect('no secrets in logs', (h) => {
  it('tokens, codes, grants, API keys, passwords and sessions never reach the log output', async () => {
    const app = h().app;
    const ws = await buildWorkspace(h());
    const r = await buildResource(ws, { tables: { tasks: [{ n: 1 }, { n: 2 }] } });
    const link = await buildLink(ws, { resource_type: r.type, resource_id: r.id });
    const password = 'unlock-me-correct-horse';
    const locked = await buildLink(ws, { resource_type: r.type, resource_id: r.id, password });
    const from = h().logs.length;

    const view = await send(app, 'GET', `/v1/shared/${link.token}`);
    const grant: string = view.body.grant;
    const g = { 'x-porthole-grant': grant };
    await send(app, 'GET', `/v1/shared/${link.short_code}`);
    await send(app, 'GET', `/v1/shared/${link.token}/meta`);
    await send(app, 'GET', `/v1/shared/${link.token}/tables/tasks`, undefined, g);
    await send(app, 'GET', `/v1/shared/${link.token}/export.csv`, undefined, g);
    await send(app, 'GET', `/v1/shared/${link.token}/export.json?grant=${encodeURIComponent(grant)}`);
    await send(app, 'GET', `/v1/shared/${link.token}/nonsense?token=${link.token}`, undefined, g);
    await send(app, 'GET', `/v1/shared/${link.token}/records/${r.id}`, undefined, g);
    await send(app, 'POST', `/v1/shared/${locked.token}/unlock`, { password });
    await send(app, 'POST', `/v1/shared/${locked.token}/unlock`, { password: `${password}-wrong` });
    await send(app, 'POST', `/v1/shared/${locked.token}/unlock`, `{"password": "${password}"`); // malformed JSON
    await send(app, 'GET', `/shared/${link.token}`);
    await send(app, 'GET', `/s/${link.short_code}`);
    await send(app, 'GET', `/v1/shared/${link.token}`, undefined, { 'user-agent': 'Slackbot-LinkExpanding 1.0' });
    await app.inject({ method: 'HEAD', url: `/v1/shared/${link.token}` });
    const session = await signIn(h(), ws.email, ws.password);
    await session.send('GET', `/v1/links/${link.id}`);
    await ws.api('GET', `/v1/links/${link.id}`);
    await ws.api('GET', `/v1/links?key=${ws.apiKey}`);
    const rotated = await ws.api('POST', `/v1/links/${link.id}/rotate`);
    await send(app, 'GET', `/v1/shared/${rotated.body.token}`);
    await send(app, 'GET', `/v1/shared/${link.token}`); // the old, now unknown, token
    // Mistyped and doubled-up spellings of real links end in 404s, and are logged too.
    for (const url of [`//shared/${rotated.body.token}`, `/V1/SHARED/${rotated.body.token}`, `/v1//shared/${rotated.body.token}`, `//s/${rotated.body.short_code}`, `/S/${rotated.body.short_code}`]) {
      await send(app, 'GET', url);
    }

    const logs = h().logs.slice(from).join('\n');
    // The requests were logged (with their paths masked), so the check below means something.
    expect(logs).toContain('/v1/shared/[redacted]');
    expect(logs).toContain('/s/[redacted]');
    const secrets: Record<string, string> = {
      token: link.token,
      'short code': link.short_code,
      'locked token': locked.token,
      'locked code': locked.short_code,
      grant,
      'grant signature': grant.split('.')[2],
      'API key': ws.apiKey,
      'API key body': ws.apiKey.slice(4),
      password,
      'owner password': ws.password,
      'session cookie': session.cookie.split('=')[1],
      'CSRF token': session.csrfToken,
      'rotated token': rotated.body.token,
      'rotated code': rotated.body.short_code,
    };
    for (const [name, secret] of Object.entries(secrets)) {
      expect(logs.includes(secret), `${name} appears in the logs`).toBe(false);
    }
  });
});
