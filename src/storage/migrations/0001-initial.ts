import type { Kysely } from 'kysely';

/**
 * The initial schema. Frozen: later changes get their own file.
 * Portable types only: text, integer, bigint (epoch milliseconds); JSON is stored as text;
 * booleans as integer 0/1, so one set of queries runs on SQLite and PostgreSQL.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('workspaces')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('policy', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('users_email_key', ['email'])
    .execute();

  await db.schema
    .createTable('members')
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('members_pkey', ['workspace_id', 'user_id'])
    .execute();
  await db.schema.createIndex('members_user_idx').on('members').column('user_id').execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('csrf_token', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sessions_user_idx').on('sessions').column('user_id').execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .addUniqueConstraint('api_keys_key_hash_key', ['key_hash'])
    .execute();
  await db.schema.createIndex('api_keys_workspace_idx').on('api_keys').columns(['workspace_id', 'created_at']).execute();

  await db.schema
    .createTable('resource_types')
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('fields', 'text', (c) => c.notNull())
    .addColumn('tables', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('resource_types_pkey', ['workspace_id', 'type'])
    .execute();

  // The latest state of each resource; its history lives in resource_versions.
  await db.schema
    .createTable('resources')
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('fields', 'text', (c) => c.notNull())
    .addColumn('latest_version', 'integer', (c) => c.notNull())
    .addColumn('content_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('resources_pkey', ['workspace_id', 'type', 'id'])
    .execute();
  await db.schema
    .createIndex('resources_updated_idx')
    .on('resources')
    .columns(['workspace_id', 'updated_at'])
    .execute();

  await db.schema
    .createTable('resource_versions')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('resource_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('fields', 'text', (c) => c.notNull())
    .addColumn('table_counts', 'text', (c) => c.notNull())
    .addColumn('content_hash', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('resource_versions_pkey', ['workspace_id', 'type', 'resource_id', 'version'])
    .addForeignKeyConstraint(
      'resource_versions_resource_fkey',
      ['workspace_id', 'type', 'resource_id'],
      'resources',
      ['workspace_id', 'type', 'id'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute();

  // Rows of a version's tables, one database row each, so tables page and export without loading whole.
  await db.schema
    .createTable('resource_rows')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('resource_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('table_key', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('resource_rows_pkey', [
      'workspace_id',
      'type',
      'resource_id',
      'version',
      'table_key',
      'position',
    ])
    .addForeignKeyConstraint(
      'resource_rows_version_fkey',
      ['workspace_id', 'type', 'resource_id', 'version'],
      'resource_versions',
      ['workspace_id', 'type', 'resource_id', 'version'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute();

  await db.schema
    .createTable('links')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('token_hash', 'text', (c) => c.notNull())
    .addColumn('short_code_hash', 'text', (c) => c.notNull())
    .addColumn('token_sealed', 'text', (c) => c.notNull())
    .addColumn('short_code_sealed', 'text', (c) => c.notNull())
    .addColumn('resource_type', 'text', (c) => c.notNull())
    .addColumn('resource_id', 'text')
    .addColumn('filter', 'text')
    .addColumn('pinned_version', 'integer')
    .addColumn('access_role', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text')
    .addColumn('requires_auth', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('recipient_email', 'text')
    .addColumn('recipient_contact_id', 'text')
    .addColumn('allowed_emails', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('allowed_domains', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('expires_at', 'bigint')
    .addColumn('max_views', 'integer')
    .addColumn('view_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('download_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('first_viewed_at', 'bigint')
    .addColumn('last_viewed_at', 'bigint')
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('revoked_at', 'bigint')
    .addColumn('revoked_by', 'text')
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('label', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('grant_epoch', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('event_seq', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_event_hash', 'text')
    .addUniqueConstraint('links_token_hash_key', ['token_hash'])
    .addUniqueConstraint('links_short_code_hash_key', ['short_code_hash'])
    .execute();
  await db.schema
    .createIndex('links_target_idx')
    .on('links')
    .columns(['workspace_id', 'resource_type', 'resource_id'])
    .execute();
  await db.schema.createIndex('links_creator_idx').on('links').columns(['workspace_id', 'created_by']).execute();
  await db.schema.createIndex('links_workspace_created_idx').on('links').columns(['workspace_id', 'created_at', 'id']).execute();
  await db.schema
    .createIndex('links_workspace_status_idx')
    .on('links')
    .columns(['workspace_id', 'revoked_at', 'enabled', 'expires_at'])
    .execute();

  await db.schema
    .createTable('events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('link_id', 'text')
    .addColumn('seq', 'integer')
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('actor', 'text')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('email', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('prev_hash', 'text')
    .addColumn('hash', 'text')
    .execute();
  await db.schema.createIndex('events_link_idx').on('events').columns(['link_id', 'created_at', 'id']).execute();
  await db.schema.createIndex('events_workspace_idx').on('events').columns(['workspace_id', 'created_at', 'id']).execute();

}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of [
    'events',
    'links',
    'resource_rows',
    'resource_versions',
    'resources',
    'resource_types',
    'api_keys',
    'sessions',
    'members',
    'users',
    'workspaces',
  ]) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
