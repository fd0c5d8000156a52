import type { FieldFormat, FieldValue } from '../../../domain/resource.js';
import { formatValue } from '../format.js';

/** One value as a recipient reads it; every string goes through React's escaping. */
export function Value({ value, format, locale, compact = false }: { value: FieldValue | undefined; format: FieldFormat; locale: string; compact?: boolean }) {
  const shown = formatValue(value, format, locale);
  switch (shown.kind) {
    case 'gap':
      return compact ? (
        <span className="gap" title="not provided">
          —<span className="sr-only"> not provided</span>
        </span>
      ) : (
        <span className="gap">— not provided</span>
      );
    case 'bool':
      return shown.value ? (
        <span className="bool yes" title="Yes">
          ✓<span className="sr-only"> yes</span>
        </span>
      ) : (
        <span className="bool no" title="No">
          ✗<span className="sr-only"> no</span>
        </span>
      );
    case 'badge':
      return <span className={`badge badge-${shown.tone}`}>{shown.text}</span>;
    case 'time':
      return <time dateTime={shown.iso}>{shown.text}</time>;
    case 'link':
      return (
        <a href={shown.href} rel="noopener noreferrer nofollow" target="_blank" className="ext">
          {shown.text}
        </a>
      );
    case 'email':
      return <a href={shown.href}>{shown.text}</a>;
    case 'number':
      return <span className="number">{shown.text}</span>;
    case 'text':
      return <>{shown.text}</>;
  }
}

/** Columns whose cells read better aligned right. */
export const isNumeric = (format: FieldFormat): boolean => format === 'number';
