import { expect, it } from 'vitest';
import { authorizePublic } from '../src/app/authorize-public.js';
import { writeThroughLink } from '../src/app/write-through-link.js';
import { buildLink, buildResource, buildWorkspace, linkEvents, type TestWorkspace } from './helpers/factories.js';
import { describeEachDialect } from './helpers/harness.js';

describeEachDialect('a change made through a link', (h) => {
  /** A link of `role` to a fresh job, its request, and what the gate allowed for `action`. */
  async function passed(ws: TestWorkspace, role: 'commenter' | 'editor', action: 'comment' | 'edit') {
    const r = await buildResource(ws);
    const link = await buildLink(ws, { resource_type: 'job', resource_id: r.id, access_role: role });
    const req = { identifier: link.token, ip: '127.0.0.1' };
    return { link, req, access: await authorizePublic(h().ctx, req, action) };
  }

  it('is written with its event while the link passes', async () => {
    const ws = await buildWorkspace(h());
    const { link, req, access } = await passed(ws, 'commenter', 'comment');
    const value = await writeThroughLink(h().ctx, req, access, 'comment', { ...access.events, type: 'commented', metadata: {} }, async () => 'written');
    expect(value).toBe('written');
    expect((await linkEvents(ws, link.id)).map((e) => e.type)).toEqual(['created', 'viewed', 'commented']);
  });

  it('lands nowhere when the link was revoked between the gate and the write: the gate names why and records it', async () => {
    const ws = await buildWorkspace(h());
    const { link, req, access } = await passed(ws, 'commenter', 'comment');
    await ws.api('POST', `/v1/links/${link.id}/revoke`);
    let ran = false;
    const write = writeThroughLink(h().ctx, req, access, 'comment', { ...access.events, type: 'commented', metadata: {} }, async () => {
      ran = true;
    });
    await expect(write).rejects.toMatchObject({ reason: 'revoked' });
    expect(ran).toBe(false);
    const events = await linkEvents(ws, link.id);
    expect(events.map((e) => [e.type, e.reason])).toEqual([
      ['created', null],
      ['viewed', null],
      ['revoked', null],
      ['access_denied', 'revoked'],
    ]);
  });

  it('lands nowhere when the link was switched off, or rotated, meanwhile', async () => {
    const ws = await buildWorkspace(h());
    const { link, req, access } = await passed(ws, 'editor', 'edit');
    expect((await ws.api('PATCH', `/v1/links/${link.id}`, { enabled: false })).status).toBe(200);
    await expect(writeThroughLink(h().ctx, req, access, 'edit', { ...access.events, type: 'edited', metadata: {} }, async () => 1)).rejects.toMatchObject({ reason: 'disabled' });

    const { link: other, req: otherReq, access: otherAccess } = await passed(ws, 'editor', 'edit');
    expect((await ws.api('POST', `/v1/links/${other.id}/rotate`)).status).toBe(200);
    // The old token is dead and the grant it handed out void: the gate finds no link.
    await expect(writeThroughLink(h().ctx, otherReq, otherAccess, 'edit', { ...otherAccess.events, type: 'edited', metadata: {} }, async () => 1)).rejects.toMatchObject({ reason: 'not_found' });
    for (const id of [link.id, other.id]) expect((await linkEvents(ws, id)).filter((e) => e.type === 'edited')).toEqual([]);
  });
});
