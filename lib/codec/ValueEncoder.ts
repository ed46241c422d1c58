import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import { Stream } from 'node:stream';
import type { TransferListItem } from 'node:worker_threads';
import { SerializationError } from '../errors.js';
import { Tag, toHandle, typedArrayKinds, type TypedArrayKind } from './tags.js';

/**
 * What an object that crosses a boundary by reference (a Lock, a Queue, a shared Value...)
 * returns from its `[toHandle]()` method: a kind that the receiving side knows how to re-bind,
 * state that is encoded like any other value, and resources (a SharedArrayBuffer, a
 * MessagePort) that the local transport carries beside the bytes.
 */
export interface HandleDescriptor {
  kind: string;
  state: unknown;
  attachments?: unknown[];
  /** Attachments that must be transferred rather than cloned (MessagePorts). */
  transfer?: TransferListItem[];
}

/** An object that crosses boundaries as a handle. */
export interface Handle {
  [toHandle](): HandleDescriptor;
}

/** Raised inside the encoder and re-labelled with a path as it unwinds. */
class Unencodable extends Error {
  readonly segments: string[] = [];
  constructor(readonly reason: string) {
    super(reason);
  }
}

const textEncoder = new TextEncoder();
/** Little-endian float64 bytes through a scratch array (no DataView per buffer). */
const float64Scratch = new Float64Array(1);
const float64Bytes = new Uint8Array(float64Scratch.buffer);
/** Copies up to this size are done by hand: cheaper than a native call for a few bytes. */
const SMALL_COPY_BYTES = 64;
/** Buffer's native latin1 encoder, which works on any Uint8Array. */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(start: number, end: number): string }).latin1Slice;
/** Objects per value tracked by linear scan before switching to a Map. */
const LINEAR_REFERENCE_LIMIT = 16;
const noAttachments: { attachments: unknown[]; transfer: TransferListItem[] } = Object.freeze({
  attachments: Object.freeze([]) as unknown as unknown[],
  transfer: Object.freeze([]) as unknown as TransferListItem[],
});
const typedArrayKindIndex = new Map<string, number>(typedArrayKinds.map((name, index) => [name, index]));
const INITIAL_CAPACITY = 256;
/** A buffer grown past this is given back after `finish`, so one big message does not pin memory. */
const KEEP_CAPACITY = 1024 * 1024;

/**
 * Encodes values into fanout's binary format. One encoder is reused for many values: call
 * {@link write} for each value, then {@link finish} to take the bytes.
 *
 * Accepts what structured clone accepts (primitives, bigint, arrays, plain objects and class
 * instances as their own enumerable properties, Map, Set, Date, RegExp, Error, ArrayBuffer,
 * typed arrays, Buffer, cycles and shared references) plus handles, and refuses functions,
 * symbols, promises and weak collections with a {@link SerializationError} naming the path.
 *
 * @example
 * ```ts
 * const encoder = new ValueEncoder();
 * encoder.write([1, 'two', new Map([[3, 4]])], 'argument 0');
 * const bytes = encoder.finish();
 * ```
 */
export class ValueEncoder {
  /**
   * @param refuseHandles why shared objects may not be written by this encoder (a queue's items:
   *   Python shares a Queue or a Lock only through inheritance); unset writes them as handles.
   */
  constructor(private readonly refuseHandles?: string) {}

  private buffer = new Uint8Array(INITIAL_CAPACITY);
  private position = 0;
  /**
   * Objects written so far in the current value, for cycles and shared references. Most
   * values hold a few objects, where a linear scan beats a Map; past that a Map takes over.
   */
  private seenList: object[] = [];
  private seenMap: Map<object, number> | undefined;
  /** Resources collected from handles since the last {@link finish}. */
  attachments: unknown[] = [];
  transfer: TransferListItem[] = [];

  /** Number of bytes written since the last {@link finish}. */
  get length(): number {
    return this.position;
  }

  /**
   * Appends one value. `path` names it in errors (for example `argument 0`; a function is
   * called only on error). On error nothing of this value stays in the buffer.
   */
  write(value: unknown, path: string | (() => string)): void {
    const start = this.position;
    const attachmentCount = this.attachments.length;
    const transferCount = this.transfer.length;
    try {
      this.writeValue(value);
    } catch (error) {
      this.position = start;
      this.attachments.length = attachmentCount;
      this.transfer.length = transferCount;
      if (error instanceof Unencodable) {
        const name = typeof path === 'function' ? path() : path;
        throw new SerializationError(name + error.segments.reverse().join(''), error.reason);
      }
      throw error;
    } finally {
      if (this.seenList.length !== 0) {
        this.seenList.length = 0;
        this.seenMap = undefined;
      }
    }
  }

  /**
   * Appends one primitive (number, string, boolean, undefined, null): the fast path of large
   * runs of simple items. Returns false, writing nothing, for anything else (use {@link write}).
   */
  writePrimitive(value: unknown): boolean {
    switch (typeof value) {
      case 'number':
        this.number(value);
        return true;
      case 'string':
      case 'boolean':
      case 'undefined':
        this.writeValue(value);
        return true;
      case 'object':
        if (value !== null) return false;
        this.byte(Tag.Null);
        return true;
      default:
        return false;
    }
  }

  /** Takes the bytes written so far (a copy) and resets the encoder for reuse. */
  finish(): Uint8Array {
    const bytes = this.buffer.slice(0, this.position);
    this.position = 0;
    if (this.buffer.length > KEEP_CAPACITY) this.reallocate(INITIAL_CAPACITY);
    return bytes;
  }

  /** Appends bytes as they are, with no tag or length (for framing). */
  writeRaw(bytes: Uint8Array): void {
    const length = bytes.length;
    this.ensure(length);
    if (length > SMALL_COPY_BYTES) this.buffer.set(bytes, this.position);
    else for (let i = 0, at = this.position; i < length; i++) this.buffer[at + i] = bytes[i]!;
    this.position += length;
  }

  /**
   * Takes the bytes written so far as a latin1 string (one char per byte) and resets the
   * encoder: what small frames travel as between threads, without an intermediate copy.
   */
  finishAsLatin1(): string {
    const text = latin1Slice.call(this.buffer, 0, this.position) as string;
    this.position = 0;
    return text;
  }

  /** Overwrites one byte already written (for framing: a length known only afterwards). */
  setByte(at: number, value: number): void {
    if (at >= this.position) throw new RangeError(`setByte(${at}): only ${this.position} bytes are written`);
    this.buffer[at] = value;
  }

  /** Drops everything written since the last {@link finish}. */
  reset(): void {
    this.position = 0;
    this.attachments = [];
    this.transfer = [];
  }

  /** Takes the attachments collected so far and clears them. */
  takeAttachments(): { attachments: unknown[]; transfer: TransferListItem[] } {
    if (this.attachments.length === 0 && this.transfer.length === 0) return noAttachments;
    const taken = { attachments: this.attachments, transfer: this.transfer };
    this.attachments = [];
    this.transfer = [];
    return taken;
  }

  private reallocate(capacity: number): void {
    const next = new Uint8Array(capacity);
    next.set(this.buffer.subarray(0, Math.min(this.position, capacity)));
    this.buffer = next;
  }

  private ensure(bytes: number): void {
    const needed = this.position + bytes;
    if (needed > this.buffer.length) this.reallocate(Math.max(needed, this.buffer.length * 2));
  }

  private byte(value: number): void {
    if (this.position >= this.buffer.length) this.ensure(1);
    this.buffer[this.position++] = value;
  }

  private varuint(value: number): void {
    this.ensure(5);
    while (value >= 0x80) {
      this.buffer[this.position++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    this.buffer[this.position++] = value;
  }

  private float64(value: number): void {
    this.ensure(8);
    float64Scratch[0] = value;
    const buffer = this.buffer;
    const at = this.position;
    for (let i = 0; i < 8; i++) buffer[at + i] = float64Bytes[i]!;
    this.position = at + 8;
  }

  /** Writes a length-prefixed UTF-8 string (no tag). */
  private text(value: string): void {
    const length = value.length;
    if (length < 128) {
      // Short strings: try pure ASCII in one pass, the common case for keys and small values.
      this.ensure(length + 1);
      const lengthAt = this.position++;
      let position = this.position;
      const buffer = this.buffer;
      let i = 0;
      for (; i < length; i++) {
        const code = value.charCodeAt(i);
        if (code >= 0x80) break;
        buffer[position++] = code;
      }
      if (i === length) {
        buffer[lengthAt] = length;
        this.position = position;
        return;
      }
      this.position = lengthAt;
    }
    const maxBytes = length * 3;
    this.ensure(maxBytes + 5);
    // Reserve the varuint length for the worst case, then move the bytes if it was smaller.
    const lengthBytes = maxBytes < 0x80 ? 1 : maxBytes < 0x4000 ? 2 : maxBytes < 0x200000 ? 3 : 5;
    const start = this.position + lengthBytes;
    const { written } = textEncoder.encodeInto(value, this.buffer.subarray(start));
    const needed = written < 0x80 ? 1 : written < 0x4000 ? 2 : written < 0x200000 ? 3 : written < 0x10000000 ? 4 : 5;
    if (needed !== lengthBytes) this.buffer.copyWithin(this.position + needed, start, start + written);
    this.varuint(written);
    this.position += written;
  }

  /** Writes a number: int32 when it is one (and not -0), else float64. */
  private number(value: number): void {
    this.ensure(9);
    const buffer = this.buffer;
    let position = this.position;
    if ((value | 0) === value && (value !== 0 || 1 / value > 0)) {
      buffer[position++] = Tag.Int32;
      buffer[position++] = value & 0xff;
      buffer[position++] = (value >> 8) & 0xff;
      buffer[position++] = (value >> 16) & 0xff;
      buffer[position++] = (value >> 24) & 0xff;
    } else {
      buffer[position++] = Tag.Float64;
      float64Scratch[0] = value;
      for (let i = 0; i < 8; i++) buffer[position++] = float64Bytes[i]!;
    }
    this.position = position;
  }

  private writeValue(value: unknown): void {
    switch (typeof value) {
      case 'number':
        this.number(value);
        return;
      case 'string':
        this.byte(Tag.String);
        this.text(value);
        return;
      case 'boolean':
        this.byte(value ? Tag.True : Tag.False);
        return;
      case 'undefined':
        this.byte(Tag.Undefined);
        return;
      case 'bigint':
        this.byte(Tag.BigInt);
        this.text(value.toString());
        return;
      case 'object':
        if (value === null) this.byte(Tag.Null);
        else this.writeObject(value);
        return;
      case 'function':
        throw new Unencodable(
          `it is a function${value.name ? ` ('${value.name}')` : ''}; functions cannot cross to a worker. ` +
            'Pass data, or make the function a task with task(name, fn) and pass its result.',
        );
      case 'symbol':
        throw new Unencodable(`it is a symbol (${String(value)}); symbols cannot cross to a worker.`);
    }
  }

  private writeObject(value: object): void {
    const reference = this.findReference(value);
    if (reference !== -1) {
      this.byte(Tag.BackReference);
      this.varuint(reference);
      return;
    }
    if (value instanceof Number || value instanceof String || value instanceof Boolean) {
      this.writeValue(value.valueOf());
      return;
    }
    this.remember(value);
    if (Array.isArray(value)) return this.writeArray(value);
    if (typeof (value as Partial<Handle>)[toHandle] === 'function') return this.writeHandle(value as Handle);
    const prototype = Object.getPrototypeOf(value);
    if (prototype === Object.prototype || prototype === null) return this.writeProperties(value);
    if (value instanceof Map) return this.writeMap(value);
    if (value instanceof Set) return this.writeSet(value);
    if (value instanceof Date) {
      this.byte(Tag.Date);
      this.float64(value.getTime());
      return;
    }
    if (value instanceof RegExp) {
      this.byte(Tag.RegExp);
      this.text(value.source);
      this.text(value.flags);
      return;
    }
    if (value instanceof Error) return this.writeError(value);
    if (value instanceof ArrayBuffer) {
      this.byte(Tag.ArrayBuffer);
      this.bytes(new Uint8Array(value));
      return;
    }
    if (ArrayBuffer.isView(value)) return this.writeView(value);
    if (value instanceof SharedArrayBuffer) {
      throw new Unencodable('it is a SharedArrayBuffer; share memory with Value or Array (SharedArray) instead.');
    }
    if (value instanceof Promise) throw new Unencodable('it is a Promise; await it and pass the result.');
    if (value instanceof WeakMap || value instanceof WeakSet || value instanceof WeakRef) {
      throw new Unencodable(`it is a ${value.constructor.name}, which cannot be copied.`);
    }
    // Checked only here, for class instances: plain objects and arrays never pay for it.
    const live = describeLiveObject(value);
    if (live !== undefined) throw new Unencodable(live);
    // Class instances travel as their own enumerable properties, as structured clone does.
    this.writeProperties(value);
  }

  /** The reference number of an object already written in this value, or -1. */
  private findReference(value: object): number {
    if (this.seenMap) return this.seenMap.get(value) ?? -1;
    return this.seenList.indexOf(value);
  }

  private remember(value: object): void {
    const list = this.seenList;
    if (this.seenMap) this.seenMap.set(value, list.length);
    else if (list.length === LINEAR_REFERENCE_LIMIT) {
      this.seenMap = new Map(list.map((object, index) => [object, index]));
      this.seenMap.set(value, list.length);
    }
    list.push(value);
  }

  private writeArray(value: unknown[]): void {
    const length = value.length;
    this.byte(Tag.Array);
    this.varuint(length);
    let i = 0;
    try {
      for (; i < length; i++) {
        const item = value[i];
        if (item === undefined && !(i in value)) this.byte(Tag.Hole);
        else this.writeValue(item);
      }
    } catch (error) {
      if (error instanceof Unencodable) error.segments.push(`[${i}]`);
      throw error;
    }
  }

  private writeProperties(value: object): void {
    const keys = Object.keys(value);
    this.byte(Tag.Object);
    this.varuint(keys.length);
    let key = '';
    try {
      for (key of keys) {
        this.text(key);
        this.writeValue((value as Record<string, unknown>)[key]);
      }
    } catch (error) {
      if (error instanceof Unencodable)
        error.segments.push(/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`);
      throw error;
    }
  }

  private writeMap(value: Map<unknown, unknown>): void {
    this.byte(Tag.Map);
    this.varuint(value.size);
    let index = 0;
    try {
      for (const [key, item] of value) {
        this.writeValue(key);
        this.writeValue(item);
        index++;
      }
    } catch (error) {
      if (error instanceof Unencodable) error.segments.push(` → Map entry ${index}`);
      throw error;
    }
  }

  private writeSet(value: Set<unknown>): void {
    this.byte(Tag.Set);
    this.varuint(value.size);
    let index = 0;
    try {
      for (const item of value) {
        this.writeValue(item);
        index++;
      }
    } catch (error) {
      if (error instanceof Unencodable) error.segments.push(` → Set entry ${index}`);
      throw error;
    }
  }

  private writeError(value: Error): void {
    this.byte(Tag.Error);
    this.text(String(value.name));
    this.text(String(value.message));
    this.writeValue(typeof value.stack === 'string' ? value.stack : undefined);
    this.writeValue('cause' in value ? value.cause : undefined);
    // Own enumerable extras such as `code` travel too; unencodable ones are dropped, since an
    // error must always be reportable.
    const extras: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const extra = (value as unknown as Record<string, unknown>)[key];
      if (key !== 'cause' && typeof extra !== 'function' && typeof extra !== 'symbol') extras[key] = extra;
    }
    this.writeProperties(extras);
  }

  private writeView(value: ArrayBufferView): void {
    if (value.buffer instanceof SharedArrayBuffer) {
      throw new Unencodable('it is a view of a SharedArrayBuffer; share memory with Value or Array (SharedArray) instead.');
    }
    const kind = (Buffer.isBuffer(value) ? 'Buffer' : value.constructor.name) as TypedArrayKind;
    const index = typedArrayKindIndex.get(kind);
    if (index === undefined) throw new Unencodable(`it is a ${kind}, which fanout cannot encode.`);
    this.byte(Tag.TypedArray);
    this.byte(index);
    this.bytes(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
  }

  private bytes(value: Uint8Array): void {
    this.varuint(value.length);
    this.ensure(value.length);
    this.buffer.set(value, this.position);
    this.position += value.length;
  }

  private writeHandle(value: Handle): void {
    if (this.refuseHandles !== undefined) throw new Unencodable(this.refuseHandles);
    const descriptor = value[toHandle]();
    this.byte(Tag.Handle);
    this.text(descriptor.kind);
    const first = this.attachments.length;
    const attachments = descriptor.attachments ?? [];
    this.varuint(first);
    this.varuint(attachments.length);
    this.attachments.push(...attachments);
    if (descriptor.transfer) this.transfer.push(...descriptor.transfer);
    this.writeValue(descriptor.state);
  }
}

const STREAM_ADVICE = 'streams and sockets cannot cross to a worker. Pass the data, or a path or URL the worker can open.';
const LISTENERS_ADVICE = 'objects that hold listeners and live in this thread cannot cross to a worker. Pass the data it holds.';

/**
 * Why a class instance that lives in this thread (a stream, a socket, an emitter with listeners)
 * cannot cross, or undefined for one that can travel as its properties. Copying its properties
 * would fail deep inside (`_events.end is a function`) or send an empty husk.
 */
function describeLiveObject(value: object): string | undefined {
  if (value instanceof EventEmitter) {
    const type = value.constructor?.name || 'object';
    if (value instanceof Stream) {
      const stdio = standardStream(value);
      const what = stdio
        ? `process.${stdio}`
        : value instanceof Socket
          ? type === 'Socket'
            ? 'a net.Socket'
            : `${article(type)} (a net.Socket)`
          : article(type);
      return `it is ${what} (a stream); ${STREAM_ADVICE}`;
    }
    return `it is ${article(type)}${type === 'EventEmitter' ? '' : ' (an EventEmitter)'}; ${LISTENERS_ADVICE}`;
  }
  if (value instanceof ReadableStream || value instanceof WritableStream || value instanceof TransformStream) {
    return `it is ${article(value.constructor.name)} (a web stream); ${STREAM_ADVICE}`;
  }
  if (value instanceof AbortSignal) {
    return "it is an AbortSignal, which cannot cross to a worker. To cancel a call, pass it as the call's `signal` option.";
  }
  if (value instanceof EventTarget) {
    const type = value.constructor?.name || 'object';
    return `it is ${article(type)}${type === 'EventTarget' ? '' : ' (an EventTarget)'}; ${LISTENERS_ADVICE}`;
  }
  return undefined;
}

/**
 * Which of `process.stdin/stdout/stderr` a stream is, if any. Looked up by its `fd` first: the
 * `process.stdin` getter creates the stream, which must not happen as a side effect of an error.
 */
function standardStream(value: object): 'stdin' | 'stdout' | 'stderr' | undefined {
  const fd = (value as { fd?: unknown }).fd;
  const name = fd === 0 ? 'stdin' : fd === 1 ? 'stdout' : fd === 2 ? 'stderr' : undefined;
  return name !== undefined && process[name] === value ? name : undefined;
}

function article(type: string): string {
  return `${/^[AEIOU]/i.test(type) ? 'an' : 'a'} ${type}`;
}
