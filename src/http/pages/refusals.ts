import type { ErrorReason } from '../../domain/errors.js';

/** What a refusal page says: a heading, a sentence, and what the reader can do next. */
export type RefusalCopy = { heading: string; body: string; next: string; tone: 'stop' | 'wait' | 'lock' };

const ASK = 'Ask the person who shared it with you for a new link.';

const copy: Partial<Record<ErrorReason, RefusalCopy>> = {
  not_found: { heading: 'This link doesn’t exist', body: 'We couldn’t find anything shared at this address. It may have been mistyped, cut off, or replaced by a newer link.', next: ASK, tone: 'stop' },
  invalid_token: { heading: 'This link isn’t valid', body: 'The address doesn’t look like a Porthole share link. It was probably cut off or mistyped when it was copied.', next: 'Copy the whole link again, or ask the person who shared it to send it once more.', tone: 'stop' },
  expired: { heading: 'This link has expired', body: 'The person who shared it set an end date, and it has passed.', next: 'Ask them to extend it or to send you a new link.', tone: 'wait' },
  revoked: { heading: 'This link has been revoked', body: 'The person who shared it has withdrawn it for good.', next: ASK, tone: 'stop' },
  disabled: { heading: 'This link is switched off', body: 'The person who shared it has paused it for now. Nothing is lost; they can switch it back on.', next: 'Ask them to switch it on again.', tone: 'wait' },
  max_views_reached: { heading: 'This link has reached its view limit', body: 'It could only be opened a set number of times, and that limit has been reached.', next: 'Ask the person who shared it to raise the limit or to send you a new link.', tone: 'wait' },
  rate_limited: { heading: 'Too many attempts', body: 'We’ve had a lot of requests from your connection in a short time, so we’re pausing for a moment.', next: 'Please wait a little and try again.', tone: 'wait' },
  password_required: { heading: 'This link is protected by a password', body: 'Enter the password you were given to see what was shared.', next: 'Don’t have it? Ask the person who shared the link.', tone: 'lock' },
  password_invalid: { heading: 'That password isn’t right', body: 'The password you entered doesn’t match. Check for typos and try again.', next: 'Don’t have it? Ask the person who shared the link.', tone: 'lock' },
  auth_required: { heading: 'Confirm your email address', body: 'This link is meant for specific people. Enter your email address and we’ll send you a one-time code.', next: 'Use the address the link was sent to (for a link shared with a workspace’s members: your member address, or sign in to Porthole first).', tone: 'lock' },
  code_invalid: { heading: 'That code didn’t work', body: 'The code is wrong, was already used, or has expired. Codes work once, for 10 minutes.', next: 'Check the latest mail, or send yourself a new code.', tone: 'lock' },
  export_disabled: { heading: 'Downloads are turned off', body: 'The person who shared this link allows viewing it, but not downloading it.', next: 'You can still read everything on the page.', tone: 'stop' },
  records_disabled: { heading: 'Single records can’t be opened', body: 'This link shows the list only; opening individual records isn’t allowed.', next: 'You can still read the list on the page.', tone: 'stop' },
  forbidden: { heading: 'That isn’t allowed', body: 'This link doesn’t allow what you tried to do.', next: 'You can still read what was shared.', tone: 'stop' },
  invalid_cursor: { heading: 'This page is out of date', body: 'The page you asked for doesn’t belong to this link, or the list has changed since.', next: 'Start again from the first page.', tone: 'wait' },
  invalid_request: { heading: 'We couldn’t understand that request', body: 'Something in the address or the form wasn’t what we expected.', next: 'Go back and try again.', tone: 'stop' },
  invalid_json: { heading: 'We couldn’t understand that request', body: 'The form data couldn’t be read.', next: 'Go back and try again.', tone: 'stop' },
  payload_too_large: { heading: 'That was too much to send', body: 'The form you sent was larger than we accept.', next: 'Go back and try again with less.', tone: 'stop' },
  unsupported_media_type: { heading: 'We couldn’t read that form', body: 'The form was sent in a way we don’t understand.', next: 'Go back and submit it again.', tone: 'stop' },
  not_ready: { heading: 'Porthole is busy for a moment', body: 'It couldn’t answer just now: it may be busy, restarting, or out of reach of its database. Nothing is wrong with your link.', next: 'Please try again in a moment.', tone: 'wait' },
  internal_error: { heading: 'Something went wrong on our side', body: 'We couldn’t show this page just now. The problem has been logged.', next: 'Please try again in a moment.', tone: 'wait' },
};

const fallback: RefusalCopy = { heading: 'This link can’t be opened', body: 'Something stopped this page from being shown.', next: ASK, tone: 'stop' };

export function refusalCopy(reason: ErrorReason): RefusalCopy {
  return copy[reason] ?? fallback;
}
