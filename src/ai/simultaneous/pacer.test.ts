import { describe, expect, it } from 'vitest';
import { PACE_DEFAULTS, UNPACED, paceRate, planPlayout } from './pacer.js';

describe('pacer', () => {
  const o = { relaxedBacklogMs: 500, fullBacklogMs: 2500, maxRate: 1.5, dropBacklogMs: 4000 };

  it('speaks at normal speed while the backlog is small', () => {
    expect(paceRate(0, o)).toBe(1);
    expect(paceRate(500, o)).toBe(1);
  });

  it('speaks faster as the backlog grows, linearly, never past maxRate', () => {
    expect(paceRate(1500, o)).toBeCloseTo(1.25);
    const rates = [600, 1000, 2000, 2500, 10_000, 1e9].map((b) => paceRate(b, o));
    expect(rates).toEqual([...rates].sort((a, b) => a - b));
    expect(Math.max(...rates)).toBe(1.5);
    expect(paceRate(Number.NaN, o)).toBe(1);
  });

  it('drops the oldest waiting segments past the hard bound, never the newest, and reports how many', () => {
    expect(planPlayout(1000, [1500, 1500], o)).toEqual({ drop: 0, rate: 1.5, backlogMs: 4000 });
    expect(planPlayout(1000, [1500, 1500, 1500], o)).toMatchObject({ drop: 1, backlogMs: 4000 });
    expect(planPlayout(0, [9000], o)).toMatchObject({ drop: 0, rate: 1.5, backlogMs: 9000 });
    expect(planPlayout(5000, [2000, 2000, 800], o)).toMatchObject({ drop: 2, backlogMs: 5800 });
  });

  it('unpaced (consecutive) playout never changes speed nor drops', () => {
    expect(planPlayout(60_000, [9000, 9000, 9000], UNPACED)).toEqual({ drop: 0, rate: 1, backlogMs: 87_000 });
  });

  it('defaults: normal speed up to relaxedBacklogMs, full speed from fullBacklogMs', () => {
    expect(paceRate(PACE_DEFAULTS.relaxedBacklogMs, PACE_DEFAULTS)).toBe(1);
    expect(paceRate(PACE_DEFAULTS.fullBacklogMs, PACE_DEFAULTS)).toBe(PACE_DEFAULTS.maxRate);
  });
});
