import { describe, expect, it } from 'vitest';
import { createUnwrapper } from '../src/decoder/wrappers.js';

const unwrapAll = (lines: string[], customPrefix?: RegExp) => {
  const unwrapper = createUnwrapper({ maxLineChars: 1024 * 1024, customPrefix });
  return { out: lines.map((line) => unwrapper.unwrap(line)), detected: unwrapper.detected };
};

describe('line wrappers', () => {
  it('strips a syslog/journald short prefix and keeps the indentation of the report line', () => {
    const { out, detected } = unwrapAll([
      'Nov 23 06:00:00 soak-3 soakd[4242]: WARNING: DATA RACE',
      'Nov 23 06:00:00 soak-3 soakd[4242]:   main.main()',
      'Nov  3 06:00:01 soak-3 soakd: ',
    ]);
    expect(out).toEqual(['WARNING: DATA RACE', '  main.main()', '']);
    expect(detected).toBe('syslog');
  });

  it('strips journalctl -o short-iso prefixes', () => {
    const { out } = unwrapAll(['2026-11-23T06:00:00+0000 soak-3 soakd[77]:       /src/main.go:12 +0x44']);
    expect(out).toEqual(['      /src/main.go:12 +0x44']);
  });

  it('strips RFC 3339 and ISO timestamps', () => {
    const { out, detected } = unwrapAll(['2026-11-23T06:00:00.123Z WARNING: DATA RACE', '2026-11-23 06:00:00,5 Read at 0x1 by goroutine 7:']);
    expect(out).toEqual(['WARNING: DATA RACE', 'Read at 0x1 by goroutine 7:']);
    expect(detected).toBe('timestamp');
  });

  it('takes the line out of docker json-file records and joins a line split over partial records', () => {
    const { out, detected } = unwrapAll([
      JSON.stringify({ log: 'WARNING: DATA RACE\n', stream: 'stderr', time: '2026-11-23T06:00:00Z' }),
      JSON.stringify({ log: '  main.(*Store', stream: 'stderr', time: '2026-11-23T06:00:00Z' }),
      JSON.stringify({ log: ').Put()\r\n', stream: 'stderr', time: '2026-11-23T06:00:00Z' }),
    ]);
    expect(out).toEqual(['WARNING: DATA RACE', null, '  main.(*Store).Put()']);
    expect(detected).toBe('docker-json');
  });

  it('reads go test -json output events and ignores the others', () => {
    const event = (fields: object) => JSON.stringify({ Time: '2026-11-23T06:00:00Z', Package: 'p', ...fields });
    const { out } = unwrapAll([
      event({ Action: 'run', Test: 'TestX' }),
      event({ Action: 'output', Output: 'WARNING: DATA RACE\n' }),
      event({ Action: 'output', Output: 'Read at 0x1 ' }),
      event({ Action: 'output', Output: 'by goroutine 7:\n' }),
    ]);
    expect(out).toEqual([null, 'WARNING: DATA RACE', null, 'Read at 0x1 by goroutine 7:']);
  });

  it('strips CRI/kubelet prefixes and joins P (partial) records up to the F record', () => {
    const { out } = unwrapAll([
      '2026-11-23T06:00:00.123456789Z stderr F WARNING: DATA RACE',
      '2026-11-23T06:00:00.123456789Z stderr P   main.',
      '2026-11-23T06:00:00.123456789Z stderr F main()',
    ]);
    expect(out).toEqual(['WARNING: DATA RACE', null, '  main.main()']);
  });

  it('applies a user-supplied prefix before the built-in ones', () => {
    const { out, detected } = unwrapAll(['[svc-7] 12:00:01 | WARNING: DATA RACE'], /\[svc-\d+\] [\d:]+ \| /);
    expect(out).toEqual(['WARNING: DATA RACE']);
    expect(detected).toBe('custom');
  });

  it('removes ANSI colour codes that a pseudo-terminal capture leaves', () => {
    const { out } = unwrapAll(['\x1b[1m\x1b[31mWARNING: DATA RACE\x1b[0m']);
    expect(out).toEqual(['WARNING: DATA RACE']);
  });

  it('leaves plain lines and lines of other writers as they are', () => {
    const { out, detected } = unwrapAll(['WARNING: DATA RACE', '2026/11/23 06:00:00 http: served', '{"not":"a wrapper"}']);
    expect(out[0]).toBe('WARNING: DATA RACE');
    expect(out[2]).toBe('{"not":"a wrapper"}');
    expect(detected).toBe('timestamp');
  });
});
