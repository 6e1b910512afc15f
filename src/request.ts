// One place for calls to the server extension (the HTTP API in the contract).
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** An error answered by the server: its JSON `message`, the offending `field` and per-field `errors`. */
export class APIError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly field: string | null = null,
    readonly errors: { [name: string]: string } | null = null
  ) {
    super(message);
    this.name = 'APIError';
  }
}

/**
 * Call `{baseUrl}workbench/api/{path}`; the token and XSRF header are added by ServerConnection.
 * Resolves to the parsed JSON body (or null for an empty one); rejects with an APIError.
 */
export async function requestAPI<T = any>(path = '', init: RequestInit = {}): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'workbench/api', path);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }
  const text = await response.text();
  let data: any = null;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { message: text.slice(0, 300) };
    }
  }
  if (!response.ok) {
    const message =
      (data && data.message) ||
      (response.status === 404
        ? `workbench/api/${path}: not found (is the workbench server extension enabled? ` +
          '`jupyter server extension list` should show workbench.jupyter)'
        : `workbench/api/${path}: HTTP ${response.status} ${response.statusText}`);
    throw new APIError(message, response.status, data?.field ?? null, data?.errors ?? null);
  }
  return data as T;
}

/** POST a JSON body. */
export function postAPI<T = any>(path: string, body: unknown): Promise<T> {
  return requestAPI<T>(path, { method: 'POST', body: JSON.stringify(body) });
}
