import { useEffect, useState, type FormEvent, type ReactNode } from "react";
import type { Role } from "../../../server/contracts/index.ts";
import { useTranslation } from "react-i18next";

export interface Me {
  id: number;
  username: string;
  displayName: string;
  role: Role;
}

/** Shows the console once /api/auth/me answers; the login form while it answers 401. */
export function AuthGate({ children }: { children: (me: Me) => ReactNode }) {
  const [me, setMe] = useState<Me | null | "loading">("loading");
  useEffect(() => {
    let live = true;
    fetch("/api/auth/me", { headers: { Accept: "application/json" } })
      .then(async (res) => (res.ok ? ((await res.json()) as Me) : null))
      .catch(() => null)
      .then((value) => live && setMe(value));
    return () => {
      live = false;
    };
  }, []);
  if (me === "loading") return null;
  if (me === null) return <LoginForm onDone={setMe} />;
  return <>{children(me)}</>;
}

function LoginForm({ onDone }: { onDone: (me: Me) => void }) {
  const { t } = useTranslation();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = await fetch("/api/auth/login", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ username, password }),
      });
      if (res.ok) onDone((await res.json()) as Me);
      else setError(res.status === 423 ? t("login.locked") : res.status === 401 ? t("login.failed") : t("login.error"));
    } catch {
      setError(t("login.error"));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="login">
      <form className="login__form" onSubmit={submit} data-testid="login-form">
        <h1>{t("app.title")}</h1>
        <label>
          {t("login.username")}
          <input name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} data-testid="login-username" required />
        </label>
        <label>
          {t("login.password")}
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            data-testid="login-password"
            required
          />
        </label>
        {error ? (
          <p className="login__error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" disabled={busy} data-testid="login-submit">
          {t("login.submit")}
        </button>
      </form>
    </div>
  );
}

/** Ends the session and returns to the login form. */
export async function logout(): Promise<void> {
  await fetch("/api/auth/logout", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" }).catch(() => {});
  window.location.reload();
}

/** Rescuers work from the field app (their team's offers); the console reads the whole city. */
export function NotForRescuers() {
  const { t } = useTranslation();
  return (
    <div className="login" data-testid="not-for-rescuers">
      <div className="login__form">
        <h1>{t("app.title")}</h1>
        <p>{t("login.rescuerNotice")}</p>
        <a href="/field" className="login__field-link" data-testid="open-field-app">
          {t("login.openFieldApp")}
        </a>
        <button type="button" onClick={() => void logout()}>
          {t("login.logout")}
        </button>
      </div>
    </div>
  );
}
