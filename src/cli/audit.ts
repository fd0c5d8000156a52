import { verifyAudit } from '../app/verify-audit.js';
import { withDatabase, type CliCommand } from './runtime.js';

/** `porthole audit verify [--link <id>]`: checks every link's event hash chain; exit 1 on any break. */
export const auditCommand: CliCommand = (program, cli) => {
  const audit = program.command('audit').description('inspect the audit trail');
  audit
    .command('verify')
    .description("check every link's and every workspace's event hash chain; exits 1 and lists each break when the trail was tampered with")
    .option('--link <id>', 'check only this link')
    .action(async (opts: { link?: string }) => {
      const report = await withDatabase(cli.config(), (database) => verifyAudit({ database }, { linkId: opts.link }));
      const walked = `${report.links} links${opts.link === undefined ? `, ${report.workspaces} workspaces` : ''}`;
      if (report.breaks.length === 0) {
        cli.print(`ok: ${walked}, ${report.events} events verified`);
        return;
      }
      const chainOf = (b: (typeof report.breaks)[number]) => (b.linkId !== null ? `link ${b.linkId}` : `workspace ${b.workspaceId}`);
      for (const b of report.breaks) {
        cli.print(`break: ${chainOf(b)} seq ${b.seq ?? '-'} event ${b.eventId || '-'}: ${b.problem}`);
      }
      const broken = new Set(report.breaks.map(chainOf)).size;
      cli.print(`FAILED: ${report.breaks.length} problem(s) in ${broken} of ${walked} (${report.events} events checked)`);
      cli.exitCode = 1;
    });
};
