import type { PublicLink } from '../../../app/view-shared-link.js';
import { exactTime, relativeTime, viewsText } from '../format.js';

export type Chrome = {
  /** The link's page path, `/shared/<token>` or `/s/<code>`: every link on the page stays under it (the grant cookie's path). */
  base: string;
  locale: string;
  now: number;
  link: PublicLink;
  /** The edit form of the record on screen, where the link lets its holder edit it. */
  edit?: string;
};

function Expiry({ expiresAt, now, locale }: { expiresAt: number | null; now: number; locale: string }) {
  if (expiresAt === null) return <>No expiry date</>;
  return (
    <time dateTime={new Date(expiresAt).toISOString()} title={exactTime(expiresAt, locale)}>
      Expires {relativeTime(expiresAt, now)}
    </time>
  );
}

/**
 * The head of every content page: what this is, and, when the link shows its
 * toolbar, its label, expiry, views and the download buttons it allows.
 * `exportsList` says the buttons download the link's whole list, not the
 * record on screen (a record opened from a collection).
 */
export function PageHead({ chrome, eyebrow, title, exportTable, exportsList = false }: { chrome: Chrome; eyebrow: string; title: string; exportTable?: string; exportsList?: boolean }) {
  const { link, base } = chrome;
  const heading = (
    <div className="head-text">
      <p className="eyebrow">{eyebrow}</p>
      <h1>{title}</h1>
    </div>
  );
  const edit = chrome.edit ? (
    <a className="button" href={chrome.edit}>
      Edit
    </a>
  ) : null;
  if (!link.displayToolbar) {
    return (
      <header className="page-head">
        {heading}
        {edit ? <div className="actions head-actions">{edit}</div> : null}
      </header>
    );
  }
  const query = exportTable ? `?table=${encodeURIComponent(exportTable)}` : '';
  return (
    <header className="page-head toolbar" aria-label="About this link">
      {heading}
      <div className="toolbar-row">
        <ul className="meta">
          {link.label ? (
            <li>
              <span className="chip">{link.label}</span>
            </li>
          ) : null}
          <li className="meta-expiry">
            <Expiry expiresAt={link.expiresAt} now={chrome.now} locale={chrome.locale} />
          </li>
          <li className="meta-views">{viewsText(link.viewCount, link.maxViews)}</li>
        </ul>
        {link.permissions.export || edit ? (
          <div className="actions">
            {edit}
            {link.permissions.export ? (
              <>
                <a className={edit ? 'button secondary' : 'button'} href={`${base}/export.csv${query}`} download="" title={exportsList ? 'Every row this link shares' : undefined}>
                  {exportsList ? 'Export list CSV' : 'Export CSV'}
                </a>
                <a className="button secondary" href={`${base}/export.json${query}`} download="" title={exportsList ? 'Every row this link shares' : undefined}>
                  {exportsList ? 'Export list JSON' : 'Export JSON'}
                </a>
              </>
            ) : null}
          </div>
        ) : null}
      </div>
    </header>
  );
}
