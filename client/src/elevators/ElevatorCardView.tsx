import { useTranslation } from "react-i18next";
import type { ElevatorCard } from "../../../server/contracts/index.ts";
import { api } from "../api.ts";
import { useRequest } from "../useRequest.ts";
import { formatDate, formatTime } from "../time.ts";
import { useElevatorLive } from "./useElevatorLive.ts";
import { useDistrictName } from "../i18n/places.ts";

/** What the dispatcher needs about an elevator while the passenger is on the line. */
export function ElevatorCardView({ card }: { card: ElevatorCard }) {
  const { t, i18n } = useTranslation();
  const districtName = useDistrictName();
  const company = card.maintenanceCompany;
  return (
    <section className="elevator-card" data-testid="elevator-card" data-elevator-id={card.id} data-rescue-code={card.rescueCode}>
      <header className="elevator-card__head">
        <span className="elevator-card__code mono">{card.rescueCode}</span>
        <span className="elevator-card__site">{card.site.name}</span>
        <span className="elevator-card__unit">{card.unitNo}</span>
        {!card.inService && <span className="chip chip--danger">{t("elevator.outOfService")}</span>}
      </header>
      <div className="elevator-card__address">
        {card.site.address} <span className="muted">· {districtName(card.district)}</span>
      </div>
      <dl className="facts">
        <dt>{t("elevator.floors")}</dt>
        <dd data-testid="elevator-floors">{t("elevator.floorsValue", { count: card.floors })}</dd>
        <dt>{t("elevator.type")}</dt>
        <dd>{t(`elevator.type_${card.type}`, { defaultValue: card.type })}</dd>
        <dt>{t("elevator.brand")}</dt>
        <dd>
          {card.brand} {card.model}
        </dd>
        <dt>{t("elevator.registrationCode")}</dt>
        <dd className="mono">{card.registrationCode}</dd>
        <dt>{t("elevator.usageUnit")}</dt>
        <dd>{card.usageUnit}</dd>
        <dt>{t("elevator.company")}</dt>
        <dd data-testid="elevator-company">{company.name}</dd>
        <dt>{t("elevator.contact")}</dt>
        <dd>
          {company.contactName}{" "}
          <a className="mono" href={`tel:${company.contactPhone}`}>
            {company.contactPhone}
          </a>
        </dd>
        <dt>{t("elevator.lastMaintenance")}</dt>
        <dd data-testid="elevator-last-maintenance">{card.lastMaintenanceAt ? formatDate(card.lastMaintenanceAt, i18n.language) : t("elevator.never")}</dd>
        <dt>{t("elevator.nextInspection")}</dt>
        <dd>{card.nextInspectionDue}</dd>
      </dl>
      <LiveStatus elevatorId={card.id} />
    </section>
  );
}

function LiveStatus({ elevatorId }: { elevatorId: number }) {
  const { t, i18n } = useTranslation();
  const live = useElevatorLive(elevatorId);
  if (live.kind === "loading") return <div className="live live--loading" data-testid="elevator-live" data-state="loading" />;
  if (live.kind === "no_device")
    return (
      <div className="live live--none" data-testid="elevator-live" data-state="no_device">
        {t("elevator.noDevice")}
      </div>
    );
  if (live.kind === "error")
    return (
      <div className="live live--none" data-testid="elevator-live" data-state="error">
        {live.message}
      </div>
    );
  const { view } = live;
  const s = view.status;
  return (
    <div className={`live${view.online ? "" : " live--offline"}`} data-testid="elevator-live" data-state={view.online ? "online" : "offline"}>
      <div className="live__head">
        <span className={`live__dot${view.online ? " live__dot--on" : ""}`} aria-hidden="true" />
        <strong>{t("elevator.live")}</strong>
        <span>{t(view.online ? "elevator.online" : "elevator.offline")}</span>
        {view.lastSeenAt && <span className="muted">{t("elevator.lastSeen", { time: formatTime(view.lastSeenAt, i18n.language) })}</span>}
      </div>
      {s && (
        <div className="live__grid">
          <div>
            <span className="live__label">{t("elevator.floor")}</span>
            <span className="live__value" data-testid="live-floor">
              {s.floor} {s.moving ? t(`elevator.dirName.${s.dir}`, { defaultValue: s.dir }) : ""}
            </span>
          </div>
          <div>
            <span className="live__label">{t("elevator.door")}</span>
            <span className="live__value" data-testid="live-door">
              {t(`elevator.doorState.${s.door}`, { defaultValue: s.door })}
            </span>
          </div>
          <div>
            <span className="live__label">{t("elevator.passengers")}</span>
            <span className={`live__value${s.passengers ? " live__value--alert" : ""}`} data-testid="live-passengers">
              {t(s.passengers ? "elevator.yes" : "elevator.no")}
            </span>
          </div>
          <div>
            <span className="live__label">{t("elevator.mode")}</span>
            <span className="live__value">{t(`elevator.modeName.${s.mode}`, { defaultValue: s.mode })}</span>
          </div>
        </div>
      )}
    </div>
  );
}

/** The card of an incident's elevator, loaded by its rescue code, folded under a heading. */
export function ElevatorSection({ rescueCode }: { rescueCode: string }) {
  const { t } = useTranslation();
  const { data: card, error } = useRequest((signal) => api.elevatorCard(rescueCode, signal), [rescueCode]);
  return (
    <details className="elevator-section" open data-testid="incident-elevator">
      <summary className="section-title">{t("elevator.section")}</summary>
      {card ? <ElevatorCardView card={card} /> : error ? <div className="form-error">{error}</div> : null}
    </details>
  );
}
