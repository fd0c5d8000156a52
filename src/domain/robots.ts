/**
 * Link-preview robots and crawlers: they fetch a link to draw a card or index
 * it, not to read it, so they get a neutral answer and burn no view.
 */
const PREVIEW_AGENTS = [
  'slackbot',
  'slack-imgproxy',
  'skypeuripreview', // Teams
  'microsoftpreview',
  'teams',
  'whatsapp',
  'applebot',
  'facebookexternalhit',
  'facebookcatalog',
  'facebot',
  'discordbot',
  'telegrambot',
  'twitterbot',
  'linkedinbot',
  'googlebot',
  'google-inspectiontool',
  'adsbot-google',
  'bingbot',
  'bingpreview',
  'duckduckbot',
  'yandexbot',
  'baiduspider',
  'embedly',
  'pinterestbot',
  'redditbot',
  'mastodon',
];

// iMessage previews identify as a Facebook/Twitter bot pair on a desktop Safari string.
const IMESSAGE = /facebookexternalhit\/1\.1 facebot twitterbot\/1\.0/i;

export function isPreviewRobot(userAgent: string | undefined): boolean {
  if (!userAgent) return false;
  const ua = userAgent.toLowerCase();
  return IMESSAGE.test(ua) || PREVIEW_AGENTS.some((a) => ua.includes(a));
}
