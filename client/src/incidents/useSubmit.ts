import { useCallback, useState } from "react";
import { useTranslation } from "react-i18next";
import type { TFunction } from "i18next";
import type { IncidentView } from "../../../server/contracts/index.ts";
import { ApiError, shortError } from "../api.ts";

/** Applies what a REST call answered: the store at once, and the detail's own copy once the incident has ended. */
export type ApplyIncident = (incident: IncidentView) => void;

/** One request at a time per form, with the server's refusal kept next to the form until the next try. */
export function useSubmit() {
  const { t } = useTranslation();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(
    async (request: () => Promise<void>): Promise<boolean> => {
      setBusy(true);
      setError(null);
      try {
        await request();
        return true;
      } catch (err) {
        setError(describeError(err, t));
        return false;
      } finally {
        setBusy(false);
      }
    },
    [t],
  );
  return { busy, error, run };
}

/** The server's message, plus the allowed next statuses when the state machine refused a step. */
export function describeError(err: unknown, t: TFunction): string {
  const message = shortError(err);
  if (err instanceof ApiError && err.details && typeof err.details === "object" && "allowed" in err.details) {
    const allowed = (err.details as { allowed: unknown }).allowed;
    if (Array.isArray(allowed) && allowed.length > 0) {
      return `${message} — ${t("detail.allowedNext", { list: allowed.map((s) => t(`status.${String(s)}`)).join("、") })}`;
    }
  }
  return message;
}
