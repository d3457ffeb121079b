import { describe, expect, it } from 'vitest';
import {
  type ChangeWindow,
  formatInZone,
  isOpen,
  nextOpening,
  resumeTime,
} from '../../src/core/change-window.js';

const OFFICE: ChangeWindow = {
  timezone: 'Europe/Berlin',
  days: ['mon', 'tue', 'wed', 'thu', 'fri'],
  from: '09:00',
  to: '17:00',
};

describe('a change window', () => {
  it('opens next on Monday 09:00 Berlin time, in winter and in summer', () => {
    expect(nextOpening(OFFICE, new Date('2026-12-05T12:00:00Z'))).toEqual(new Date('2026-12-07T08:00:00Z'));
    expect(nextOpening(OFFICE, new Date('2026-07-03T16:00:00Z'))).toEqual(new Date('2026-07-06T07:00:00Z'));
  });

  it('is open inside its hours, and shut on a freeze date', () => {
    const monday = new Date('2026-12-07T10:00:00Z');
    expect(isOpen(OFFICE, monday)).toBe(true);
    expect(isOpen(OFFICE, new Date('2026-12-07T16:30:00Z'))).toBe(false);
    const frozen = { ...OFFICE, freeze: ['2026-12-07'] };
    expect(nextOpening(frozen, monday)).toEqual(new Date('2026-12-08T08:00:00Z'));
  });

  it('says when in its own zone, named', () => {
    expect(formatInZone(new Date('2026-12-07T08:00:00Z'), 'Europe/Berlin')).toBe(
      'Mon, 7 Dec 2026, 09:00 CET',
    );
  });

  it('holds back only an approval, and never a break-glass', () => {
    const saturday = new Date('2026-12-05T12:00:00Z');
    const policy = { window: OFFICE };
    expect(resumeTime({ status: 'approved', policy }, saturday)).toEqual(new Date('2026-12-07T08:00:00Z'));
    expect(resumeTime({ status: 'rejected', policy }, saturday)).toEqual(saturday);
    expect(resumeTime({ status: 'approved', policy, breakGlass: { by: 'x' } }, saturday)).toEqual(saturday);
  });
});
