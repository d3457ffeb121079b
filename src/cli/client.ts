/** A small HTTP client for signoff's API, configured from SIGNOFF_URL and SIGNOFF_TOKEN. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export interface Client {
  request<T>(
    method: string,
    path: string,
    options?: { body?: unknown; timeoutMs?: number; headers?: Record<string, string> },
  ): Promise<T>;
}

export function createClient(env: Record<string, string | undefined> = process.env): Client {
  const base = (env.SIGNOFF_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const token = env.SIGNOFF_TOKEN;
  return {
    async request<T>(
      method: string,
      path: string,
      options: { body?: unknown; timeoutMs?: number; headers?: Record<string, string> } = {},
    ) {
      if (!token) throw new ApiError(0, 'unauthorized', 'Set SIGNOFF_TOKEN to an API key or access token.');
      const headers: Record<string, string> = {
        authorization: `Bearer ${token}`,
        'x-signoff-client': 'cli',
        ...options.headers,
      };
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      let response: Response;
      try {
        response = await fetch(`${base}${path}`, {
          method,
          headers,
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
          signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
        });
      } catch (error) {
        const reason =
          error instanceof Error && error.name === 'TimeoutError' ? 'timed out' : 'could not connect';
        throw new ApiError(
          0,
          'unreachable',
          `signoff at ${base} ${reason}. Is it running? Check SIGNOFF_URL.`,
        );
      }
      const text = await response.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        throw new ApiError(
          response.status,
          'bad_response',
          `signoff answered HTTP ${response.status} with no JSON.`,
        );
      }
      if (!response.ok) {
        const error = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
        throw new ApiError(
          response.status,
          error?.code ?? 'unknown',
          error?.message ?? `HTTP ${response.status}`,
        );
      }
      return json as T;
    },
  };
}
