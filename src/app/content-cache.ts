import { undeclaredType, type ResourceType, type Row } from '../domain/resource.js';
import type { Executor } from '../storage/database.js';
import { findResourceAtVersion, findResourceType, listTableRows, type VersionMeta } from '../storage/resources.js';

/** A small least-recently-used map. */
class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, v: V): void {
    this.map.delete(key);
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value as string);
    this.map.set(key, v);
  }
}

/**
 * Caches what never changes once written: a resource version's content and
 * first table pages (versions are immutable) and a type declaration under the
 * stamp of its last change. Keys always carry the version or stamp read from
 * the database on the same request, so nothing stale is ever served.
 */
export type ContentCache = {
  type(db: Executor, workspaceId: string, type: string, stamp: number | null | undefined): Promise<ResourceType>;
  /** `stamp` is the resource's creation time: it tells a re-created resource from the old one. */
  version(db: Executor, key: { workspaceId: string; type: string; id: string }, version: number | null, stamp?: number | null): Promise<(VersionMeta & { latestVersion: number }) | null>;
  firstRows(db: Executor, key: { workspaceId: string; type: string; id: string; version: number; table: string }, stamp: number, limit: number): Promise<Array<{ position: number; data: Row }>>;
};

export function createContentCache(max = 2000): ContentCache {
  const types = new Lru<ResourceType>(max);
  const versions = new Lru<VersionMeta & { latestVersion: number }>(max);
  const rows = new Lru<Array<{ position: number; data: Row }>>(max);
  return {
    async type(db, workspaceId, type, stamp) {
      if (stamp === null) return undeclaredType(type);
      if (stamp === undefined) return (await findResourceType(db, workspaceId, type)) ?? undeclaredType(type);
      const k = `${workspaceId}\u0000${type}\u0000${stamp}`;
      const hit = types.get(k);
      if (hit) return hit;
      const found = (await findResourceType(db, workspaceId, type)) ?? undeclaredType(type);
      // Store only what matches the stamp read with the link; a newer declaration gets its own key.
      types.set(k, found);
      return found;
    },
    async version(db, key, version, stamp) {
      if (version === null || stamp === undefined || stamp === null) return findResourceAtVersion(db, key, version);
      const k = `${key.workspaceId}\u0000${key.type}\u0000${key.id}\u0000${stamp}\u0000${version}`;
      const hit = versions.get(k);
      if (hit) return hit;
      const found = await findResourceAtVersion(db, key, version);
      if (found) versions.set(k, found);
      return found;
    },
    async firstRows(db, key, stamp, limit) {
      const k = `${key.workspaceId}\u0000${key.type}\u0000${key.id}\u0000${stamp}\u0000${key.version}\u0000${key.table}\u0000${limit}`;
      const hit = rows.get(k);
      if (hit) return hit;
      const found = await listTableRows(db, key, -1, limit);
      rows.set(k, found);
      return found;
    },
  };
}
