import { useEffect, useState, type DependencyList } from "react";
import { shortError } from "./api.ts";

/**
 * The answer of a GET, fetched again whenever `deps` change (null fetcher: nothing to fetch). A request
 * overtaken by a newer one is aborted and never lands; the last answer stays on screen while the next
 * one loads, and a failure keeps it too, with the error beside it.
 */
export function useRequest<T>(fetcher: ((signal: AbortSignal) => Promise<T>) | null, deps: DependencyList): { data: T | null; error: string | null } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!fetcher) return;
    const abort = new AbortController();
    fetcher(abort.signal).then(
      (value) => {
        if (abort.signal.aborted) return;
        setData(value);
        setError(null);
      },
      (err: unknown) => {
        if (!abort.signal.aborted) setError(shortError(err));
      },
    );
    return () => abort.abort();
    // The caller's deps say when to fetch again; the fetcher itself is a new closure every render.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return { data, error };
}
