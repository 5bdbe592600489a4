/**
 * Who may score the models: `Authorization: Bearer <credential>` on every route but the health
 * probes, the metrics scrape and the static pages (see {@link isOpenRoute}).
 *
 * - `key`: the credential is one of the stack's two keys (primary, secondary), read from files
 *   in AUTH_KEYS_DIR (a Kubernetes Secret volume) and re-read every AUTH_RELOAD_MS, so a rotated
 *   key takes effect without a restart. Compared in constant time against both keys.
 * - `entra`: the credential is a Microsoft Entra ID access token (a JWT): its signature against the
 *   issuer's published JWKS (cached by jose), its issuer, audience, expiry, and an app role.
 * - `none`: no check (a `local` stack that says so explicitly).
 *
 * HTTP and gRPC share this module: one answer, two transports.
 */
import { timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import {
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JWTVerifyGetKey,
  type JWTPayload,
} from "jose";

export const AUTH_MODES = ["key", "entra", "none"] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/** The names of the two key files (and of the keys): clients move between them on rotation. */
export const KEY_NAMES = ["primary", "secondary"] as const;
export type KeyName = (typeof KEY_NAMES)[number];

/** Shortest key the service accepts from a key file (the program generates 43 characters). */
export const MIN_KEY_LENGTH = 32;

export interface AuthSettings {
  readonly mode: AuthMode;
  /** `key`: the directory holding the files `primary` and `secondary`. */
  readonly keysDir?: string;
  /** `key`: how often the key files are re-read, in milliseconds. */
  readonly reloadMs: number;
  /** `entra`: where the issuer publishes its signing keys. */
  readonly jwksUrl?: string;
  /** `entra`: the `iss` a token must carry. */
  readonly issuer?: string;
  /** `entra`: the `aud` a token must carry (the app ID URI). */
  readonly audience?: string;
  /** `entra`: the app role (`roles` claim) a token must hold. */
  readonly role: string;
}

/** What a request gets: in, or a status with the OIP error text and, for 401, the challenge. */
export type AuthResult =
  | { readonly ok: true; readonly principal: string }
  | {
      readonly ok: false;
      readonly status: 401 | 403 | 503;
      readonly error: string;
      /** The WWW-Authenticate header of a 401. */
      readonly challenge?: string;
    };

const BEARER = /^Bearer[ ]+([!-~]+)[ ]*$/i;

/** The credential of an `Authorization` header, or undefined when there is none or it is not
 * a Bearer credential. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  return BEARER.exec(value)?.[1];
}

function challenge(realm: string, error?: string, description?: string): string {
  let value = `Bearer realm="${realm}"`;
  if (error !== undefined) value += `, error="${error}"`;
  if (description !== undefined) value += `, error_description="${description}"`;
  return value;
}

const REALM = "mlops-inference";

function unauthorized(message: string, error = "invalid_token"): AuthResult {
  return { ok: false, status: 401, error: message, challenge: challenge(REALM, error, message) };
}

const MISSING: AuthResult = {
  ok: false,
  status: 401,
  error: "authentication required: send Authorization: Bearer <key or token>",
  challenge: challenge(REALM),
};

/** The stack's keys, as files in a directory (a Kubernetes Secret volume), re-read on a timer. */
export class KeyRing {
  private keys: Buffer[] = [];
  private names: KeyName[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** One line per problem with a key file, for the log (never the key itself). */
  problems: string[] = [];

  constructor(private readonly dir: string) {
    this.reload();
  }

  /** Re-reads the key files; a missing file is no key (the Secret may not exist yet). */
  reload(): void {
    const keys: Buffer[] = [];
    const names: KeyName[] = [];
    const problems: string[] = [];
    for (const name of KEY_NAMES) {
      let text: string;
      try {
        text = readFileSync(path.join(this.dir, name), "utf8").trim();
      } catch {
        continue;
      }
      if (text.length < MIN_KEY_LENGTH || !/^[!-~]+$/.test(text)) {
        problems.push(
          `key file ${name} holds no usable key (at least ${MIN_KEY_LENGTH} printable characters, no spaces): ignored`,
        );
        continue;
      }
      keys.push(Buffer.from(text));
      names.push(name);
    }
    this.keys = keys;
    this.names = names;
    this.problems = problems;
  }

  /** Re-read every `ms` milliseconds (the timer does not keep the process alive). */
  watch(ms: number, onProblem: (line: string) => void): void {
    this.stop();
    this.timer = setInterval(() => {
      const before = this.loaded().join(",");
      this.reload();
      for (const p of this.problems) onProblem(p);
      if (this.loaded().join(",") !== before) onProblem(`keys loaded: ${this.describe()}`);
    }, ms);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The names of the keys that are loaded. */
  loaded(): readonly KeyName[] {
    return this.names;
  }

  describe(): string {
    return this.names.length > 0 ? this.names.join(", ") : "none";
  }

  /** The name of the key `token` is, compared in constant time (`timingSafeEqual`) with every
   * loaded key of its length: the time tells at most a key's length, which is public (43). */
  match(token: string): KeyName | undefined {
    const presented = Buffer.from(token);
    let found: KeyName | undefined;
    for (let i = 0; i < this.keys.length; i++) {
      // Every key is compared, whichever matches: the time does not tell which one did.
      const key = this.keys[i];
      if (
        presented.length === key.length &&
        timingSafeEqual(presented, key) &&
        found === undefined
      ) {
        found = this.names[i];
      }
    }
    return found;
  }
}

/** The checks of one mode behind one method. */
export interface Authenticator {
  readonly mode: AuthMode;
  /** Checks an `Authorization` header value. Synchronous for keys, a promise for tokens. */
  check(header: string | string[] | undefined): AuthResult | Promise<AuthResult>;
  /** Stops background work (the key reload timer). */
  close(): void;
}

const OPEN: AuthResult = { ok: true, principal: "anonymous" };

class NoAuth implements Authenticator {
  readonly mode = "none" as const;
  check(): AuthResult {
    return OPEN;
  }
  close(): void {}
}

class KeyAuth implements Authenticator {
  readonly mode = "key" as const;
  constructor(readonly ring: KeyRing) {}

  check(header: string | string[] | undefined): AuthResult {
    const token = bearerToken(header);
    if (token === undefined) return MISSING;
    if (this.ring.loaded().length === 0) {
      return {
        ok: false,
        status: 503,
        error: "no inference key is loaded yet (the key Secret has not reached this pod); retry",
      };
    }
    const name = this.ring.match(token);
    return name === undefined
      ? unauthorized("the key is not valid for this endpoint")
      : { ok: true, principal: `key:${name}` };
  }

  close(): void {
    this.ring.stop();
  }
}

/** What a valid token's payload must also hold: the role, in the `roles` claim. */
export function roleProblem(payload: JWTPayload, role: string): string | undefined {
  const roles = payload.roles;
  if (Array.isArray(roles) && roles.includes(role)) return undefined;
  return `the token does not hold the app role "${role}" (roles claim: ${
    Array.isArray(roles) ? JSON.stringify(roles) : "none"
  })`;
}

class EntraAuth implements Authenticator {
  readonly mode = "entra" as const;
  private readonly jwks: JWTVerifyGetKey;

  constructor(
    private readonly settings: Required<Pick<AuthSettings, "issuer" | "audience" | "role">>,
    jwksUrl: string,
  ) {
    // jose caches the key set (10 min) and refetches it at most every 30 s for an unknown kid.
    this.jwks = createRemoteJWKSet(new URL(jwksUrl), { timeoutDuration: 5000 });
  }

  async check(header: string | string[] | undefined): Promise<AuthResult> {
    const token = bearerToken(header);
    if (token === undefined) return MISSING;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        algorithms: ["RS256"],
        clockTolerance: 60,
        requiredClaims: ["exp"],
      }));
    } catch (e) {
      return tokenFailure(e);
    }
    const problem = roleProblem(payload, this.settings.role);
    if (problem !== undefined) return { ok: false, status: 403, error: problem };
    return { ok: true, principal: `token:${String(payload.oid ?? payload.sub ?? "unknown")}` };
  }

  close(): void {}
}

/** A jose failure as the client's answer: 401 naming the failed check, or 503 when the signing
 * keys cannot be fetched (the client did nothing wrong). */
export function tokenFailure(e: unknown): AuthResult {
  if (e instanceof joseErrors.JWTExpired) return unauthorized("the token has expired");
  if (e instanceof joseErrors.JWTClaimValidationFailed) {
    return unauthorized(`the token's ${e.claim} claim is not accepted here`);
  }
  if (e instanceof joseErrors.JWKSTimeout || isFetchFailure(e)) {
    return {
      ok: false,
      status: 503,
      error: "the token issuer's signing keys cannot be fetched right now; retry",
    };
  }
  if (e instanceof joseErrors.JWKSNoMatchingKey) {
    return unauthorized("the token is signed with a key the issuer does not publish");
  }
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) {
    return unauthorized("the token's signature is not valid");
  }
  if (e instanceof joseErrors.JOSEAlgNotAllowed) {
    return unauthorized("the token's signing algorithm is not accepted (RS256 only)");
  }
  return unauthorized("the token is not a valid JWT");
}

function isFetchFailure(e: unknown): boolean {
  return (
    e instanceof TypeError ||
    (e instanceof joseErrors.JOSEError && e.code === "ERR_JOSE_GENERIC" && /fetch/i.test(e.message))
  );
}

/** The authenticator the settings describe. */
export function createAuthenticator(settings: AuthSettings): Authenticator {
  switch (settings.mode) {
    case "none":
      return new NoAuth();
    case "key": {
      const ring = new KeyRing(settings.keysDir!);
      return new KeyAuth(ring);
    }
    case "entra":
      return new EntraAuth(
        { issuer: settings.issuer!, audience: settings.audience!, role: settings.role },
        settings.jwksUrl!,
      );
  }
}

/** The key ring behind a `key` authenticator (to watch it and report what is loaded). */
export function keyRingOf(auth: Authenticator): KeyRing | undefined {
  return auth instanceof KeyAuth ? auth.ring : undefined;
}

/** Routes anyone may call: the kubelet's probes, the scraper's /metrics (the NetworkPolicy
 * admits only the data plane and the scraper, and no route of the Gateway sends /metrics; see
 * docs/traffic.md), the OpenAPI document and the static web form (it asks for the key). */
export function isOpenRoute(url: string | undefined): boolean {
  if (url === undefined) return true; // no route: the 404 handler answers
  return (
    !(url === "/v2" || url.startsWith("/v2/") || url.startsWith("/v1/")) || HEALTH_ROUTES.has(url)
  );
}

/** The kubelet's probes: always open, and never shed by the in-flight bound. */
export const HEALTH_ROUTES: ReadonlySet<string> = new Set(["/v2/health/live", "/v2/health/ready"]);
