/** One JSON request to the platform; status 0 when the network did not answer. */
export async function call<T = unknown>(method: "GET" | "POST", path: string, body?: unknown): Promise<{ status: number; body: T }> {
  try {
    const res = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: { Accept: "application/json", ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = { error: { id: null, message: text.slice(0, 200) } };
    }
    return { status: res.status, body: parsed as T };
  } catch (error) {
    return { status: 0, body: { error: { id: "network", message: error instanceof Error ? error.message : String(error) } } as T };
  }
}

export const errorOf = (body: unknown): { id: string | null; message: string; details?: unknown } => {
  const error = (body as { error?: { id?: string; message?: string; details?: unknown } } | null)?.error;
  return { id: error?.id ?? null, message: error?.message ?? "unknown error", details: error?.details };
};
