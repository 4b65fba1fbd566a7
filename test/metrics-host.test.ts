// RACEWATCH_METRICS_HOST: only loopback, decided on what the host resolves to (every address), never on
// how its name is spelled. An address is checked when the settings load; a name where the server starts.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadSettings } from '../src/config/settings.js';
import { resolveMetricsHost, startMetricsServer, type LookupAll } from '../src/observability/http.js';

const answering =
  (...addresses: string[]): LookupAll =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

describe('RACEWATCH_METRICS_HOST', () => {
  it('settings: loopback addresses pass, other addresses are refused at once, names wait for resolving', () => {
    const host = (value: string) => loadSettings({ RACEWATCH_METRICS_HOST: value }, {}).metricsHost;
    for (const value of ['127.0.0.1', '127.5.6.7', '::1', '0:0:0:0:0:0:0:1', 'localhost', '127.evil']) expect(host(value)).toBe(value);
    for (const value of ['0.0.0.0', '10.0.0.1', '128.0.0.1', '::', '::ffff:10.0.0.1', '2001:db8::1']) {
      expect(() => host(value)).toThrow(ConfigError);
      expect(() => host(value)).toThrow('RACEWATCH_METRICS_HOST: must be a loopback address');
    }
  });

  it('a name is accepted only when every address it resolves to is loopback', async () => {
    await expect(resolveMetricsHost('box', answering('127.0.0.1', '::1'))).resolves.toBe('127.0.0.1');
    await expect(resolveMetricsHost('box', answering('::1'))).resolves.toBe('::1');
    await expect(resolveMetricsHost('box', answering('127.0.0.1', '192.0.2.7'))).rejects.toThrow(
      'RACEWATCH_METRICS_HOST: "box" resolves to 192.0.2.7, not a loopback address',
    );
    await expect(resolveMetricsHost('box', answering())).rejects.toThrow(ConfigError);
  });

  it('a name that does not resolve is a ConfigError naming the setting', async () => {
    const failing: LookupAll = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND 127.evil'), { code: 'ENOTFOUND' });
    };
    const refusal = resolveMetricsHost('127.evil', failing);
    await expect(refusal).rejects.toThrow(ConfigError);
    await expect(refusal).rejects.toThrow('RACEWATCH_METRICS_HOST: cannot resolve "127.evil" (ENOTFOUND)');
  });

  it('with the real resolver: localhost is loopback, and an address resolves to itself', async () => {
    expect(['127.0.0.1', '::1']).toContain(await resolveMetricsHost('localhost'));
    await expect(resolveMetricsHost('127.0.0.9')).resolves.toBe('127.0.0.9');
    await expect(resolveMetricsHost('0.0.0.0')).rejects.toThrow(ConfigError);
  });

  it('the server listens on the address it checked, and refuses to start on anything else', async () => {
    const health = { health: () => ({}) };
    const { server, address } = await startMetricsServer('localhost', 0, health);
    try {
      expect(['127.0.0.1', '::1']).toContain(address);
      expect((server.address() as { address: string }).address).toBe(address);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    await expect(startMetricsServer('0.0.0.0', 0, health)).rejects.toThrow(ConfigError);
  });
});
