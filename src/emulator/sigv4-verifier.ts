import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { SHADOW_FAULTS, shadowFault } from '../shadow/shadow-faults.js';
import type { ShadowFault } from '../shadow/types.js';
import type { SigV4Credentials } from './emulator-options.js';

class Sha256 extends Hash {
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    super('sha256', secret);
  }
}

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;_.-]+),\s*Signature=([0-9a-f]{64})$/;
/** Both signing names reach the same API (the model says iotdata, the guide iotdevicegateway). */
const SERVICES: readonly string[] = ['iotdata', 'iotdevicegateway'];

function forbidden(message: string): ShadowFault {
  return shadowFault(403, 'ForbiddenException', message);
}

/**
 * Verifies SigV4 Authorization headers by recomputing the signature with
 * `@smithy/signature-v4` from the request as received (raw path, decoded query, the signed
 * headers, the body's SHA-256).
 */
export class SigV4Verifier {
  readonly #secrets = new Map<string, string>();
  readonly #signers = new Map<string, SignatureV4>();
  readonly #maxSkewMs: number;
  readonly #allowUnsignedPayload: boolean;
  readonly #services: ReadonlySet<string>;
  readonly #service: string;

  /** `services`: the signing names accepted, the first named in refusals (the control plane's is `iot`). */
  constructor(
    credentials: SigV4Credentials[],
    maxClockSkewMs: number,
    allowUnsignedPayload = false,
    services: readonly string[] = SERVICES,
  ) {
    this.#services = new Set(services);
    this.#service = services[0]!;
    for (const c of credentials) this.#secrets.set(c.accessKeyId, c.secretAccessKey);
    this.#maxSkewMs = maxClockSkewMs;
    this.#allowUnsignedPayload = allowUnsignedPayload;
  }

  async verify(
    method: string,
    rawPath: string,
    rawQuery: string,
    headers: IncomingHttpHeaders,
    body: Buffer | undefined,
  ): Promise<ShadowFault | undefined> {
    const auth = headers.authorization;
    if (auth === undefined) return forbidden('Missing Authentication Token');
    const m = AUTH.exec(auth);
    if (m === null) return forbidden('Authorization header is malformed');
    const [, keyId, shortDate, region, service, signedList, signature] = m as unknown as string[];
    const secret = this.#secrets.get(keyId!);
    if (secret === undefined) return forbidden('The security token included in the request is invalid');
    if (!this.#services.has(service!))
      return forbidden(`Credential should be scoped to correct service: '${this.#service}'`);
    const amzDate = headers['x-amz-date'];
    if (typeof amzDate !== 'string' || !/^\d{8}T\d{6}Z$/.test(amzDate) || amzDate.slice(0, 8) !== shortDate) {
      return forbidden('Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP');
    }
    const signingDate = new Date(
      `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
    );
    if (Math.abs(Date.now() - signingDate.getTime()) > this.#maxSkewMs) return forbidden('Signature expired');

    const signed: Record<string, string> = {};
    for (const name of signedList!.split(';')) {
      const v = headers[name];
      if (v === undefined)
        return forbidden(`The request signature we calculated does not match the signature you provided`);
      signed[name] = Array.isArray(v) ? v.join(',') : v;
    }
    const claimedHash = signed['x-amz-content-sha256'];
    if (claimedHash === 'UNSIGNED-PAYLOAD' && !this.#allowUnsignedPayload) {
      // UNCONFIRMED for iotdata (unsigned payloads are documented for S3 only): a body the
      // signature does not cover is refused unless allowUnsignedPayload is set.
      return forbidden(
        'The request signature we calculated does not match the signature you provided. UNSIGNED-PAYLOAD is not accepted here.',
      );
    }
    if (claimedHash !== undefined && claimedHash !== 'UNSIGNED-PAYLOAD') {
      const actual = createHash('sha256')
        .update(body ?? Buffer.alloc(0))
        .digest('hex');
      if (actual !== claimedHash)
        return forbidden('The provided x-amz-content-sha256 header does not match what was computed');
    }
    const query: Record<string, string | string[]> = {};
    if (rawQuery !== '') {
      for (const part of rawQuery.split('&')) {
        if (part === '') continue;
        const eq = part.indexOf('=');
        let k: string;
        let v: string;
        try {
          k = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
          v = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
        } catch {
          return forbidden('The request signature we calculated does not match the signature you provided');
        }
        const prev = query[k];
        query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
      }
    }
    const request = new HttpRequest({
      method,
      protocol: 'http:',
      hostname: String(headers.host ?? '').replace(/:\d+$/, ''),
      path: rawPath,
      query,
      headers: signed,
      body: claimedHash === undefined ? body : undefined,
    });
    const key = `${keyId}/${region}/${service}`;
    let signer = this.#signers.get(key);
    if (signer === undefined) {
      signer = new SignatureV4({
        credentials: { accessKeyId: keyId!, secretAccessKey: secret },
        region: region!,
        service: service!,
        sha256: Sha256,
        applyChecksum: false,
      });
      this.#signers.set(key, signer);
    }
    let expected: string;
    try {
      const out = await signer.sign(request, { signingDate, signingRegion: region!, signingService: service! });
      const a = String(out.headers.authorization ?? out.headers.Authorization ?? '');
      expected = a.slice(a.lastIndexOf('Signature=') + 10);
    } catch {
      return SHADOW_FAULTS.forbidden;
    }
    const ok = expected.length === signature!.length && timingSafeEqual(Buffer.from(expected), Buffer.from(signature!));
    return ok
      ? undefined
      : forbidden(
          'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
        );
  }
}
