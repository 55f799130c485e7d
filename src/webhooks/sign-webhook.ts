import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures, in the scheme Stripe made familiar:
 * `X-Lectern-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.
 * The timestamp is signed with the body so a captured delivery cannot be replayed
 * later; each attempt is signed afresh.
 *
 * This file imports nothing from Lectern: a receiver written in TypeScript can copy it.
 */
export const SIGNATURE_HEADER = 'X-Lectern-Signature';

const hmac = (secret: string, timestamp: number, body: string | Uint8Array) =>
  createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();

/** The header value for `body` (the exact bytes sent) at `at`. */
export function signWebhook(secret: string, body: string | Uint8Array, at: Date = new Date()): string {
  const t = Math.floor(at.getTime() / 1000);
  return `t=${t},v1=${hmac(secret, t, body).toString('hex')}`;
}

/**
 * True when `header` carries a valid signature of `body` (the raw request body, before
 * any JSON parsing) made with `secret` no more than `toleranceSeconds` from `now`.
 * Several v1 entries are accepted (any one may match), so a sender can sign with an old
 * and a new secret while they are rotated.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | null | undefined,
  body: string | Uint8Array,
  toleranceSeconds = 300,
  now: Date = new Date(),
): boolean {
  if (!header) return false;
  let timestamp: number | null = null;
  const candidates: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/i.test(value)) candidates.push(Buffer.from(value, 'hex'));
  }
  if (timestamp === null || candidates.length === 0) return false;
  if (Math.abs(now.getTime() / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = hmac(secret, timestamp, body);
  // Constant-time comparison: a timing difference must not reveal how much of a guess was right.
  return candidates.some((c) => timingSafeEqual(c, expected));
}
