import { useTranslation } from "react-i18next";
import { consoleActions, useConsole } from "../realtime.ts";
import { formatTime } from "../time.ts";

/** Deadline warnings and escalations pushed by the SLA scheduler, newest first, until handled. */
export function SlaAlerts() {
  const { t, i18n } = useTranslation();
  const alerts = useConsole((s) => s.slaAlerts);
  if (alerts.length === 0) return null;
  return (
    <div className="sla-alerts" role="alert" data-testid="sla-alerts">
      {alerts.slice(0, 3).map((alert) => (
        <div key={`${alert.incidentId}-${alert.kind}`} className={`sla-alert sla-alert--${alert.kind}`} data-testid="sla-alert" data-kind={alert.kind}>
          <button type="button" className="sla-alert__body" onClick={() => consoleActions.locateIncident(alert.incidentId)}>
            <strong>{t(`sla.${alert.kind}`)}</strong>
            <span className="mono">{alert.incidentCode}</span>
            <span>{t(`sla.reason.${alert.reason}`)}</span>
            <span className="muted">{t("sla.deadline", { time: formatTime(alert.arrivalDeadlineAt, i18n.language) })}</span>
            {alert.escalatedToTier !== null && <span>{t("sla.escalatedTo", { tier: alert.escalatedToTier })}</span>}
          </button>
          <button type="button" className="sla-alert__dismiss" aria-label={t("errors.dismiss")} onClick={() => consoleActions.dismissSlaAlert(alert.incidentId)}>
            ×
          </button>
        </div>
      ))}
      {alerts.length > 3 && <div className="sla-alerts__more">{t("sla.more", { count: alerts.length - 3 })}</div>}
    </div>
  );
}
