import type { Db } from '../storage/database.js';
import { claimMail, dueMailIds, markMailFailed, markMailSent } from '../storage/outbox.js';
import type { MailTransport } from './mail-transport.js';

/** A mail is tried this many times in all before it is marked failed. */
export const MAIL_MAX_ATTEMPTS = 5;
/** The wait after the 1st, 2nd, 3rd and 4th failed attempt. */
const RETRY_DELAYS_MS = [30_000, 120_000, 600_000, 3_600_000];
/** How long a claim holds a mail; a dispatcher that dies mid-send lets it go after this. */
const CLAIM_MS = 120_000;
const BATCH = 20;
/**
 * How long closing waits for a send under way. A mail server that stalls
 * (up to the transport's timeouts, 40 s) must not hold a stopping instance: the
 * mail stays claimed and is sent again once its claim lapses, which may
 * deliver it twice (mail is at least once).
 */
const CLOSE_WAIT_MS = 3_000;

/** What a failed attempt tells operators (never the mail's text: it may hold a one-time code). */
export type MailFailure = { mailId: string; attempts: number; willRetry: boolean; error: string };

/**
 * Drains the outbox: every mail whose transaction committed is sent, retried
 * with backoff when the server refuses it, and marked `sent` or `failed`.
 * It polls, and `kick()` wakes it at once after a use-case queued mail.
 */
export type MailDispatcher = {
  kick(): void;
  /** Sends everything due now; resolves with how many mails were sent. */
  drain(): Promise<number>;
  /** Set by whoever logs (the HTTP layer). */
  onFailure: (failure: MailFailure) => void;
  /** Stops polling and sending, and waits a little (3 s at most) for a send under way. */
  close(): Promise<void>;
};

export type MailDispatcherOptions = { from: string; now: () => number; pollMs?: number };

export function startMailDispatcher(db: Db, transport: MailTransport, opts: MailDispatcherOptions): MailDispatcher {
  let running: Promise<number> | null = null;
  let again = false;
  let closed = false;

  const sendOne = async (id: string): Promise<boolean> => {
    const mail = await claimMail(db, id, opts.now(), CLAIM_MS);
    if (!mail) return false;
    try {
      await transport.send({ id: mail.id, from: opts.from, to: mail.to, subject: mail.subject, text: mail.text });
      await markMailSent(db, mail.id, opts.now());
      return true;
    } catch (e) {
      const error = String((e as Error)?.message ?? e).slice(0, 500);
      const willRetry = mail.attempts < MAIL_MAX_ATTEMPTS;
      const retryAt = willRetry ? opts.now() + RETRY_DELAYS_MS[Math.min(mail.attempts, RETRY_DELAYS_MS.length) - 1] : null;
      await markMailFailed(db, mail.id, error, retryAt);
      dispatcher.onFailure({ mailId: mail.id, attempts: mail.attempts, willRetry, error });
      return false;
    }
  };

  const run = async (): Promise<number> => {
    let sent = 0;
    do {
      again = false;
      for (;;) {
        const ids = await dueMailIds(db, opts.now(), BATCH);
        for (const id of ids) {
          // Closing: the rest of the batch waits for the next instance, not this one's exit.
          if (closed) break;
          if (await sendOne(id)) sent++;
        }
        if (ids.length < BATCH || closed) break;
      }
    } while (again && !closed);
    return sent;
  };

  const drain = (): Promise<number> => {
    if (running) {
      // A drain under way may have read the outbox before this mail was queued: it goes round once more.
      again = true;
      return running;
    }
    running = run().finally(() => {
      running = null;
    });
    return running;
  };

  const poll = setInterval(() => {
    drain().catch(() => {});
  }, opts.pollMs ?? 5_000);
  poll.unref();

  const dispatcher: MailDispatcher = {
    kick() {
      if (!closed) drain().catch(() => {});
    },
    drain,
    onFailure: () => {},
    async close() {
      closed = true;
      clearInterval(poll);
      if (running) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([running.catch(() => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)))]);
        clearTimeout(timer);
      }
      transport.close();
    },
  };
  return dispatcher;
}
