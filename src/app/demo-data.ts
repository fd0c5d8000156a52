import type { z } from 'zod';
import type { FieldValue, Row } from '../domain/resource.js';
import type { putResourceBody, putResourceTypeBody } from './resource-inputs.js';

/**
 * The sample data `porthole demo` loads: the three use cases Porthole grew
 * from (CI jobs with tasks, a compliance report snapshot, an AI model
 * inventory). Everything is computed from fixed dates and a seeded generator,
 * so loading it again yields identical content and therefore no new versions.
 */

export type DemoTypeDeclaration = z.input<typeof putResourceTypeBody>;
export type DemoResource = { id: string } & z.input<typeof putResourceBody>;

/** Fixed reference time the sample dates hang off; never "now", or every run would make new versions. */
const ANCHOR = Date.parse('2025-06-02T08:00:00Z');
const MINUTE = 60_000;
const DAY = 86_400_000;

const datetime = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
const date = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** mulberry32: a small seeded generator, so the "random" inventory is the same on every run and machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rand: () => number, items: readonly T[]): T => items[Math.floor(rand() * items.length)];
const between = (rand: () => number, lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));

/** Picks by weight: `[['high', 2], ['low', 8]]` yields 'low' four times as often. */
function weighted<T>(rand: () => number, choices: ReadonlyArray<readonly [T, number]>): T {
  const total = choices.reduce((s, [, w]) => s + w, 0);
  let r = rand() * total;
  for (const [value, w] of choices) {
    r -= w;
    if (r < 0) return value;
  }
  return choices[choices.length - 1][0];
}

// ---------------------------------------------------------------------------
// Resource types

export const demoTypes: Record<'job' | 'report' | 'model', DemoTypeDeclaration> = {
  job: {
    label: 'CI job',
    fields: [
      { key: 'status', label: 'Status', format: 'status', public: true },
      { key: 'pipeline', label: 'Pipeline', format: 'text', public: true },
      { key: 'started_at', label: 'Started', format: 'datetime', public: true },
      { key: 'finished_at', label: 'Finished', format: 'datetime', public: true },
      { key: 'duration_seconds', label: 'Duration (s)', format: 'number', public: true },
      { key: 'triggered_by', label: 'Triggered by', format: 'email', public: true },
      { key: 'logs_url', label: 'Logs', format: 'url', public: true },
      { key: 'retry', label: 'Retry', format: 'boolean', public: true },
      // Private: shown only by a link that asks for all fields.
      { key: 'internal_notes', label: 'Internal notes', format: 'text', public: false },
    ],
    tables: [
      {
        key: 'tasks',
        label: 'Tasks',
        columns: [
          { key: 'name', label: 'Task' },
          { key: 'status', label: 'Status', format: 'status' },
          { key: 'started_at', label: 'Started', format: 'datetime' },
          { key: 'duration_seconds', label: 'Duration (s)', format: 'number' },
          { key: 'host', label: 'Host' },
        ],
      },
    ],
  },
  report: {
    label: 'Compliance report',
    fields: [
      { key: 'framework', label: 'Framework', format: 'text', public: true },
      { key: 'period_start', label: 'Period start', format: 'date', public: true },
      { key: 'period_end', label: 'Period end', format: 'date', public: true },
      { key: 'score', label: 'Score', format: 'number', public: true },
      { key: 'status', label: 'Status', format: 'status', public: true },
      { key: 'owner', label: 'Owner', format: 'email', public: true },
    ],
    tables: [
      {
        key: 'rules',
        label: 'Rules',
        columns: [
          { key: 'id', label: 'Rule' },
          { key: 'title', label: 'Title' },
          { key: 'status', label: 'Status', format: 'status' },
          { key: 'severity', label: 'Severity', format: 'status' },
          { key: 'evidence_url', label: 'Evidence', format: 'url' },
        ],
      },
      {
        key: 'sources',
        label: 'Sources',
        columns: [
          { key: 'name', label: 'Source' },
          { key: 'kind', label: 'Kind' },
          { key: 'last_synced', label: 'Last synced', format: 'datetime' },
        ],
      },
      {
        key: 'gaps',
        label: 'Gaps',
        columns: [
          { key: 'rule', label: 'Rule' },
          { key: 'description', label: 'Description' },
          { key: 'owner', label: 'Owner' },
          { key: 'due', label: 'Due', format: 'date' },
          { key: 'remediation', label: 'Remediation' },
        ],
      },
    ],
  },
  model: {
    label: 'AI model',
    fields: [
      { key: 'name', label: 'Model', format: 'text', public: true },
      { key: 'provider', label: 'Provider', format: 'text', public: true },
      { key: 'risk_tier', label: 'Risk tier', format: 'status', public: true },
      { key: 'status', label: 'Status', format: 'status', public: true },
      // Private: a person's address is not for every collection link.
      { key: 'owner', label: 'Owner', format: 'email', public: false },
      { key: 'deployed_on', label: 'Deployed on', format: 'date', public: true },
      { key: 'last_reviewed', label: 'Last reviewed', format: 'date', public: true },
      { key: 'documentation', label: 'Documentation', format: 'url', public: true },
      { key: 'approved', label: 'Approved', format: 'boolean', public: true },
    ],
  },
};

// ---------------------------------------------------------------------------
// Jobs

const taskNames = [
  'checkout',
  'restore cache',
  'install dependencies',
  'lint',
  'typecheck',
  'unit tests (1/3)',
  'unit tests (2/3)',
  'unit tests (3/3)',
  'build api',
  'build web',
  'integration tests (sqlite)',
  'integration tests (postgres)',
  'browser tests',
  'container image',
  'sbom',
  'vulnerability scan',
  'push image',
  'deploy staging',
  'smoke tests',
  'deploy production',
  'save cache',
  'notify',
] as const;

const hosts = ['runner-01', 'runner-02', 'runner-03', 'runner-04', 'arm-runner-01'] as const;

type TaskPlan = { count: number; status: (index: number) => string; seed: number; start: number };

/** Tasks in order; finished ones have a duration, the running one an elapsed time, pending ones neither. */
function tasks(plan: TaskPlan): Row[] {
  const rand = seededRandom(plan.seed);
  let at = plan.start;
  const rows: Row[] = [];
  for (let i = 0; i < plan.count; i++) {
    const status = plan.status(i);
    const duration = between(rand, 8, 420);
    const started = status === 'pending' || status === 'skipped' ? null : datetime(at);
    rows.push({
      name: taskNames[i % taskNames.length],
      status,
      started_at: started,
      duration_seconds: status === 'succeeded' || status === 'failed' ? duration : null,
      host: started === null ? null : pick(rand, hosts),
    });
    if (started !== null) at += (duration + between(rand, 1, 20)) * 1000;
  }
  return rows;
}

const runningStart = ANCHOR - 23 * MINUTE;
const failedStart = ANCHOR - 3 * 60 * MINUTE;
const failedTasks = tasks({ count: 14, seed: 7, start: failedStart, status: (i) => (i < 10 ? 'succeeded' : i === 10 ? 'failed' : 'skipped') });
const syncStart = ANCHOR - 26 * 60 * MINUTE;
const syncTasks = tasks({ count: 9, seed: 11, start: syncStart, status: () => 'succeeded' });
const sum = (rows: Row[]) => rows.reduce((s, r) => s + (typeof r.duration_seconds === 'number' ? r.duration_seconds : 0), 0);

/** The running job is the plain link's target; the failed one is shared with all fields. */
export const demoJobs = {
  running: {
    id: 'nightly-1042',
    title: 'Nightly build #1042',
    fields: {
      status: 'running',
      pipeline: 'nightly',
      started_at: datetime(runningStart),
      finished_at: null,
      duration_seconds: null,
      triggered_by: 'scheduler@example.com',
      logs_url: 'https://ci.example.com/pipelines/nightly/1042/logs',
      retry: false,
      internal_notes: 'Runner pool shrunk to 4 during the datacenter move; expect slower builds this week.',
    },
    tables: {
      tasks: tasks({ count: 18, seed: 3, start: runningStart, status: (i) => (i < 9 ? 'succeeded' : i < 11 ? 'running' : 'pending') }),
    },
  },
  failed: {
    id: 'release-2-4-0',
    title: 'Release 2.4.0',
    fields: {
      status: 'failed',
      pipeline: 'release',
      started_at: datetime(failedStart),
      finished_at: datetime(failedStart + (sum(failedTasks) + 140) * 1000),
      duration_seconds: sum(failedTasks) + 140,
      triggered_by: 'grace.hopper@example.com',
      logs_url: 'https://ci.example.com/pipelines/release/2.4.0/logs',
      retry: true,
      internal_notes: 'Postgres integration tests time out on runner-03 only; suspect its disk. Do not retry there.',
    },
    tables: { tasks: failedTasks },
  },
  succeeded: {
    id: 'warehouse-sync-7781',
    title: 'Warehouse sync #7781',
    fields: {
      status: 'succeeded',
      pipeline: 'warehouse-sync',
      started_at: datetime(syncStart),
      finished_at: datetime(syncStart + (sum(syncTasks) + 60) * 1000),
      duration_seconds: sum(syncTasks) + 60,
      triggered_by: 'alan.turing@example.com',
      logs_url: 'https://ci.example.com/pipelines/warehouse-sync/7781/logs',
      retry: false,
      internal_notes: null,
    },
    tables: { tasks: syncTasks },
  },
} satisfies Record<string, DemoResource>;

// ---------------------------------------------------------------------------
// Report snapshot: version 1 as first shared, version 2 after two fixes

type RuleSeed = readonly [id: string, title: string, status: string, severity: string];
const ruleSeeds: readonly RuleSeed[] = [
  ['CC1.1', 'Code of conduct acknowledged by all staff', 'passed', 'low'],
  ['CC2.1', 'Security policies reviewed within 12 months', 'passed', 'medium'],
  ['CC3.2', 'Risk assessment performed annually', 'warning', 'medium'],
  ['CC5.2', 'Change management approvals recorded', 'passed', 'high'],
  ['CC6.1', 'MFA enforced for production access', 'failed', 'critical'],
  ['CC6.2', 'Access provisioning tied to HR onboarding', 'passed', 'high'],
  ['CC6.3', 'Quarterly access reviews completed', 'failed', 'high'],
  ['CC6.6', 'Encryption in transit for public endpoints', 'passed', 'high'],
  ['CC6.7', 'Encryption at rest for customer data', 'passed', 'critical'],
  ['CC7.1', 'Vulnerability scans run weekly', 'failed', 'high'],
  ['CC7.2', 'Security events monitored and alerted', 'passed', 'high'],
  ['CC7.4', 'Incident response plan tested', 'warning', 'medium'],
  ['CC8.1', 'Production deploys go through CI', 'passed', 'medium'],
  ['A1.2', 'Backups restored in a test every quarter', 'failed', 'high'],
  ['C1.1', 'Confidential data classified and labelled', 'passed', 'low'],
];

/** Fixed in version 2: MFA rolled out and the backup restore test done. */
const fixedInV2 = new Set(['CC6.1', 'A1.2']);

function reportRules(version: 1 | 2): Row[] {
  return ruleSeeds.map(([id, title, status, severity]) => ({
    id,
    title,
    status: version === 2 && fixedInV2.has(id) ? 'passed' : status,
    severity,
    evidence_url: status === 'passed' || (version === 2 && fixedInV2.has(id)) ? `https://evidence.example.com/soc2/2025-q2/${id.toLowerCase()}` : null,
  }));
}

function reportSources(version: 1 | 2): Row[] {
  const synced = version === 1 ? ANCHOR - 2 * DAY : ANCHOR - 6 * 60 * MINUTE;
  return [
    { name: 'AWS organization', kind: 'cloud', last_synced: datetime(synced) },
    { name: 'GitHub', kind: 'source control', last_synced: datetime(synced + 5 * MINUTE) },
    { name: 'Okta', kind: 'identity provider', last_synced: datetime(synced + 9 * MINUTE) },
    { name: 'BambooHR', kind: 'HR system', last_synced: version === 1 ? null : datetime(synced + 14 * MINUTE) },
  ];
}

/** Six gaps; the nulls are what the pages highlight as open questions. */
function reportGaps(version: 1 | 2): Row[] {
  const gaps: Record<string, FieldValue>[] = [
    { rule: 'CC6.1', description: '3 production IAM users without MFA', owner: 'sre@example.com', due: '2025-06-15', remediation: 'Enforce MFA via SCP; remove console passwords' },
    { rule: 'CC6.3', description: 'Q1 access review not signed off', owner: 'it@example.com', due: '2025-06-30', remediation: null },
    { rule: 'CC7.1', description: 'Weekly scans skipped for 3 weeks in April', owner: null, due: null, remediation: null },
    { rule: 'A1.2', description: 'No restore test since January', owner: 'dba@example.com', due: '2025-06-10', remediation: 'Restore last nightly backup to staging and record timings' },
    { rule: 'CC3.2', description: 'Risk register missing vendor risks', owner: null, due: '2025-07-15', remediation: 'Import vendor list from procurement' },
    { rule: 'CC7.4', description: 'Tabletop exercise not yet scheduled', owner: 'security@example.com', due: null, remediation: null },
  ];
  if (version === 2) {
    // Version 2 fills in what the auditor asked about after seeing version 1.
    gaps[0] = { ...gaps[0], remediation: 'Done: MFA enforced by SCP on 2025-06-01' };
    gaps[2] = { ...gaps[2], owner: 'secops@example.com', due: '2025-06-20' };
    gaps[3] = { ...gaps[3], remediation: 'Done: restore test passed in 41 minutes' };
  }
  return gaps;
}

function report(version: 1 | 2): DemoResource {
  return {
    id: 'soc2-2025-q2',
    title: 'SOC 2 readiness, Q2 2025',
    fields: {
      framework: 'SOC 2 Type II',
      period_start: '2025-04-01',
      period_end: '2025-06-30',
      score: version === 1 ? 71 : 84,
      status: version === 1 ? 'failed' : 'warning',
      owner: 'compliance@example.com',
    },
    tables: { rules: reportRules(version), sources: reportSources(version), gaps: reportGaps(version) },
  };
}

/** The report as first shared (the snapshot link pins this one) and as it is now. */
export const demoReport = { first: report(1), latest: report(2) };

// ---------------------------------------------------------------------------
// Model inventory: 250 records from a fixed seed

export const MODEL_COUNT = 250;

const providers = ['OpenAI', 'Anthropic', 'Google', 'Meta', 'Mistral', 'Cohere', 'AWS', 'In-house'] as const;
const families = [
  'fraud-scorer',
  'churn-predictor',
  'ticket-router',
  'doc-summarizer',
  'invoice-extractor',
  'credit-limit',
  'resume-screener',
  'support-assistant',
  'demand-forecast',
  'image-moderator',
  'code-reviewer',
  'translation',
  'search-ranker',
  'anomaly-detector',
  'contract-analyzer',
] as const;
const people = ['ada', 'grace', 'alan', 'katherine', 'edsger', 'barbara', 'donald', 'radia', 'leslie', 'frances'] as const;

/** `model-001` … `model-250`: varied tiers and statuses, dates that make sense together, a few blanks. */
export function demoModels(): DemoResource[] {
  const rand = seededRandom(20250602);
  const models: DemoResource[] = [];
  for (let i = 1; i <= MODEL_COUNT; i++) {
    const id = `model-${String(i).padStart(3, '0')}`;
    const provider = pick(rand, providers);
    const name = `${pick(rand, families)}-v${between(rand, 1, 6)}`;
    const riskTier = weighted(rand, [['high', 3], ['medium', 4], ['low', 3]] as const);
    const status = weighted(rand, [['approved', 10], ['in review', 4], ['pending', 3], ['restricted', 2], ['retired', 2], ['rejected', 1]] as const);
    const isDeployed = status === 'approved' || status === 'restricted' || status === 'retired';
    const deployedAt = ANCHOR - between(rand, 30, 1200) * DAY;
    const reviewedAt = Math.min(ANCHOR - DAY, deployedAt + between(rand, 10, 400) * DAY);
    // Every 17th record has blanks, the way real inventories do.
    const hasBlanks = i % 17 === 0;
    models.push({
      id,
      title: `${name} (${provider})`,
      fields: {
        name,
        provider,
        risk_tier: riskTier,
        status,
        owner: hasBlanks ? null : `${pick(rand, people)}@example.com`,
        deployed_on: isDeployed ? date(deployedAt) : null,
        last_reviewed: hasBlanks || !isDeployed ? null : date(reviewedAt),
        documentation: hasBlanks ? null : `https://wiki.example.com/models/${id}`,
        approved: isDeployed && status !== 'retired' ? true : false,
      },
    });
  }
  return models;
}
