import { describe, expect, it } from 'vitest';
import { epochMsToMs, epochSecondsToMs, formatMs, parseAnyTimeMs, parseIsoMs, parseSlackTsMs } from '../src/core/time.js';

describe('time normalisation', () => {
  it('reads ISO-8601 in UTC and with offsets', () => {
    expect(formatMs(parseIsoMs('2024-05-20T14:02:31Z')!)).toBe('2024-05-20T14:02:31.000Z');
    expect(formatMs(parseIsoMs('2024-05-20T16:02:31+02:00')!)).toBe('2024-05-20T14:02:31.000Z');
    expect(formatMs(parseIsoMs('2024-10-02T15:27:44+05:30')!)).toBe('2024-10-02T09:57:44.000Z');
    expect(formatMs(parseIsoMs('2024-03-07T12:01:12-05:00')!)).toBe('2024-03-07T17:01:12.000Z');
    expect(formatMs(parseIsoMs('2024-03-07T12:01:12-0500')!)).toBe('2024-03-07T17:01:12.000Z');
  });

  it('keeps milliseconds and truncates finer fractions instead of rounding', () => {
    expect(formatMs(parseIsoMs('2024-05-20T14:02:13.412Z')!)).toBe('2024-05-20T14:02:13.412Z');
    expect(formatMs(parseIsoMs('2024-05-20T14:02:13.4129Z')!)).toBe('2024-05-20T14:02:13.412Z');
    expect(formatMs(parseIsoMs('2024-05-20T14:02:13.999999Z')!)).toBe('2024-05-20T14:02:13.999Z');
    expect(formatMs(parseIsoMs('2024-05-20T14:02:13.5Z')!)).toBe('2024-05-20T14:02:13.500Z');
  });

  it('reads Slack ts strings (epoch seconds with microseconds), truncating to ms', () => {
    expect(formatMs(parseSlackTsMs('1716213751.123456')!)).toBe('2024-05-20T14:02:31.123Z');
    expect(formatMs(parseSlackTsMs('1716213751.999999')!)).toBe('2024-05-20T14:02:31.999Z');
    expect(formatMs(parseSlackTsMs('1716213751')!)).toBe('2024-05-20T14:02:31.000Z');
  });

  it('reads Datadog epoch milliseconds (float) and epoch seconds', () => {
    expect(formatMs(epochMsToMs(1716213610000.0))).toBe('2024-05-20T14:00:10.000Z');
    expect(formatMs(epochMsToMs(1716213610123.9))).toBe('2024-05-20T14:00:10.123Z');
    expect(formatMs(epochSecondsToMs(1716213660))).toBe('2024-05-20T14:01:00.000Z');
    expect(formatMs(epochSecondsToMs(1716213660.0019))).toBe('2024-05-20T14:01:00.001Z');
  });

  it('tells seconds from milliseconds for untyped values', () => {
    expect(parseAnyTimeMs(1716213660)).toBe(1716213660000);
    expect(parseAnyTimeMs(1716213660123)).toBe(1716213660123);
    expect(parseAnyTimeMs('1716213751.5')).toBe(1716213751500);
    expect(parseAnyTimeMs('2024-05-20T14:02:13.412Z')).toBe(Date.parse('2024-05-20T14:02:13.412Z'));
  });

  it('rejects what is not a time', () => {
    for (const bad of ['yesterday', '2024-13-01T00:00:00Z', '2024-05-20T25:61:00Z', '', '12:00']) expect(parseIsoMs(bad)).toBeNull();
    expect(parseSlackTsMs('abc')).toBeNull();
    expect(parseAnyTimeMs(Number.NaN)).toBeNull();
  });
});
