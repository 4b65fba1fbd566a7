import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FORMAT_NAMES } from '../parsers/registry.js';
import { ConfigError, loadSettings } from '../src/config/settings.js';

const dir = mkdtempSync(path.join(tmpdir(), 'racewatch-settings-'));
const configFile = (content: string): string => {
  const file = path.join(dir, `c${Math.random().toString(16).slice(2)}.json`);
  writeFileSync(file, content);
  return file;
};

describe('scan settings', () => {
  it('uses the documented defaults when nothing is set', () => {
    const settings = loadSettings({}, {});
    expect(settings).toMatchObject({ maxLineBytes: 1024 * 1024, fingerprintDepth: 1, skipFunctions: [], appModules: [], logLevel: 'info' });
    expect(settings.linePrefix).toBeUndefined();
  });

  it('takes a flag over the environment over the config file', () => {
    const file = configFile(JSON.stringify({ fingerprintDepth: 3, appModules: ['a.example/x'] }));
    expect(loadSettings({}, {}, file)).toMatchObject({ fingerprintDepth: 3, appModules: ['a.example/x'] });
    expect(loadSettings({ RACEWATCH_FINGERPRINT_DEPTH: '2' }, {}, file).fingerprintDepth).toBe(2);
    expect(loadSettings({ RACEWATCH_FINGERPRINT_DEPTH: '2' }, { fingerprintDepth: '4' }, file).fingerprintDepth).toBe(4);
  });

  it('splits comma-separated lists and compiles regular expressions', () => {
    const settings = loadSettings({ RACEWATCH_SKIP_FUNCTIONS: '^a\\.,  b$ ', RACEWATCH_APP_MODULES: 'x.example/a,y.example/b' }, {});
    expect(settings.skipFunctions.map((r) => r.source)).toEqual(['^a\\.', 'b$']);
    expect(settings.appModules).toEqual(['x.example/a', 'y.example/b']);
  });

  it('RACEWATCH_FORMATS: every format by default, a subset by name, an unknown name refused with the known ones', () => {
    expect(loadSettings({}, {}).formats).toEqual([...FORMAT_NAMES]);
    expect(loadSettings({ RACEWATCH_FORMATS: ' go-race ' }, {}).formats).toEqual(['go-race']);
    expect(loadSettings({}, {}, configFile(JSON.stringify({ formats: ['go-race'] }))).formats).toEqual(['go-race']);
    expect(() => loadSettings({ RACEWATCH_FORMATS: 'go-race,tsan-typo' }, {})).toThrow(/RACEWATCH_FORMATS: each must be one of go-race/);
    expect(() => loadSettings({ RACEWATCH_FORMATS: ',' }, {})).toThrow(/needs at least one format/);
  });

  it('names the bad setting and its source in the error', () => {
    expect(() => loadSettings({ RACEWATCH_MAX_LINE_BYTES: '10' }, {})).toThrow(/RACEWATCH_MAX_LINE_BYTES: must be at least 1024/);
    expect(() => loadSettings({}, { linePrefix: '[' })).toThrow(/--line-prefix: not a valid regular expression/);
    expect(() => loadSettings({ LOG_LEVEL: 'loud' }, {})).toThrow(ConfigError);
  });

  it('rejects a config file that is not JSON, not an object, or has unknown settings', () => {
    expect(() => loadSettings({}, {}, configFile('{oops'))).toThrow(/not valid JSON/);
    expect(() => loadSettings({}, {}, configFile('[1]'))).toThrow(/must be a JSON object/);
    expect(() => loadSettings({}, {}, configFile('{"fingerprintDeph": 2}'))).toThrow(/unknown setting\(s\) fingerprintDeph/);
    expect(() => loadSettings({}, {}, path.join(dir, 'missing.json'))).toThrow(/config file .*missing\.json/);
  });
});
