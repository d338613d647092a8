import { createCipheriv, createDecipheriv, createHmac, createSecretKey, randomBytes, type CipherGCMOptions, type KeyObject } from 'node:crypto';
import { fieldsUnreadable } from './metrics';

/**
 * Field encryption for personal data at rest: AES-256-GCM with a key id in every ciphertext, so keys
 * can be rotated (new writes use the first key, old values stay readable while their key is listed),
 * and with the place a value belongs to — service, table, column and row id — bound into it as GCM's
 * associated data, so a ciphertext copied to another row, column or table does not open.
 *
 * Format v2: `v2.<keyId>.<iv b64url, 12 bytes>.<tag b64url, 16 bytes>.<ciphertext b64url>`, the
 * associated data `v2.<keyId>\0<service>\0<table>\0<column>\0<row id>`.
 * Format v1 (before): the same layout without associated data. It opens only in a table whose
 * re-encryption to v2 has not completed yet (`field-encryption.ts`); nothing writes it any more.
 */

/** The columns of a row type that hold field ciphertext: by convention, those named `*_enc`. */
export type EncryptedColumn<Row> = Extract<keyof Row, `${string}_enc`> & string;

/** The tables of a database with at least one encrypted column. */
export type EncryptedTable<DB> = { [T in keyof DB & string]: [EncryptedColumn<DB[T]>] extends [never] ? never : T }[keyof DB & string];

/**
 * Where a ciphertext belongs: one of the database's encrypted columns, in one row. Every encryption
 * and decryption names it — a required argument, checked against the table's columns by the compiler.
 */
export type FieldAddress<DB> = {
  [T in EncryptedTable<DB>]: { readonly table: T; readonly column: EncryptedColumn<DB[T]>; readonly id: string };
}[EncryptedTable<DB>];

/**
 * Every encrypted column of a database, named once (the re-encryption job's worklist). The compiler
 * checks it is complete: a table or column named `*_enc` that is missing here does not compile.
 */
export type EncryptedColumns<DB> = { readonly [T in EncryptedTable<DB>]: { readonly [C in EncryptedColumn<DB[T]>]: true } };

/** Why a stored value did not open (a label of `pdp_field_unreadable_total`). */
export type UnreadableReason = 'FORMAT' | 'TAG_LENGTH' | 'UNKNOWN_KEY' | 'RETIRED_FORMAT' | 'AUTHENTICATION';

/**
 * A stored value that does not open where it is read: tampered, moved from another row, column or
 * table, under a key no longer listed, or a v1 value in a table already re-encrypted. Names the
 * place (no value): a server fault, never shown to a client.
 */
export class FieldUnreadableError extends Error {
  override readonly name = 'FieldUnreadableError';
  constructor(
    readonly reason: UnreadableReason,
    readonly table: string,
    readonly column: string,
    readonly rowId: string,
  ) {
    super(`${table}.${column} of row ${rowId} does not open (${reason})`);
  }
}

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Unpadded base64url lengths of the IV and the tag: anything else is refused before decoding. */
const IV_CHARS = 16;
const TAG_CHARS = 22;
const GCM: CipherGCMOptions = { authTagLength: TAG_BYTES };
const KEY_ID = /^[A-Za-z0-9_-]{1,40}$/;
const NAME = /^[a-z][a-z0-9_]{0,62}$/;

/** `keyId:base64(32 bytes)[,…]`, the first encrypting: every problem, or the keys in order. */
export function parseKeySpec(spec: string): { keys: Array<{ id: string; key: Buffer }>; problems: string[] } {
  const keys: Array<{ id: string; key: Buffer }> = [];
  const problems: string[] = [];
  for (const entry of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const at = entry.indexOf(':');
    const id = at < 0 ? entry : entry.slice(0, at);
    const key = Buffer.from(at < 0 ? '' : entry.slice(at + 1), 'base64');
    // The id is a field of the ciphertext (split on dots) and is bound into it: a fixed alphabet.
    if (!KEY_ID.test(id)) problems.push(`key id "${id.slice(0, 40)}" must be 1–40 letters, digits, "_" or "-"`);
    else if (key.length !== 32) problems.push(`key "${id}" must be 32 bytes, base64`);
    else if (keys.some((k) => k.id === id)) problems.push(`key id "${id}" is listed twice`);
    else keys.push({ id, key });
  }
  if (keys.length === 0 && problems.length === 0) problems.push('at least one key is required');
  return { keys, problems };
}

export interface FieldCipherOptions<DB> {
  /**
   * Tables whose v1 values (bound to nothing) still open: those whose re-encryption has not completed
   * (`field-encryption.ts`). By default none: a v1 value is refused everywhere.
   */
  legacyTables?: Iterable<EncryptedTable<DB>>;
}

/**
 * One service's field cipher. Keys are imported once, here; each call makes one GCM context and the
 * associated data, nothing else (it runs for every field of every read).
 */
export class FieldCipher<DB> {
  readonly activeKeyId: string;
  /** How every value written now begins; a stored value that does not is re-encrypted by the job. */
  readonly currentPrefix: string;
  private readonly keys = new Map<string, KeyObject>();
  private readonly activeKey: KeyObject;
  private readonly legacy: Set<string>;

  constructor(
    readonly service: string,
    spec: string,
    options: FieldCipherOptions<DB> = {},
  ) {
    if (!NAME.test(service)) throw new Error(`FieldCipher: bad service name "${service}"`);
    const { keys, problems } = parseKeySpec(spec);
    if (problems.length > 0) throw new Error(`PD_ENCRYPTION_KEYS: ${problems.join('; ')}`);
    for (const { id, key } of keys) this.keys.set(id, createSecretKey(key));
    this.activeKeyId = keys[0]!.id;
    this.activeKey = this.keys.get(this.activeKeyId)!;
    this.currentPrefix = `v2.${this.activeKeyId}.`;
    this.legacy = new Set(options.legacyTables ?? []);
  }

  encrypt(plain: string, at: FieldAddress<DB>): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.activeKey, iv, GCM);
    cipher.setAAD(this.associatedData(this.activeKeyId, at));
    const body = cipher.update(plain, 'utf8');
    cipher.final(); // GCM is a stream mode: nothing is left to flush
    return `${this.currentPrefix}${iv.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}.${body.toString('base64url')}`;
  }

  decrypt(sealed: string, at: FieldAddress<DB>): string {
    const parts = sealed.split('.');
    const [version, keyId, iv, tag, body] = parts;
    if (parts.length !== 5 || (version !== 'v2' && version !== 'v1') || iv?.length !== IV_CHARS || body === undefined) throw this.unreadable('FORMAT', at);
    // A shorter tag would be accepted by GCM (as few as 4 bytes) and is that much easier to forge.
    if (tag?.length !== TAG_CHARS) throw this.unreadable('TAG_LENGTH', at);
    if (version === 'v1' && !this.legacy.has(at.table)) throw this.unreadable('RETIRED_FORMAT', at);
    const key = this.keys.get(keyId!);
    if (!key) throw this.unreadable('UNKNOWN_KEY', at);
    const tagBytes = Buffer.from(tag, 'base64url');
    if (tagBytes.length !== TAG_BYTES) throw this.unreadable('TAG_LENGTH', at);
    try {
      const decipher = createDecipheriv(ALGORITHM, key, Buffer.from(iv, 'base64url'), GCM);
      decipher.setAuthTag(tagBytes);
      if (version === 'v2') decipher.setAAD(this.associatedData(keyId!, at));
      const plain = decipher.update(Buffer.from(body, 'base64url'));
      decipher.final();
      return plain.toString('utf8');
    } catch {
      throw this.unreadable('AUTHENTICATION', at);
    }
  }

  /** Whether a stored value is already what `encrypt` writes now: v2 under the active key. */
  isCurrent(sealed: string): boolean {
    return sealed.startsWith(this.currentPrefix);
  }

  /** Opens a value where it is and seals it again there, v2 under the active key. */
  reencrypt(sealed: string, at: FieldAddress<DB>): string {
    return this.encrypt(this.decrypt(sealed, at), at);
  }

  /** Whether v1 values still open in this table. */
  acceptsLegacy(table: EncryptedTable<DB>): boolean {
    return this.legacy.has(table);
  }

  /** The table's re-encryption has completed: from now on a v1 value there is refused. */
  retireLegacy(table: EncryptedTable<DB>): void {
    this.legacy.delete(table);
  }

  private associatedData(keyId: string, at: FieldAddress<DB>): Buffer {
    return Buffer.from(`v2.${keyId}\0${this.service}\0${at.table}\0${at.column}\0${at.id}`, 'utf8');
  }

  private unreadable(reason: UnreadableReason, at: FieldAddress<DB>): FieldUnreadableError {
    fieldsUnreadable.inc({ service: this.service, table: at.table, column: at.column, reason });
    return new FieldUnreadableError(reason, at.table, at.column, at.id);
  }
}

/** Keyed blind index: finds a row by IIN without storing the IIN or an unkeyed hash of it. */
export function blindIndex(key: string, purpose: string, value: string): string {
  return createHmac('sha256', key).update(`${purpose}:${value}`).digest('base64url');
}

export function randomKeySpec(keyId = 'k1'): string {
  return `${keyId}:${randomBytes(32).toString('base64')}`;
}
