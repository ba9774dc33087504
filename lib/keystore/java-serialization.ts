// Java Object Serialization (the Stream Protocol, "AC ED 00 05"), as far as JCEKS secret-key
// entries need it: the two fixed shapes keytool writes, and a small bounded reader for what a
// keystore may hold. The shapes, byte for byte, are documented at the top of jceks.ts.
import { inputError } from '../errors.js';
import { decodeModifiedUtf8 as decode, JavaReader, JavaWriter } from './java-io.js';

// ---- Stream Protocol constants ----------------------------------------------------------------
const STREAM_MAGIC = 0xaced;
const STREAM_VERSION = 5;
const TC_NULL = 0x70;
const TC_REFERENCE = 0x71;
const TC_CLASSDESC = 0x72;
const TC_OBJECT = 0x73;
const TC_STRING = 0x74;
const TC_ARRAY = 0x75;
const TC_CLASS = 0x76;
const TC_BLOCKDATA = 0x77;
const TC_ENDBLOCKDATA = 0x78;
const TC_LONGSTRING = 0x7c;
const TC_PROXYCLASSDESC = 0x7d;
const TC_ENUM = 0x7e;
const TC_BLOCKDATALONG = 0x7a;
const BASE_HANDLE = 0x7e0000;
/** How deep objects may nest in a sealed key (keytool's are 3 levels deep). */
const MAX_SERIAL_DEPTH = 64;
const SC_WRITE_METHOD = 0x01;
const SC_SERIALIZABLE = 0x02;
const SC_EXTERNALIZABLE = 0x04;

const SVUID_SEALED_FOR_KEY_PROTECTOR = Buffer.from('cd57ca59e730bb53', 'hex'); // -3650226485480866989L
const SVUID_SEALED_OBJECT = Buffer.from('3e363da6c3b75470', 'hex'); // 4482838265551344752L
const SVUID_BYTE_ARRAY = Buffer.from('acf317f8060854e0', 'hex'); // byte[]
const SVUID_SECRET_KEY_SPEC = Buffer.from('5b470b66e230614d', 'hex'); // 6577238317307289933L

// ---- writing the two fixed shapes -------------------------------------------------------------

/** A serialization stream under construction: TC_* markers beside DataOutputStream fields. */
class StreamWriter extends JavaWriter {
  constructor() {
    super();
    this.u16(STREAM_MAGIC).u16(STREAM_VERSION);
  }

  /** TC_STRING with its modified-UTF-8 body (strings in these streams are short). */
  string(s: string): this {
    return this.u8(TC_STRING).utf(s);
  }

  /** TC_REFERENCE to the n-th handle. */
  ref(handle: number): this {
    return this.u8(TC_REFERENCE).u32(BASE_HANDLE + handle);
  }

  /** A field descriptor: type code, name, and (for objects and arrays) the class name or a reference to it. */
  field(type: 'L' | '[', name: string, className: string | number): this {
    this.u8(type.charCodeAt(0)).utf(name);
    return typeof className === 'number' ? this.ref(className) : this.string(className);
  }

  /** TC_CLASSDESC "[B" (byte[]): no fields, no annotations, no superclass. */
  byteArrayClass(): this {
    return this.u8(TC_CLASSDESC)
      .utf('[B')
      .bytes(SVUID_BYTE_ARRAY)
      .u8(SC_SERIALIZABLE)
      .u16(0)
      .u8(TC_ENDBLOCKDATA)
      .u8(TC_NULL);
  }

  /** TC_ARRAY of bytes, its class given in full (the first time) or as a reference. */
  byteArray(b: Buffer, classRef?: number): this {
    this.u8(TC_ARRAY);
    if (classRef === undefined) this.byteArrayClass();
    else this.ref(classRef);
    return this.block(b);
  }
}

/** new ObjectOutputStream(…).writeObject(new SecretKeySpec(key, algorithm)). */
export function serializeSecretKeySpec(algorithm: string, key: Buffer): Buffer {
  // handles: 0 class SecretKeySpec, 1 "Ljava/lang/String;", 2 "[B", 3 the object, 4 algorithm, 5 [B class, 6 the array
  return new StreamWriter()
    .u8(TC_OBJECT)
    .u8(TC_CLASSDESC)
    .utf('javax.crypto.spec.SecretKeySpec')
    .bytes(SVUID_SECRET_KEY_SPEC)
    .u8(SC_SERIALIZABLE)
    .u16(2)
    .field('L', 'algorithm', 'Ljava/lang/String;')
    .field('[', 'key', '[B')
    .u8(TC_ENDBLOCKDATA)
    .u8(TC_NULL)
    .string(algorithm)
    .byteArray(key)
    .toBuffer();
}

/**
 * new ObjectOutputStream(…).writeObject(sealedObjectForKeyProtector), as KeyProtector.seal makes
 * it; `algorithm` is both paramsAlg and sealAlg.
 */
export function serializeSealedObject(encodedParams: Buffer, encryptedContent: Buffer, algorithm: string): Buffer {
  // handles: 0 class SealedObjectForKeyProtector, 1 class SealedObject, 2 "[B", 3 "Ljava/lang/String;",
  // 4 the object, 5 [B class, 6 encodedParams, 7 encryptedContent, 8 and 9 the two algorithm strings
  return new StreamWriter()
    .u8(TC_OBJECT)
    .u8(TC_CLASSDESC)
    .utf('com.sun.crypto.provider.SealedObjectForKeyProtector')
    .bytes(SVUID_SEALED_FOR_KEY_PROTECTOR)
    .u8(SC_SERIALIZABLE)
    .u16(0)
    .u8(TC_ENDBLOCKDATA)
    .u8(TC_CLASSDESC)
    .utf('javax.crypto.SealedObject')
    .bytes(SVUID_SEALED_OBJECT)
    .u8(SC_SERIALIZABLE)
    .u16(4)
    .field('[', 'encodedParams', '[B')
    .field('[', 'encryptedContent', 2)
    .field('L', 'paramsAlg', 'Ljava/lang/String;')
    .field('L', 'sealAlg', 3)
    .u8(TC_ENDBLOCKDATA)
    .u8(TC_NULL)
    .byteArray(encodedParams)
    .byteArray(encryptedContent, 5)
    .string(algorithm)
    .string(algorithm)
    .toBuffer();
}

// ---- reading ----------------------------------------------------------------------------------

export interface JClassDesc {
  name: string;
  flags: number;
  fields: { type: string; name: string }[];
  superDesc: JClassDesc | null;
}

export interface JObject {
  className: string;
  /** Field values of the class and its superclasses, by field name. */
  fields: Map<string, JValue>;
}

export type JValue = null | string | number | bigint | boolean | Buffer | JValue[] | JObject | JClassDesc;

const PRIMITIVE_SIZES: Record<string, number> = { B: 1, C: 2, D: 8, F: 4, I: 4, J: 8, S: 2, Z: 1 };

export function isJObject(v: JValue | undefined): v is JObject {
  return !!v && typeof v === 'object' && 'className' in v;
}

/**
 * Reads one object from a Java serialization stream: enough of the protocol for what keystores
 * hold (objects, class descriptors, strings, arrays, enums, back-references, annotations).
 * Errors are input errors with code `jceks-serialization`, naming `what`.
 */
export class JavaDeserializer {
  private readonly r: JavaReader;
  private handles: JValue[] = [];
  /** Nesting of content(): what keystores hold is a few levels deep; a hostile file must not exhaust the stack. */
  private depth = 0;

  constructor(
    buf: Buffer,
    start: number,
    private readonly what: string,
  ) {
    this.r = new JavaReader(buf, what, {
      offset: start,
      truncated: () => inputError('jceks-serialization', `${what}: the serialized key is truncated`),
    });
  }

  /** Where the stream read so far ends. */
  get offset(): number {
    return this.r.offset;
  }

  private fail(msg: string): never {
    throw inputError('jceks-serialization', `${this.what}: ${msg}`);
  }

  readStream(): JValue {
    if (this.r.u16() !== STREAM_MAGIC || this.r.u16() !== STREAM_VERSION)
      this.fail('the secret key entry is not a Java serialization stream');
    return this.content();
  }

  private assign(v: JValue): number {
    this.handles.push(v);
    return this.handles.length - 1;
  }

  private content(): JValue {
    if (++this.depth > MAX_SERIAL_DEPTH) this.fail(`the serialized key nests deeper than ${MAX_SERIAL_DEPTH} levels`);
    try {
      return this.element();
    } finally {
      this.depth--;
    }
  }

  private element(): JValue {
    const tc = this.r.u8();
    switch (tc) {
      case TC_NULL:
        return null;
      case TC_REFERENCE: {
        const h = this.r.u32() - BASE_HANDLE;
        if (h < 0 || h >= this.handles.length) this.fail('a serialization back-reference points nowhere');
        return this.handles[h]!;
      }
      case TC_STRING:
      case TC_LONGSTRING: {
        const s = tc === TC_STRING ? this.r.utf() : this.longString();
        this.assign(s);
        return s;
      }
      case TC_CLASSDESC:
        return this.classDescBody();
      case TC_OBJECT:
        return this.object();
      case TC_ARRAY:
        return this.array();
      case TC_ENUM: {
        const desc = this.classDesc();
        const h = this.assign(null);
        const name = this.content();
        const v: JObject = { className: desc?.name ?? '?', fields: new Map([['name', name]]) };
        this.handles[h] = v;
        return v;
      }
      case TC_CLASS: {
        const desc = this.classDesc();
        this.assign(desc);
        return desc;
      }
      default:
        return this.fail(`unsupported serialization element 0x${tc.toString(16)}`);
    }
  }

  /** TC_LONGSTRING's body: a u64 length (bounded by the bytes that remain), modified UTF-8. */
  private longString(): string {
    const len = this.r.bytes(8).readBigUInt64BE();
    if (len > BigInt(this.r.buf.length)) this.fail('the serialized key is truncated');
    return decode(this.r.bytes(Number(len)));
  }

  private classDesc(): JClassDesc | null {
    const tc = this.r.u8();
    if (tc === TC_NULL) return null;
    if (tc === TC_CLASSDESC) return this.classDescBody();
    if (tc === TC_REFERENCE) {
      this.r.offset -= 1;
      const v = this.content();
      if (v && typeof v === 'object' && 'superDesc' in v) return v;
      return this.fail('a serialization reference is not a class descriptor');
    }
    if (tc === TC_PROXYCLASSDESC) this.fail('proxy classes are not expected in a keystore');
    return this.fail(`unexpected element 0x${tc.toString(16)} where a class descriptor belongs`);
  }

  private classDescBody(): JClassDesc {
    const name = this.r.utf();
    this.r.bytes(8); // serialVersionUID
    const desc: JClassDesc = { name, flags: 0, fields: [], superDesc: null };
    this.assign(desc);
    desc.flags = this.r.u8();
    const n = this.r.u16();
    for (let i = 0; i < n; i++) {
      const type = String.fromCharCode(this.r.u8());
      const fname = this.r.utf();
      if (type === 'L' || type === '[') {
        const cls = this.content();
        if (typeof cls !== 'string') this.fail('a field descriptor has no class name');
      } else if (!(type in PRIMITIVE_SIZES)) {
        this.fail(`unknown field type ${type}`);
      }
      desc.fields.push({ type, name: fname });
    }
    this.annotations();
    desc.superDesc = this.classDesc();
    return desc;
  }

  /** Class annotations and writeObject extras: block data and objects up to TC_ENDBLOCKDATA. */
  private annotations(): void {
    for (;;) {
      const tc = this.r.peek();
      if (tc === TC_ENDBLOCKDATA) {
        this.r.offset += 1;
        return;
      }
      if (tc === TC_BLOCKDATA) {
        this.r.offset += 1;
        this.r.bytes(this.r.u8());
      } else if (tc === TC_BLOCKDATALONG) {
        this.r.offset += 1;
        this.r.bytes(this.r.u32());
      } else {
        this.content();
      }
    }
  }

  private primitive(type: string): number | bigint | boolean {
    const b = this.r.bytes(PRIMITIVE_SIZES[type]!);
    switch (type) {
      case 'B':
        return b.readInt8();
      case 'C':
        return b.readUInt16BE();
      case 'S':
        return b.readInt16BE();
      case 'I':
        return b.readInt32BE();
      case 'F':
        return b.readFloatBE();
      case 'D':
        return b.readDoubleBE();
      case 'J':
        return b.readBigInt64BE();
      default:
        return b[0] !== 0;
    }
  }

  private object(): JObject {
    const desc = this.classDesc();
    if (!desc) return this.fail('an object without a class');
    if (desc.flags & SC_EXTERNALIZABLE) this.fail(`${desc.name} is externalizable, which a keystore never holds`);
    const obj: JObject = { className: desc.name, fields: new Map() };
    this.assign(obj);
    const chain: JClassDesc[] = [];
    for (let d: JClassDesc | null = desc; d; d = d.superDesc) chain.unshift(d);
    for (const d of chain) {
      for (const f of d.fields)
        obj.fields.set(f.name, f.type === 'L' || f.type === '[' ? this.content() : this.primitive(f.type));
      if (d.flags & SC_WRITE_METHOD) this.annotations();
    }
    return obj;
  }

  private array(): JValue {
    const desc = this.classDesc();
    if (!desc || !desc.name.startsWith('[')) return this.fail('an array without an array class');
    const h = this.assign(null);
    const n = this.r.u32();
    const component = desc.name[1]!;
    let v: JValue;
    if (component === 'B') {
      v = Buffer.from(this.r.bytes(n));
    } else if (component in PRIMITIVE_SIZES) {
      // Each element takes at least a byte: a count beyond what remains is a lie, refused before allocating.
      if (n > this.r.buf.length - this.r.offset) this.fail('the serialized key is truncated');
      v = Array.from({ length: n }, () => this.primitive(component));
    } else {
      if (n > this.r.buf.length - this.r.offset) this.fail('the serialized key is truncated');
      v = Array.from({ length: n }, () => this.content());
    }
    this.handles[h] = v;
    return v;
  }
}
