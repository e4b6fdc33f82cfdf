import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Errors, InvalidStateError, createError, toErrorBody } from './errors.js';

describe('error catalogue', () => {
  it('lists exactly the codes documented in docs/errors.md', () => {
    const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/^\| `(ERR_[A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => `${m[1]} ${m[2]}`);
    const catalogue = Object.values(Errors).map((e) => `${e.code} ${e.httpStatus}`);
    expect(documented.sort()).toEqual(catalogue.sort());
  });

  it('never reuses a code', () => {
    const codes = Object.values(Errors).map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('maps thrown values to client bodies without leaking internals', () => {
    expect(toErrorBody(createError(Errors.ROOM_FULL, 'limit 2'))).toEqual({ code: 'ERR_ROOM_FULL', message: 'Room has reached its peer limit: limit 2' });
    expect(toErrorBody(new InvalidStateError('closed')).code).toBe('ERR_WRONG_STATE');
    expect(toErrorBody(new TypeError('bad')).code).toBe('ERR_INVALID_PARAMS');
    expect(toErrorBody(new Error('secret stack detail'))).toEqual({ code: 'ERR_INTERNAL', message: 'Internal error' });
  });
});
