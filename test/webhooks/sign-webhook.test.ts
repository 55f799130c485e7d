import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhookSignature } from '../../src/webhooks/sign-webhook.js';

describe('webhook signatures', () => {
  const secret = 'c2VjcmV0LXNlY3JldC1zZWNyZXQ';
  const body = '{"id":"e1","type":"page.published","actor":"김편집"}';
  const at = new Date('2026-11-30T12:00:00Z');
  const t = at.getTime() / 1000;

  it('signs "<t>.<raw body>" with HMAC-SHA256 and says when', () => {
    const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
    expect(signWebhook(secret, body, at)).toBe(`t=${t},v1=${expected}`);
    expect(signWebhook(secret, Buffer.from(body), at)).toBe(`t=${t},v1=${expected}`);
  });

  it('accepts its own signature within the tolerance, from a string or the raw bytes', () => {
    const header = signWebhook(secret, body, at);
    expect(verifyWebhookSignature(secret, header, body, 300, new Date(at.getTime() + 299_000))).toBe(true);
    expect(verifyWebhookSignature(secret, header, Buffer.from(body), 300, new Date(at.getTime() - 299_000))).toBe(true);
  });

  it('refuses another body, another secret, a moved timestamp and an old signature', () => {
    const header = signWebhook(secret, body, at);
    expect(verifyWebhookSignature(secret, header, body.replace('published', 'deleted'), 300, at)).toBe(false);
    expect(verifyWebhookSignature(`${secret}x`, header, body, 300, at)).toBe(false);
    expect(verifyWebhookSignature(secret, header.replace(`t=${t}`, `t=${t + 1}`), body, 300, at)).toBe(false);
    expect(verifyWebhookSignature(secret, header, body, 300, new Date(at.getTime() + 301_000))).toBe(false);
  });

  it('refuses malformed headers and accepts any one of several v1 signatures', () => {
    const v1 = signWebhook(secret, body, at).split(',')[1]!;
    for (const bad of [undefined, null, '', 'garbage', `t=${t}`, v1, `t=abc,${v1}`, `t=${t},v1=zz`, `t=${t},v0=${v1.slice(3)}`]) {
      expect(verifyWebhookSignature(secret, bad, body, 300, at), String(bad)).toBe(false);
    }
    const old = signWebhook('old-secret', body, at).split(',')[1]!;
    expect(verifyWebhookSignature(secret, `t=${t},${old},${v1}`, body, 300, at)).toBe(true);
  });
});
