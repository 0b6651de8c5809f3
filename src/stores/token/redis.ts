/**
 * One upstream token for the fleet, in Redis (README "Running several replicas").
 *
 * At rest the token is encrypted with AES-256-GCM under a key derived (HKDF-SHA256) from the client secret, a fresh
 * IV per write, the key name and expiry as associated data: a Redis dump (or anyone who can read Redis without the
 * secret) holds no usable token, and a record cannot be moved to another key or given a longer life. Discarding after
 * a 401 compares an HMAC fingerprint (another HKDF key), never the token.
 *
 * Keys (one account = one upstream URL + client id, hashed): `token:<account>` = `<fp>.<validUntil>.<iv>.<tag>.<ct>`
 * with a real-time TTL of validUntil − now (the gateway clock's delta), `token:<account>:refresh` = the claim holder's
 * random id, SET NX PX lease. A record that fails to decrypt (secret rotated) counts as no token.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { RedisConnections } from '../../platform/redis.ts';
import type { SharedToken, TokenOwner, TokenStore } from './types.ts';

/** Deletes KEYS[1] only when its value starts with ARGV[1] followed by '.' (the record's fingerprint) → 1, else 0. */
export const DISCARD_SCRIPT = `
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, #ARGV[1] + 1) == ARGV[1] .. '.' then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** Deletes KEYS[1] only when it holds ARGV[1] (this replica's claim, not a later holder's) → 1, else 0. */
export const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

type TokenCommands = {
  tokenDiscard(key: string, fingerprint: string): Promise<number>;
  tokenRelease(key: string, holder: string): Promise<number>;
};

const b64 = (buffer: Buffer) => buffer.toString('base64url');
const unb64 = (text: string) => Buffer.from(text, 'base64url');

export function tokenKeys(owner: Pick<TokenOwner, 'url' | 'clientId'>): { token: string; claim: string } {
  const account = createHash('sha256').update(`${owner.url}\n${owner.clientId}`).digest('hex').slice(0, 24);
  return { token: `token:${account}`, claim: `token:${account}:refresh` };
}

export class RedisTokenStore implements TokenStore {
  private readonly keys: { token: string; claim: string };
  private readonly encryptionKey: Buffer;
  private readonly fingerprintKey: Buffer;
  private readonly holder = randomBytes(12).toString('base64url');
  private readonly commands: TokenCommands;

  constructor(
    private readonly redis: RedisConnections,
    owner: TokenOwner,
  ) {
    this.keys = tokenKeys(owner);
    const derive = (info: string) =>
      Buffer.from(hkdfSync('sha256', owner.clientSecret, owner.clientId, `esim-gateway ${info} v1`, 32));
    this.encryptionKey = derive('token-at-rest');
    this.fingerprintKey = derive('token-fingerprint');
    const command = redis.command as unknown as Partial<TokenCommands> & typeof redis.command;
    if (typeof command.tokenDiscard !== 'function') {
      command.defineCommand('tokenDiscard', { numberOfKeys: 1, lua: DISCARD_SCRIPT });
      command.defineCommand('tokenRelease', { numberOfKeys: 1, lua: RELEASE_SCRIPT });
    }
    this.commands = command as unknown as TokenCommands;
  }

  async read(now: number): Promise<SharedToken | undefined> {
    const record = await this.redis.command.get(this.keys.token);
    if (!record) return undefined;
    const shared = this.decrypt(record);
    return shared && now < shared.validUntil ? shared : undefined;
  }

  async claim(leaseMs: number): Promise<boolean> {
    return (await this.redis.command.set(this.keys.claim, this.holder, 'PX', Math.max(1, leaseMs), 'NX')) === 'OK';
  }

  async claimed(): Promise<boolean> {
    return (await this.redis.command.exists(this.keys.claim)) === 1;
  }

  async write(token: SharedToken, now: number): Promise<void> {
    const ttlMs = Math.ceil(token.validUntil - now);
    if (ttlMs > 0) await this.redis.command.set(this.keys.token, this.encrypt(token), 'PX', ttlMs);
    await this.release();
  }

  async release(): Promise<void> {
    await this.commands.tokenRelease(this.keys.claim, this.holder);
  }

  async discard(token: string): Promise<void> {
    await this.commands.tokenDiscard(this.keys.token, this.fingerprint(token));
  }

  private fingerprint(token: string): string {
    return b64(createHmac('sha256', this.fingerprintKey).update(token).digest().subarray(0, 16));
  }

  private aad(validUntil: number): Buffer {
    return Buffer.from(`${this.keys.token}\n${validUntil}`);
  }

  private encrypt(token: SharedToken): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.encryptionKey, iv);
    cipher.setAAD(this.aad(token.validUntil));
    const ciphertext = Buffer.concat([cipher.update(token.token, 'utf8'), cipher.final()]);
    return [
      this.fingerprint(token.token),
      String(token.validUntil),
      b64(iv),
      b64(cipher.getAuthTag()),
      b64(ciphertext),
    ].join('.');
  }

  private decrypt(record: string): SharedToken | undefined {
    const [, validUntilText, iv, tag, ciphertext] = record.split('.');
    const validUntil = Number(validUntilText);
    if (!Number.isFinite(validUntil) || !iv || !tag || ciphertext === undefined) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.encryptionKey, unb64(iv));
      decipher.setAAD(this.aad(validUntil));
      decipher.setAuthTag(unb64(tag));
      const token = Buffer.concat([decipher.update(unb64(ciphertext)), decipher.final()]).toString('utf8');
      return { token, validUntil };
    } catch {
      return undefined; // another secret, or tampered with
    }
  }
}
