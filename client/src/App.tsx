import { lazy, Suspense, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { IncidentQueue } from "./incidents/IncidentQueue.tsx";
import { IncidentDetail } from "./incidents/IncidentDetail.tsx";
import { CallIntake } from "./calls/CallIntake.tsx";
import { TeamBoard } from "./dispatch/TeamBoard.tsx";
import { SlaAlerts } from "./alerts/SlaAlerts.tsx";
import { SoundToggle } from "./alerts/SoundToggle.tsx";
import { ShortcutHelp, useShortcuts } from "./shortcuts.tsx";
import { languages, type Language } from "./i18n/index.ts";
import { MapView } from "./map/MapView.tsx";
import {
  can,
  connectRealtime,
  consoleActions,
  dismissError,
  loadStatic,
  retryFailed,
  useConsole,
  type ErrorKey,
  type SidePanel,
} from "./realtime.ts";
import { formatDateTime, useNow } from "./time.ts";
import { logout, type Me } from "./auth/AuthGate.tsx";

// The supervision screen brings ECharts: loaded when first opened, not with the dispatcher's console.
const SupervisionScreen = lazy(() => import("./analytics/SupervisionScreen.tsx").then((m) => ({ default: m.SupervisionScreen })));

/** Who reads the supervision figures: the regulator and company admins land on them. */
const SUPERVISION_FIRST: readonly Me["role"][] = ["supervisor", "company_admin"];

export function App({ me }: { me: Me }) {
  const { t } = useTranslation();
  const connection = useConsole((s) => s.connection);
  const config = useConsole((s) => s.config);
  const districts = useConsole((s) => s.districts);
  const elevators = useConsole((s) => s.elevators);
  const teams = useConsole((s) => s.teams);
  const incidents = useConsole((s) => s.incidents);
  const errors = useConsole((s) => s.errors);
  const selectedId = useConsole((s) => s.selectedIncidentId);
  const flyTo = useConsole((s) => s.flyTo);
  const [helpOpen, setHelpOpen] = useState(false);
  const [view, setView] = useState<"operations" | "supervision">(SUPERVISION_FIRST.includes(me.role) ? "supervision" : "operations");

  useEffect(() => {
    loadStatic();
    return connectRealtime(me.role);
  }, [me.role]);

  useShortcuts({ toggleHelp: () => setHelpOpen((open) => !open), closeHelp: () => setHelpOpen(false) });

  return (
    <div className="app">
      <header className="header">
        <div className="header__brand">
          <span className="header__logo" aria-hidden="true">
            96333
          </span>
          <h1>{t("app.title")}</h1>
        </div>
        <div className="header__stats">
          <span className="header__stat-label">{t("app.openCount")}</span>
          <span className="header__stat-value" data-testid="open-count">
            {incidents.size}
          </span>
        </div>
        <div className="header__right">
          {me.role !== "rescuer" && (
            <button
              type="button"
              className="header__view"
              onClick={() => setView((v) => (v === "operations" ? "supervision" : "operations"))}
              data-testid="toggle-supervision"
              data-view={view}
            >
              {view === "operations" ? t("analytics.view") : t("analytics.operations")}
            </button>
          )}
          <button type="button" className="header__help" onClick={() => setHelpOpen(true)} title={t("shortcuts.title")} data-testid="shortcut-help-button">
            ?
          </button>
          <SoundToggle />
          <HeaderClock />
          <span className={`conn conn--${connection}`} data-testid="connection-status" data-state={connection}>
            <span className="conn__dot" aria-hidden="true" />
            {t(`connection.${connection}`)}
          </span>
          <LanguageSwitch />
          <span className="header__user" data-testid="current-user" data-role={me.role}>
            {me.displayName} · {t(`role.${me.role}`)}
          </span>
          <button type="button" className="header__logout" onClick={() => void logout()} data-testid="logout">
            {t("login.logout")}
          </button>
        </div>
      </header>

      <ErrorBanner errors={errors} />
      <SlaAlerts />
      {helpOpen && <ShortcutHelp onClose={() => setHelpOpen(false)} />}

      {view === "supervision" ? (
        <main className="main">
          <Suspense fallback={<div className="supervision" />}>
            <SupervisionScreen role={me.role} />
          </Suspense>
        </main>
      ) : (
      <main className="main">
        <IncidentQueue incidents={incidents} selectedId={selectedId} onSelect={consoleActions.locateIncident} />
        {config ? (
          <MapView
            config={config}
            districts={districts}
            elevators={elevators}
            teams={teams}
            incidents={incidents}
            selectedId={selectedId}
            flyTo={flyTo}
            onSelectIncident={consoleActions.selectIncident}
          />
        ) : (
          <div className="map map--loading" />
        )}
        <SidePanelView />
      </main>
      )}
    </div>
  );
}

const allPanels: readonly SidePanel[] = ["intake", "incident", "teams"];

/** The working column: call intake, the selected incident with its dispatch board, the team board. */
function SidePanelView() {
  const { t } = useTranslation();
  const panel = useConsole((s) => s.panel);
  // Call intake is the operators' (dispatcher, admin); the others read incidents and teams.
  const operator = useConsole((s) => can(s.role, "operate"));
  const panels = operator ? allPanels : allPanels.filter((p) => p !== "intake");
  const selectedId = useConsole((s) => s.selectedIncidentId);
  const callCount = useConsole((s) => s.calls.size);
  const ringing = useConsole((s) => [...s.calls.values()].some((c) => c.answeredAt === null && c.endedAt === null));
  return (
    <aside className="side" aria-label={t("panel.title")} data-testid="side-panel" data-panel={panel}>
      <nav className="side__tabs" role="tablist">
        {panels.map((p) => (
          <button
            key={p}
            type="button"
            role="tab"
            aria-selected={panel === p}
            className={`side__tab${panel === p ? " side__tab--active" : ""}${p === "intake" && ringing ? " side__tab--ringing" : ""}`}
            onClick={() => consoleActions.showPanel(p)}
            data-testid={`tab-${p}`}
          >
            {t(`panel.${p}`)}
            {p === "intake" && callCount > 0 && <span className="side__badge">{callCount}</span>}
          </button>
        ))}
      </nav>
      <div className="side__body">
        {panel === "intake" && operator && <CallIntake />}
        {panel === "incident" &&
          (selectedId === null ? (
            <p className="panel__empty">{t("panel.pickIncident")}</p>
          ) : (
            <IncidentDetail key={selectedId} incidentId={selectedId} />
          ))}
        {panel === "teams" && <TeamBoard />}
      </div>
    </aside>
  );
}

function HeaderClock() {
  const { t, i18n } = useTranslation();
  const now = useNow();
  return (
    <span className="header__clock" title={t("app.beijingTime")}>
      {formatDateTime(now, i18n.language)}
    </span>
  );
}

function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  const labels: Record<Language, string> = { "zh-CN": "中文", en: "EN" };
  return (
    <div className="lang" role="group" aria-label={t("app.language")} data-testid="language-switch">
      {languages.map((lng) => (
        <button
          key={lng}
          type="button"
          className={i18n.language === lng ? "lang__btn lang__btn--active" : "lang__btn"}
          aria-pressed={i18n.language === lng}
          lang={lng}
          onClick={() => void i18n.changeLanguage(lng)}
        >
          {labels[lng]}
        </button>
      ))}
    </div>
  );
}

function ErrorBanner({ errors }: { errors: Partial<Record<ErrorKey, string>> }) {
  const { t } = useTranslation();
  const entries = Object.entries(errors) as [ErrorKey, string][];
  if (entries.length === 0) return null;
  return (
    <div className="banner" role="alert" data-testid="error-banner">
      <strong>{t("errors.title")}</strong>
      <ul>
        {entries.map(([key, message]) => (
          <li key={key}>
            {t(`errors.${key}`)}: <span className="mono">{message}</span>
            <button type="button" className="banner__dismiss" onClick={() => dismissError(key)} aria-label={t("errors.dismiss")}>
              ×
            </button>
          </li>
        ))}
      </ul>
      <button type="button" className="banner__retry" onClick={retryFailed}>
        {t("errors.retry")}
      </button>
    </div>
  );
}
