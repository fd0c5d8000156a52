import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const SECRET = 'ab'.repeat(32);

/** The ConfigError loadConfig throws for an environment. */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

describe('loadConfig', () => {
  it('runs on nothing: SQLite in ./data on port 8080', () => {
    const config = loadConfig({});
    expect(config).toEqual({
      port: 8080,
      host: '0.0.0.0',
      publicUrl: 'http://localhost:8080',
      databaseUrl: undefined,
      dataDir: './data',
      secret: undefined,
      redisUrl: undefined,
      redisPrefix: 'porthole:',
      smtpUrl: undefined,
      mailFrom: 'Porthole <porthole@localhost>',
      logLevel: 'info',
      trustProxy: false,
      metricsToken: undefined,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '3000',
      HOST: '127.0.0.1',
      PUBLIC_URL: 'https://share.example.com/',
      DATABASE_URL: 'postgres://porthole@db:5432/porthole',
      DATA_DIR: '/var/lib/porthole',
      PORTHOLE_SECRET: SECRET.toUpperCase(),
      REDIS_URL: 'redis://cache:6379',
      REDIS_PREFIX: 'shares-eu:',
      SMTP_URL: 'smtps://user:pass@mail.example.com:465',
      MAIL_FROM: 'Shares <shares@example.com>',
      LOG_LEVEL: 'warn',
      TRUST_PROXY: 'true',
      METRICS_TOKEN: 'prometheus-scrape-token',
    });
    expect(config).toEqual({
      port: 3000,
      host: '127.0.0.1',
      publicUrl: 'https://share.example.com',
      databaseUrl: 'postgres://porthole@db:5432/porthole',
      dataDir: '/var/lib/porthole',
      secret: SECRET,
      redisUrl: 'redis://cache:6379',
      redisPrefix: 'shares-eu:',
      smtpUrl: 'smtps://user:pass@mail.example.com:465',
      mailFrom: 'Shares <shares@example.com>',
      logLevel: 'warn',
      trustProxy: true,
      metricsToken: 'prometheus-scrape-token',
    });
  });

  it('derives the public URL from the port when unset', () => {
    expect(loadConfig({ PORT: '9000' }).publicUrl).toBe('http://localhost:9000');
  });

  it('counts empty strings as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', PORT: '', PORTHOLE_SECRET: '' })).toMatchObject({ databaseUrl: undefined, port: 8080, secret: undefined });
  });

  it.each([
    ['false', false],
    ['true', true],
    ['2', 2],
    ['10.0.0.0/8, 192.168.1.1', '10.0.0.0/8, 192.168.1.1'],
  ])('reads TRUST_PROXY=%s', (value, expected) => {
    expect(loadConfig({ TRUST_PROXY: value }).trustProxy).toBe(expected);
  });

  it('accepts postgresql:// as well as postgres://', () => {
    expect(loadConfig({ DATABASE_URL: 'postgresql://u@h/d' }).databaseUrl).toBe('postgresql://u@h/d');
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '80.5'],
    ['DATABASE_URL', 'mysql://x'],
    ['METRICS_TOKEN', 'too-short'],
    ['METRICS_TOKEN', 'has a space in it, sadly'],
    ['PORTHOLE_SECRET', 'short'],
    ['PORTHOLE_SECRET', 'z'.repeat(64)],
    ['LOG_LEVEL', 'loud'],
    ['PUBLIC_URL', 'notaurl'],
    ['PUBLIC_URL', 'ftp://example.com'],
    ['REDIS_URL', 'http://cache:6379'],
    ['REDIS_PREFIX', 'has spaces'],
    ['REDIS_PREFIX', 'x'.repeat(65)],
    ['SMTP_URL', 'mail.example.com'],
    ['TRUST_PROXY', 'yes please'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    const e = configError({ [name]: value });
    expect(e.name).toBe('ConfigError');
    expect(e.message).toContain(`${name}:`);
  });

  it('names every bad variable at once', () => {
    const e = configError({ PORT: 'abc', LOG_LEVEL: 'loud' });
    expect(e.message).toContain('PORT:');
    expect(e.message).toContain('LOG_LEVEL:');
  });

  it('never echoes a refused secret', () => {
    const almost = 'ab'.repeat(31) + 'zz';
    expect(configError({ PORTHOLE_SECRET: almost }).message).not.toContain(almost);
  });

  it('ignores variables it does not know', () => {
    expect(() => loadConfig({ HOME: '/root', PATH: '/usr/bin' })).not.toThrow();
  });
});
