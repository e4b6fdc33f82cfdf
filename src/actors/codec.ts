/**
 * Versioned snapshot documents: every actor snapshot is stored as
 * `{ v: MACHINE_VERSION, snapshot }`. A document from another version is
 * refused (SnapshotVersionError) rather than restored into a machine it does not fit.
 */
export class SnapshotVersionError extends Error {
  constructor(machine: string, found: unknown, expected: number) {
    super(`${machine} snapshot has version ${String(found)}, this build reads version ${expected}`);
    this.name = 'SnapshotVersionError';
  }
}

export type SnapshotCodec<T> = {
  encode(snapshot: T): string;
  decode(doc: string): T;
};

export function createSnapshotCodec<T>(machine: string, version: number): SnapshotCodec<T> {
  return {
    encode: (snapshot) => JSON.stringify({ v: version, snapshot }),
    decode: (doc) => {
      const parsed = JSON.parse(doc) as { v?: unknown; snapshot?: T };
      if (parsed.v !== version || parsed.snapshot === undefined) throw new SnapshotVersionError(machine, parsed.v, version);
      return parsed.snapshot;
    },
  };
}
