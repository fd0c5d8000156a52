import type { Generated } from 'kysely';

/** Table types as stored: times are epoch milliseconds, booleans 0/1, JSON as text. */
export type WorkspacesTable = {
  id: string;
  name: string;
  policy: string;
  created_at: number;
  updated_at: number;
  /** The workspace-level events' hash chain (migration 0005), as links have theirs. */
  event_seq: Generated<number>;
  last_event_hash: string | null;
  chain_floor_seq: Generated<number>;
  chain_floor_hash: string | null;
};
export type UsersTable = { id: string; email: string; name: string | null; password_hash: string; created_at: number };
export type MembersTable = { workspace_id: string; user_id: string; role: string; created_at: number };
export type SessionsTable = {
  id_hash: string;
  user_id: string;
  workspace_id: string;
  csrf_token: string;
  created_at: number;
  expires_at: number;
};
export type ApiKeysTable = {
  id: string;
  workspace_id: string;
  name: string;
  role: string;
  prefix: string;
  key_hash: string;
  created_by: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
};
export type ResourceTypesTable = {
  workspace_id: string;
  type: string;
  label: string;
  fields: string;
  tables: string;
  created_at: number;
  updated_at: number;
};
export type ResourcesTable = {
  workspace_id: string;
  type: string;
  id: string;
  title: string;
  fields: string;
  latest_version: number;
  content_hash: string;
  created_at: number;
  updated_at: number;
};
export type ResourceVersionsTable = {
  workspace_id: string;
  type: string;
  resource_id: string;
  version: number;
  title: string;
  fields: string;
  table_counts: string;
  content_hash: string;
  created_by: string;
  created_at: number;
};
export type ResourceRowsTable = {
  workspace_id: string;
  type: string;
  resource_id: string;
  version: number;
  table_key: string;
  position: number;
  data: string;
};
export type LinksTable = {
  id: string;
  workspace_id: string;
  token_hash: string;
  short_code_hash: string;
  token_sealed: string;
  short_code_sealed: string;
  resource_type: string;
  resource_id: string | null;
  filter: string | null;
  pinned_version: number | null;
  access_role: string;
  password_hash: string | null;
  requires_auth: Generated<number>;
  recipient_email: string | null;
  recipient_contact_id: string | null;
  allowed_emails: Generated<string>;
  allowed_domains: Generated<string>;
  expires_at: number | null;
  max_views: number | null;
  view_count: Generated<number>;
  download_count: Generated<number>;
  first_viewed_at: number | null;
  last_viewed_at: number | null;
  enabled: Generated<number>;
  revoked_at: number | null;
  revoked_by: string | null;
  settings: string;
  label: string | null;
  metadata: Generated<string>;
  created_by: string;
  created_at: number;
  updated_at: number;
  grant_epoch: Generated<number>;
  event_seq: Generated<number>;
  last_event_hash: string | null;
  /** Where the chain starts once event retention cut its oldest events (migration 0003): the last deleted event's seq and hash; 0 and null while whole. */
  chain_floor_seq: Generated<number>;
  chain_floor_hash: string | null;
};
export type EventsTable = {
  id: string;
  workspace_id: string;
  link_id: string | null;
  seq: number | null;
  type: string;
  reason: string | null;
  actor: string | null;
  ip: string | null;
  user_agent: string | null;
  email: string | null;
  /** A daily pseudonym of who viewed or downloaded (migration 0004); null on other events and older ones. */
  viewer: string | null;
  metadata: Generated<string>;
  created_at: number;
  prev_hash: string | null;
  hash: string | null;
};

export type VerificationCodesTable = {
  id: string;
  workspace_id: string;
  link_id: string;
  email: string;
  code_hash: string;
  attempts: Generated<number>;
  created_at: number;
  expires_at: number;
  consumed_at: number | null;
};
export type CommentsTable = {
  id: string;
  workspace_id: string;
  link_id: string;
  resource_type: string;
  resource_id: string;
  author_email: string | null;
  author_name: string | null;
  body: string;
  created_at: number;
};
export type OutboxTable = {
  id: string;
  workspace_id: string | null;
  kind: string;
  to_address: string;
  subject: string;
  body_text: string;
  status: Generated<string>;
  attempts: Generated<number>;
  last_error: string | null;
  next_attempt_at: number;
  locked_until: number | null;
  created_at: number;
  sent_at: number | null;
};

export type DB = {
  workspaces: WorkspacesTable;
  users: UsersTable;
  members: MembersTable;
  sessions: SessionsTable;
  api_keys: ApiKeysTable;
  resource_types: ResourceTypesTable;
  resources: ResourcesTable;
  resource_versions: ResourceVersionsTable;
  resource_rows: ResourceRowsTable;
  links: LinksTable;
  events: EventsTable;
  verification_codes: VerificationCodesTable;
  comments: CommentsTable;
  outbox: OutboxTable;
};
