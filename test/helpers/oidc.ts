import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';

/** A real OpenID Provider (panva's oidc-provider) on loopback that mints JWT access tokens. */
export interface TestProvider {
  /** `http://127.0.0.1:PORT`, no trailing slash: the discovery `issuer` and the tokens' `iss`. */
  readonly issuer: string;
  /** The resource indicator the access tokens are minted for, and their `aud`. */
  readonly audience: string;
  /**
   * A machine token via the client credentials grant for client `clientId` (created on demand), with these
   * scopes. `claims` become top-level claims of the JWT access token. Returns the raw JWT access token.
   */
  machineToken(options: {
    clientId?: string;
    scopes: string[];
    claims?: Record<string, unknown>;
  }): Promise<string>;
  /**
   * A person's token via the real authorization code flow (+PKCE S256), driven with fetch through the
   * provider's dev interactions (login form, then consent). `email` and `groups` become top-level claims of
   * the JWT access token, whose `sub` is `account`.
   */
  userToken(options: { account: string; email: string; groups: string[]; scopes: string[] }): Promise<string>;
  /**
   * Registers a confidential web client (client_secret_post, authorization code) that may
   * return to `redirectUri`, for an application's own sign-in.
   */
  registerWebClient(redirectUri: string): { clientId: string; clientSecret: string };
  /**
   * A person who can sign in at the provider's login page (any password); their id token carries these
   * claims. `email_verified` is sent as given (any JSON value), `true` when not given.
   */
  addPerson(person: { account: string; email: string; groups: string[]; email_verified?: unknown }): void;
  /** Replaces the signing keys with a fresh set (new kid); the JWKS endpoint serves only the new keys. */
  rotateKeys(): Promise<void>;
  /** How many times the JWKS endpoint has been fetched so far. */
  jwksFetches(): number;
  close(): Promise<void>;
}

// oidc-provider ships no type declarations; this is the little of it the helper uses.
interface KoaContext {
  readonly path: string;
  get(header: string): string;
}
interface OidcProvider {
  use(middleware: (ctx: KoaContext, next: () => Promise<unknown>) => Promise<void>): unknown;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
}
type ProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => OidcProvider;
interface TokenLike {
  readonly kind: string;
  readonly accountId?: string;
  readonly clientId?: string;
}
interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
}

const AUDIENCE = 'https://signoff.test';
const WEB_CLIENT_ID = 'signoff-test-web';
const WEB_REDIRECT_URI = 'https://client.signoff.test/callback';
const DEFAULT_MACHINE_CLIENT_ID = 'signoff-test-machine';
const CLAIMS_HEADER = 'x-test-token-claims';
const DEFAULT_SCOPES = ['approvals:create', 'approvals:read', 'approvals:decide', 'admin', 'signoff:other'];

let providerClass: Promise<ProviderConstructor> | undefined;

/** Runs `action` with oidc-provider's console warnings (dev interactions) muted. */
async function quietly<T>(action: () => T | Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('oidc-provider WARNING')) return;
    warn(...args);
  };
  try {
    return await action();
  } finally {
    console.warn = warn;
  }
}

function loadProvider(): Promise<ProviderConstructor> {
  // A non-literal specifier: the package has no types.
  const specifier = 'oidc-provider';
  providerClass ??= import(specifier).then((module: { default: ProviderConstructor }) => module.default);
  return providerClass;
}

async function signingKeys(): Promise<JWK[]> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  return [{ ...jwk, kid: `test-${randomBytes(8).toString('base64url')}`, alg: 'ES256', use: 'sig' }];
}

interface Stored {
  payload: Record<string, unknown>;
  expiresAt: number;
}

/**
 * A storage adapter shared by every provider instance of one TestProvider (so state outlives key
 * rotation), which also serves the helper's clients to the `Client` model.
 */
function adapterFactory(clients: Map<string, Record<string, unknown>>) {
  const store = new Map<string, Stored>();
  const get = (key: string): Record<string, unknown> | undefined => {
    const entry = store.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return entry.payload;
  };
  const index = (name: string, id: string, expiresAt: number) =>
    store.set(name, { payload: { id }, expiresAt });

  return class Adapter {
    constructor(private readonly model: string) {}

    private key(id: string) {
      return `${this.model}:${id}`;
    }

    async find(id: string) {
      if (this.model === 'Client') return clients.get(id);
      return get(this.key(id));
    }

    async findByUid(uid: string) {
      const id = get(`sessionUid:${uid}`)?.id;
      return typeof id === 'string' ? this.find(id) : undefined;
    }

    async findByUserCode(userCode: string) {
      const id = get(`userCode:${userCode}`)?.id;
      return typeof id === 'string' ? this.find(id) : undefined;
    }

    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number) {
      const expiresAt =
        typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Number.POSITIVE_INFINITY;
      const key = this.key(id);
      store.set(key, { payload, expiresAt });
      if (this.model === 'Session' && typeof payload.uid === 'string')
        index(`sessionUid:${payload.uid}`, id, expiresAt);
      if (typeof payload.userCode === 'string') index(`userCode:${payload.userCode}`, id, expiresAt);
      if (typeof payload.grantId === 'string') {
        const grantKey = `grant:${payload.grantId}`;
        const members = (get(grantKey)?.keys as string[] | undefined) ?? [];
        store.set(grantKey, { payload: { keys: [...members, key] }, expiresAt: Number.POSITIVE_INFINITY });
      }
    }

    async consume(id: string) {
      const payload = get(this.key(id));
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }

    async destroy(id: string) {
      store.delete(this.key(id));
    }

    async revokeByGrantId(grantId: string) {
      const grantKey = `grant:${grantId}`;
      for (const key of (get(grantKey)?.keys as string[] | undefined) ?? []) store.delete(key);
      store.delete(grantKey);
    }
  };
}

/** A minimal cookie jar: cookies by name, ignoring path and domain (one host, one flow). */
class CookieJar {
  private readonly cookies = new Map<string, string>();

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((attribute) => {
        const [key = '', val = ''] = attribute.trim().split('=');
        if (key.toLowerCase() === 'max-age') return Number(val) <= 0;
        if (key.toLowerCase() === 'expires') return Date.parse(val) <= Date.now();
        return false;
      });
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

function decodeHtml(text: string): string {
  return text
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(Number.parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

async function tokenResponse(response: Response, what: string): Promise<string> {
  const text = await response.text();
  if (!response.ok) throw new Error(`${what}: token endpoint answered ${response.status}: ${text}`);
  const body = JSON.parse(text) as { access_token?: unknown };
  if (typeof body.access_token !== 'string') throw new Error(`${what}: no access_token in ${text}`);
  return body.access_token;
}

/** Starts a real OpenID Provider on 127.0.0.1 (random port, plain http) that mints JWT access tokens. */
export async function startTestProvider(
  options: { accessTokenTtlSeconds?: number } = {},
): Promise<TestProvider> {
  const ttl = options.accessTokenTtlSeconds ?? 600;
  const Provider = await loadProvider();

  const clients = new Map<string, Record<string, unknown>>([
    [
      WEB_CLIENT_ID,
      {
        client_id: WEB_CLIENT_ID,
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: [WEB_REDIRECT_URI],
        id_token_signed_response_alg: 'ES256',
      },
    ],
  ]);
  const accounts = new Map<string, { email: string; groups: string[]; emailVerified: unknown }>();
  const scopes = new Set(DEFAULT_SCOPES);
  const Adapter = adapterFactory(clients);
  const cookieKeys = [randomBytes(32).toString('base64url')];
  let jwksPath = '/jwks';
  let jwksCount = 0;

  const server = createServer((req, res) => handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  async function build(keys: JWK[]): Promise<(req: IncomingMessage, res: ServerResponse) => void> {
    const provider = await quietly(
      () =>
        new Provider(issuer, {
          adapter: Adapter,
          jwks: { keys },
          cookies: { keys: cookieKeys },
          clientDefaults: { id_token_signed_response_alg: 'ES256' },
          // Explicit lifetimes, which also keeps oidc-provider from printing a NOTICE for each default.
          ttl: {
            AccessToken: ttl,
            ClientCredentials: ttl,
            AuthorizationCode: 60,
            IdToken: 3600,
            Interaction: 600,
            Session: 3600,
            Grant: 3600,
          },
          features: {
            devInteractions: { enabled: true },
            clientCredentials: { enabled: true },
            resourceIndicators: {
              enabled: true,
              defaultResource: async (_ctx: unknown, _client: unknown, oneOf?: string[]) => oneOf ?? AUDIENCE,
              useGrantedResource: async () => true,
              getResourceServerInfo: async (_ctx: unknown, resource: string) => {
                if (resource !== AUDIENCE) throw new Error(`unknown resource indicator ${resource}`);
                return {
                  scope: [...scopes].join(' '),
                  audience: AUDIENCE,
                  accessTokenFormat: 'jwt',
                  accessTokenTTL: ttl,
                  jwt: { sign: { alg: 'ES256' } },
                };
              },
            },
          },
          // Id tokens carry the person's claims (as Keycloak or Entra ID mappers put them there):
          // email with the email scope, groups with profile.
          claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['groups'] },
          conformIdTokenClaims: false,
          findAccount: async (_ctx: unknown, sub: string) => {
            const account = accounts.get(sub);
            if (!account) return undefined;
            return {
              accountId: sub,
              claims: async () => ({
                sub,
                email: account.email,
                email_verified: account.emailVerified,
                groups: [...account.groups],
              }),
            };
          },
          extraTokenClaims: async (ctx: KoaContext | undefined, token: TokenLike) => {
            if (token.kind === 'ClientCredentials') {
              const header = ctx?.get(CLAIMS_HEADER);
              if (!header) return undefined;
              return JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Record<string, unknown>;
            }
            const account = token.accountId ? accounts.get(token.accountId) : undefined;
            return account ? { email: account.email, groups: [...account.groups] } : undefined;
          },
        }),
    );
    provider.use(async (ctx, next) => {
      if (ctx.path === jwksPath) jwksCount += 1;
      await next();
    });
    return provider.callback();
  }

  let handle = await build(await signingKeys());

  const discoveryResponse = await fetch(`${issuer}/.well-known/openid-configuration`);
  if (!discoveryResponse.ok) throw new Error(`discovery answered ${discoveryResponse.status}`);
  const discovery = (await discoveryResponse.json()) as Discovery;
  if (discovery.issuer !== issuer) throw new Error(`discovery issuer ${discovery.issuer} is not ${issuer}`);
  jwksPath = new URL(discovery.jwks_uri).pathname;

  async function machineToken(request: {
    clientId?: string;
    scopes: string[];
    claims?: Record<string, unknown>;
  }): Promise<string> {
    const clientId = request.clientId ?? DEFAULT_MACHINE_CLIENT_ID;
    if (clientId === WEB_CLIENT_ID) throw new Error(`${WEB_CLIENT_ID} is the helper's own web client`);
    const secret = `secret-${clientId}-0123456789abcdef0123456789abcdef`;
    if (!clients.has(clientId))
      clients.set(clientId, {
        client_id: clientId,
        client_secret: secret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      });
    for (const scope of request.scopes) scopes.add(scope);
    const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString(
      'base64',
    );
    const response = await fetch(discovery.token_endpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
        [CLAIMS_HEADER]: Buffer.from(JSON.stringify(request.claims ?? {})).toString('base64url'),
      },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: request.scopes.join(' '),
        resource: AUDIENCE,
      }),
    });
    return tokenResponse(response, `machine token for ${clientId}`);
  }

  async function userToken(request: {
    account: string;
    email: string;
    groups: string[];
    scopes: string[];
  }): Promise<string> {
    accounts.set(request.account, { email: request.email, groups: [...request.groups], emailVerified: true });
    for (const scope of request.scopes) scopes.add(scope);

    const jar = new CookieJar();
    const verifier = randomBytes(32).toString('base64url');
    const state = randomBytes(16).toString('base64url');
    const authorize = new URL(discovery.authorization_endpoint);
    authorize.search = new URLSearchParams({
      client_id: WEB_CLIENT_ID,
      response_type: 'code',
      redirect_uri: WEB_REDIRECT_URI,
      scope: ['openid', ...request.scopes].join(' '),
      resource: AUDIENCE,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      state,
    }).toString();

    const send = async (url: string, form?: Record<string, string>) => {
      const response = await fetch(url, {
        method: form ? 'POST' : 'GET',
        redirect: 'manual',
        headers: {
          cookie: jar.header(),
          ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        ...(form ? { body: new URLSearchParams(form) } : {}),
      });
      jar.take(response);
      return response;
    };

    let response = await send(authorize.href);
    let url = authorize.href;
    for (let step = 0; step < 20; step += 1) {
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        const next = new URL(location, url);
        if (`${next.origin}${next.pathname}` === WEB_REDIRECT_URI) {
          const error = next.searchParams.get('error');
          if (error)
            throw new Error(`authorization failed: ${error}: ${next.searchParams.get('error_description')}`);
          if (next.searchParams.get('state') !== state)
            throw new Error('authorization response state mismatch');
          const code = next.searchParams.get('code');
          if (!code) throw new Error(`no code in ${next.href}`);
          const tokens = await fetch(discovery.token_endpoint, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({
              grant_type: 'authorization_code',
              client_id: WEB_CLIENT_ID,
              code,
              redirect_uri: WEB_REDIRECT_URI,
              code_verifier: verifier,
              resource: AUDIENCE,
            }),
          });
          return tokenResponse(tokens, `user token for ${request.account}`);
        }
        url = next.href;
        response = await send(url);
        continue;
      }
      const html = await response.text();
      if (response.status !== 200) throw new Error(`${url} answered ${response.status}: ${html}`);
      const action = /<form[^>]*\baction="([^"]+)"/.exec(html)?.[1];
      const prompt = /name="prompt" value="([^"]+)"/.exec(html)?.[1];
      if (!action || !prompt) throw new Error(`no interaction form at ${url}: ${html}`);
      const form: Record<string, string> =
        prompt === 'login' ? { prompt, login: request.account, password: 'test' } : { prompt };
      url = new URL(decodeHtml(action), url).href;
      response = await send(url, form);
    }
    throw new Error('the authorization flow did not reach the redirect_uri in 20 steps');
  }

  return {
    issuer,
    audience: AUDIENCE,
    machineToken,
    userToken,
    async rotateKeys() {
      handle = await build(await signingKeys());
    },
    jwksFetches: () => jwksCount,
    registerWebClient(redirectUri) {
      const clientId = `web-${randomBytes(6).toString('hex')}`;
      const clientSecret = `secret-${randomBytes(24).toString('base64url')}`;
      clients.set(clientId, {
        client_id: clientId,
        client_secret: clientSecret,
        token_endpoint_auth_method: 'client_secret_post',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: [redirectUri],
        id_token_signed_response_alg: 'ES256',
      });
      return { clientId, clientSecret };
    },
    addPerson(person) {
      accounts.set(person.account, {
        email: person.email,
        groups: [...person.groups],
        emailVerified: 'email_verified' in person ? person.email_verified : true,
      });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
