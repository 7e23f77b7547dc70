import { memo, useEffect, useMemo, useRef } from "react";
import { useTranslation } from "react-i18next";
import type { IncidentView } from "../../../server/contracts/index.ts";
import { formatElapsed, formatTime, slaLevel, useNow } from "../time.ts";
import { activeOffers, byUrgency, etaMinutes } from "./urgency.ts";

interface Props {
  incidents: ReadonlyMap<number, IncidentView>;
  selectedId: number | null;
  onSelect: (id: number) => void;
}

export function IncidentQueue({ incidents, selectedId, onSelect }: Props) {
  const { t } = useTranslation();
  const sorted = useMemo(() => [...incidents.values()].sort(byUrgency), [incidents]);
  const listRef = useRef<HTMLOListElement>(null);

  useEffect(() => {
    if (selectedId === null) return;
    listRef.current
      ?.querySelector(`[data-incident-id="${selectedId}"]`)
      ?.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }, [selectedId]);

  return (
    <section className="queue" aria-label={t("queue.title")}>
      <header className="queue__header">
        <h2>{t("queue.title")}</h2>
        <span className="queue__count" data-testid="queue-count">
          {sorted.length}
        </span>
      </header>
      {sorted.length === 0 ? (
        <p className="queue__empty" data-testid="queue-empty">
          {t("queue.empty")}
        </p>
      ) : (
        <ol className="queue__list" ref={listRef}>
          {sorted.map((incident) => (
            <IncidentCard
              key={incident.id}
              incident={incident}
              selected={incident.id === selectedId}
              onSelect={onSelect}
            />
          ))}
        </ol>
      )}
    </section>
  );
}

interface CardProps {
  incident: IncidentView;
  selected: boolean;
  onSelect: (id: number) => void;
}

const IncidentCard = memo(function IncidentCard({ incident, selected, onSelect }: CardProps) {
  const { t, i18n } = useTranslation();
  const offers = activeOffers(incident);
  const { elevator } = incident;
  const limitMinutes = Math.round((Date.parse(incident.arrivalDeadlineAt) - Date.parse(incident.reportedAt)) / 60000);

  return (
    <li
      className={`card card--${incident.kind}${selected ? " card--selected" : ""}`}
      data-testid="incident-item"
      data-incident-id={incident.id}
      data-incident-code={incident.code}
      data-status={incident.status}
      data-kind={incident.kind}
    >
      <button type="button" className="card__button" onClick={() => onSelect(incident.id)} title={t("queue.locate")}>
        <div className="card__row card__row--top">
          <span className={`badge badge--kind-${incident.kind}`}>{t(`kind.${incident.kind}`)}</span>
          <span className="card__code">{incident.code}</span>
          <ElapsedClock incident={incident} limitMinutes={limitMinutes} />
        </div>

        <div className="card__address">
          <span className={`badge badge--status badge--${incident.status}`}>{t(`status.${incident.status}`)}</span>
          {elevator.address}
          <span className="card__site">
            {elevator.siteName} · {elevator.unitNo}
          </span>
        </div>

        <div className="card__row card__meta">
          <span>
            {t("queue.rescueCode")} <strong className="mono">{elevator.rescueCode}</strong>
          </span>
          <span>{incident.district.name}</span>
          <span>{t("queue.reportedAt", { time: formatTime(incident.reportedAt, i18n.language) })}</span>
        </div>

        {(incident.alarmCodes.length > 0 || incident.deviceOffline) && (
          <div className="card__alarms">
            {incident.alarmCodes.map((code) => (
              <span key={code} className={`chip${code === "trapped" ? " chip--danger" : ""}`}>
                {t(`alarm.${code}`, { defaultValue: code })}
              </span>
            ))}
            {incident.deviceOffline && <span className="chip chip--muted">{t("queue.deviceOffline")}</span>}
          </div>
        )}

        <div className="card__teams">
          {offers.length === 0 ? (
            <span className="card__noteam">{t("queue.noTeam")}</span>
          ) : (
            offers.map((offer) => (
              <div key={offer.id} className={`offer offer--${offer.status}`} data-testid="incident-offer">
                <span className="offer__tier">{t("queue.tier", { tier: offer.tier })}</span>
                <span className="offer__team" title={offer.teamName}>
                  {offer.teamName}
                </span>
                {offer.backup && <span className="offer__backup">{t("queue.backup")}</span>}
                <span className="offer__status">{t(`offerStatus.${offer.status}`)}</span>
                <span className="offer__eta">{t("queue.eta", { minutes: etaMinutes(offer) })}</span>
              </div>
            ))
          )}
        </div>
      </button>
    </li>
  );
});

function ElapsedClock({ incident, limitMinutes }: { incident: IncidentView; limitMinutes: number }) {
  const { t } = useTranslation();
  const now = useNow();
  const level = slaLevel(incident.reportedAt, incident.arrivalDeadlineAt, incident.onSceneAt, now);
  return (
    <span
      className={`clock clock--${level}`}
      data-testid="incident-clock"
      data-sla={level}
      title={`${t("queue.elapsed")} · ${t("queue.limit", { minutes: limitMinutes })}`}
    >
      {formatElapsed(now - Date.parse(incident.reportedAt))}
    </span>
  );
}
