import type { ReactNode } from 'react';
import { shareCssHref } from '../stylesheet.js';

export const BRAND = 'Porthole';

/**
 * The page shell: one stylesheet, no script, nothing fetched from elsewhere.
 * `noindex` and `no-referrer` repeat in markup what the headers already say.
 */
export function Document({ title, children, head, bodyClass, exactTitle = false }: { title: string; children: ReactNode; head?: ReactNode; bodyClass?: string; exactTitle?: boolean }) {
  const fullTitle = exactTitle ? title : `${title} · ${BRAND}`;
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex, nofollow" />
        <meta name="referrer" content="no-referrer" />
        <meta name="color-scheme" content="light dark" />
        <title>{fullTitle}</title>
        {/* No favicon request: the page is one document and one stylesheet. */}
        <link rel="icon" href="data:," />
        {head}
        <link rel="stylesheet" href={shareCssHref()} />
      </head>
      <body className={bodyClass}>
        <div className="page">
          <header className="brand-bar">
            <span className="brand">
              <span className="brand-mark" aria-hidden="true" />
              {BRAND}
            </span>
          </header>
          <main className="main">{children}</main>
          <footer className="footer">
            <span className="lock" aria-hidden="true" />
            Shared securely with {BRAND}
          </footer>
        </div>
      </body>
    </html>
  );
}
