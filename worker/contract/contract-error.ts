import { isDigest, type Digest } from '../../oci/digest.js';

/**
 * A message from a peer that the engine cannot act on: a missing oneof, an unknown enum value, a
 * malformed digest. It names the field, so a version skew or a bug shows where it is.
 */
export class ContractError extends Error {}

/** A message field that must be set. */
export function required<T>(value: T | null | undefined, field: string): T {
  if (value === null || value === undefined) throw new ContractError(`${field} is missing`);
  return value;
}

export function digestField(value: string, field: string): Digest {
  if (!isDigest(value)) throw new ContractError(`${field} is not a sha256 digest: ${JSON.stringify(value)}`);
  return value;
}

/**
 * Both directions between a string union of the engine and a protobuf enum (as names): total one way,
 * checked the other, where UNSPECIFIED or an unknown value is an error.
 */
export class EnumCodec<Engine extends string, Wire extends string> {
  private readonly back: Map<string, Engine>;

  constructor(
    private readonly field: string,
    private readonly forward: Record<Engine, Wire>,
  ) {
    this.back = new Map(Object.entries<Wire>(forward).map(([engine, wire]) => [wire, engine as Engine]));
  }

  encode(value: Engine): Wire {
    return this.forward[value];
  }

  decode(value: string | number): Engine {
    const engine = this.back.get(String(value));
    if (engine === undefined) throw new ContractError(`${this.field} has no meaning for ${JSON.stringify(value)}`);
    return engine;
  }
}
