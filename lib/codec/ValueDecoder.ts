import { ProtocolError } from '../errors.js';
import { Tag, typedArrayKinds } from './tags.js';

/** Re-binds a handle on the receiving side: see `HandleDescriptor`. */
export type HandleReviver = (kind: string, state: unknown, attachments: unknown[]) => unknown;

const uint8ArraySlice = Uint8Array.prototype.slice;
/** Buffer's native UTF-8 decoder, which works on any Uint8Array (no Buffer object per string). */
const utf8Slice = (Buffer.prototype as unknown as { utf8Slice(start: number, end: number): string }).utf8Slice;
const float64Scratch = new Float64Array(1);
const float64Bytes = new Uint8Array(float64Scratch.buffer);

const standardErrors: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/**
 * Decodes values written by {@link ValueEncoder}, one after another from one byte array.
 *
 * @example
 * ```ts
 * const decoder = new ValueDecoder(bytes);
 * while (!decoder.done) console.log(decoder.read());
 * ```
 */
export class ValueDecoder {
  private position = 0;
  private references: unknown[] = [];

  constructor(
    private readonly bytes: Uint8Array,
    private readonly attachments: unknown[] = [],
    private readonly reviveHandle?: HandleReviver,
  ) {}

  /** True when every value has been read. */
  get done(): boolean {
    return this.position >= this.bytes.length;
  }

  /** Reads the next value. */
  read(): unknown {
    if (this.references.length) this.references = [];
    return this.readValue();
  }

  /** Reads `count` values into an array. */
  readMany(count: number): unknown[] {
    const values = new Array<unknown>(count);
    const bytes = this.bytes;
    for (let i = 0; i < count; i++) {
      // Int32 inline: the common item of large runs, without a call per value.
      const at = this.position;
      if (bytes[at] === Tag.Int32 && at + 5 <= bytes.length) {
        values[i] = bytes[at + 1]! | (bytes[at + 2]! << 8) | (bytes[at + 3]! << 16) | (bytes[at + 4]! << 24);
        this.position = at + 5;
      } else {
        values[i] = this.read();
      }
    }
    return values;
  }

  private fail(what: string): never {
    throw new ProtocolError(`Malformed encoded value at byte ${this.position}: ${what}.`);
  }

  private varuint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.position >= this.bytes.length) this.fail('truncated length');
      const byte = this.bytes[this.position++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return result;
      shift += 7;
      if (shift > 35) this.fail('length too long');
    }
  }

  /** Reads 8 little-endian bytes as a float64 (bounds already checked). */
  private float64(): number {
    const at = this.position;
    for (let i = 0; i < 8; i++) float64Bytes[i] = this.bytes[at + i]!;
    this.position = at + 8;
    return float64Scratch[0]!;
  }

  private text(): string {
    const length = this.varuint();
    const end = this.position + length;
    if (end > this.bytes.length) this.fail('truncated string');
    const bytes = this.bytes;
    if (length < 32) {
      let result = '';
      let i = this.position;
      for (; i < end; i++) {
        const code = bytes[i]!;
        if (code >= 0x80) break;
        result += String.fromCharCode(code);
      }
      if (i === end) {
        this.position = end;
        return result;
      }
    }
    const result = utf8Slice.call(bytes, this.position, end) as string;
    this.position = end;
    return result;
  }

  private rawBytes(): Uint8Array {
    const length = this.varuint();
    const end = this.position + length;
    if (end > this.bytes.length) this.fail('truncated bytes');
    // Uint8Array's slice (a copy) even when the input is a Buffer, whose slice is a view.
    const copy = uint8ArraySlice.call(this.bytes, this.position, end) as Uint8Array;
    this.position = end;
    return copy;
  }

  private readValue(): unknown {
    if (this.position >= this.bytes.length) this.fail('unexpected end');
    const tag = this.bytes[this.position++];
    switch (tag) {
      case Tag.Int32: {
        if (this.position + 4 > this.bytes.length) this.fail('truncated number');
        const bytes = this.bytes;
        const at = this.position;
        this.position = at + 4;
        return bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);
      }
      case Tag.Float64: {
        if (this.position + 8 > this.bytes.length) this.fail('truncated number');
        return this.float64();
      }
      case Tag.String:
        return this.text();
      case Tag.Undefined:
        return undefined;
      case Tag.Null:
        return null;
      case Tag.False:
        return false;
      case Tag.True:
        return true;
      case Tag.BigInt:
        return BigInt(this.text());
      case Tag.Array: {
        const length = this.varuint();
        if (length > this.bytes.length - this.position) this.fail('array longer than the message');
        const array = new Array<unknown>(length);
        this.references.push(array);
        for (let i = 0; i < length; i++) {
          if (this.bytes[this.position] === Tag.Hole) this.position++;
          else array[i] = this.readValue();
        }
        return array;
      }
      case Tag.Object: {
        const object: Record<string, unknown> = {};
        this.references.push(object);
        this.readProperties(object);
        return object;
      }
      case Tag.Map: {
        const map = new Map<unknown, unknown>();
        this.references.push(map);
        const size = this.varuint();
        for (let i = 0; i < size; i++) map.set(this.readValue(), this.readValue());
        return map;
      }
      case Tag.Set: {
        const set = new Set<unknown>();
        this.references.push(set);
        const size = this.varuint();
        for (let i = 0; i < size; i++) set.add(this.readValue());
        return set;
      }
      case Tag.Date: {
        if (this.position + 8 > this.bytes.length) this.fail('truncated date');
        const date = new Date(this.float64());
        this.references.push(date);
        return date;
      }
      case Tag.RegExp: {
        const slot = this.references.push(null) - 1;
        const regexp = new RegExp(this.text(), this.text());
        this.references[slot] = regexp;
        return regexp;
      }
      case Tag.Error:
        return this.readError();
      case Tag.ArrayBuffer: {
        const slot = this.references.push(null) - 1;
        const buffer = this.rawBytes().buffer;
        this.references[slot] = buffer;
        return buffer;
      }
      case Tag.TypedArray:
        return this.readView();
      case Tag.BackReference: {
        const index = this.varuint();
        if (index >= this.references.length) this.fail(`reference ${index} to an object not yet read`);
        return this.references[index];
      }
      case Tag.Handle:
        return this.readHandle();
      default:
        this.position--;
        return this.fail(`unknown tag ${String(tag)}`);
    }
  }

  private readProperties(object: Record<string, unknown>): void {
    const count = this.varuint();
    for (let i = 0; i < count; i++) {
      const key = this.text();
      const value = this.readValue();
      if (key === '__proto__')
        Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
      else object[key] = value;
    }
  }

  private readError(): Error {
    const slot = this.references.push(null) - 1;
    const name = this.text();
    const message = this.text();
    const ErrorClass = standardErrors[name] ?? Error;
    const error = new ErrorClass(message);
    this.references[slot] = error;
    if (!(name in standardErrors)) error.name = name;
    const stack = this.readValue();
    if (typeof stack === 'string') error.stack = stack;
    else delete (error as { stack?: string }).stack;
    const cause = this.readValue();
    if (cause !== undefined) Object.defineProperty(error, 'cause', { value: cause, writable: true, configurable: true });
    const extras: Record<string, unknown> = {};
    if (this.bytes[this.position++] !== Tag.Object) this.fail('error properties missing');
    this.readProperties(extras);
    Object.assign(error, extras);
    return error;
  }

  private readView(): ArrayBufferView {
    const slot = this.references.push(null) - 1;
    const kind = typedArrayKinds[this.bytes[this.position++]!];
    if (!kind) this.fail('unknown typed array kind');
    const bytes = this.rawBytes();
    let view: ArrayBufferView;
    if (kind === 'Buffer') view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    else if (kind === 'DataView') view = new DataView(bytes.buffer);
    else {
      const constructor = globalThis[kind] as unknown as {
        new (buffer: ArrayBuffer): ArrayBufferView;
        BYTES_PER_ELEMENT: number;
      };
      if (bytes.byteLength % constructor.BYTES_PER_ELEMENT !== 0) this.fail(`${kind} with a partial element`);
      view = new constructor(bytes.buffer as ArrayBuffer);
    }
    this.references[slot] = view;
    return view;
  }

  private readHandle(): unknown {
    const slot = this.references.push(null) - 1;
    const kind = this.text();
    const first = this.varuint();
    const count = this.varuint();
    const state = this.readValue();
    if (!this.reviveHandle) {
      throw new ProtocolError(`A '${kind}' handle arrived where no handles can be re-bound.`);
    }
    const value = this.reviveHandle(kind, state, this.attachments.slice(first, first + count));
    this.references[slot] = value;
    return value;
  }
}
