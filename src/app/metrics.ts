/**
 * What the application counts for operators. The HTTP layer implements it
 * (Prometheus); use-cases only say what happened. Malformed, unknown and
 * rate-limited requests are counted here instead of in the audit trail (DESIGN §4).
 */
export type Metrics = {
  /** The outcome of one public request: `allowed` or its denial reason. */
  publicOutcome(action: string, outcome: string): void;
  /** Views and downloads committed. */
  counted(views: number, downloads: number): void;
  /** How many jobs one grouped commit carried. */
  batch(size: number): void;
};

/** For tools that run use-cases without a server (CLI, benchmarks). */
export const noMetrics: Metrics = { publicOutcome() {}, counted() {}, batch() {} };
