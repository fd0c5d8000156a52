import { verifyAudit } from '../app/verify-audit.js';
import { withDatabase, type CliCommand } from './runtime.js';

/** `porthole audit verify [--link <id>]`: checks every link's event hash chain; exit 1 on any break. */
export const auditCommand: CliCommand = (program, cli) => {
  const audit = program.command('audit').description('inspect the audit trail');
  audit
    .command('verify')
    .description("check every link's event hash chain; exits 1 and lists each break when the trail was tampered with")
    .option('--link <id>', 'check only this link')
    .action(async (opts: { link?: string }) => {
      const report = await withDatabase(cli.config(), (database) => verifyAudit({ database }, { linkId: opts.link }));
      if (report.breaks.length === 0) {
        cli.print(`ok: ${report.links} links, ${report.events} events verified`);
        return;
      }
      for (const b of report.breaks) {
        cli.print(`break: link ${b.linkId} seq ${b.seq ?? '-'} event ${b.eventId || '-'}: ${b.problem}`);
      }
      const brokenLinks = new Set(report.breaks.map((b) => b.linkId)).size;
      cli.print(
        `FAILED: ${report.breaks.length} problem(s) in ${brokenLinks} of ${report.links} links (${report.events} events checked)`,
      );
      cli.exitCode = 1;
    });
};
