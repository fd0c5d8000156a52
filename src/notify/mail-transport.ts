import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Transporter } from 'nodemailer';

/** One mail as the dispatcher hands it over. */
export type MailMessage = { id: string; from: string; to: string; subject: string; text: string };

/** Where mail goes: an SMTP server, or files. `send` resolves once the mail is accepted. */
export type MailTransport = {
  /** What operators see: `smtp` or the directory the files go to. */
  describe: string;
  send(mail: MailMessage): Promise<void>;
  close(): void;
};

/** Never wait on a mail server for ever: a dispatcher that hangs sends nothing else. */
const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

// nodemailer is loaded on the first mail: a server that sends none never pays for it.
let loaded: Promise<typeof import('nodemailer')> | null = null;
const nodemailer = () => (loaded ??= import('nodemailer'));

/**
 * `SMTP_URL` sends through that server (`smtp://user:pass@host:587`,
 * `smtps://…` for TLS from the start); without it each mail is written as
 * `<id>.eml` under `<dataDir>/mail`, whole and readable by any mail client.
 */
export function openMailTransport(opts: { smtpUrl?: string; dataDir: string }): MailTransport {
  let transporter: Promise<Transporter> | null = null;
  const make = async (): Promise<Transporter> => {
    const { createTransport } = await nodemailer();
    if (opts.smtpUrl) return createTransport(opts.smtpUrl, SMTP_TIMEOUTS);
    return createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  };
  const dir = join(opts.dataDir, 'mail');
  return {
    describe: opts.smtpUrl ? 'smtp' : dir,
    async send(mail) {
      const t = await (transporter ??= make());
      const info = await t.sendMail({ from: mail.from, to: mail.to, subject: mail.subject, text: mail.text, messageId: `<${mail.id}@porthole>` });
      if (opts.smtpUrl) return;
      // Written whole, then renamed: a reader never sees half a mail.
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `${mail.id}.eml`);
      writeFileSync(`${file}.tmp`, (info as unknown as { message: Buffer }).message);
      renameSync(`${file}.tmp`, file);
    },
    close() {
      void transporter?.then((t) => t.close()).catch(() => {});
      transporter = null;
    },
  };
}
