import { useTranslation } from "react-i18next";

/** Placeholder: the incident detail (timeline, actions, dispatch board) is being built. */
export function IncidentDetail({ incidentId }: { incidentId: number }) {
  const { t } = useTranslation();
  return (
    <div className="panel__empty" data-testid="incident-detail" data-incident-id={incidentId}>
      {t("panel.incident")} #{incidentId}
    </div>
  );
}
