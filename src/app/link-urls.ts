import type { Config } from '../config/config.js';

/** The page a link's token opens: what its holders are sent (the API's `url`, the recipient's mail). */
export const sharedUrl = (config: Pick<Config, 'publicUrl'>, token: string): string => `${config.publicUrl}/shared/${token}`;

/** The shorter page its code opens (the API's `short_url`). */
export const shortUrl = (config: Pick<Config, 'publicUrl'>, code: string): string => `${config.publicUrl}/s/${code}`;
