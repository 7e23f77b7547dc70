import { memo, useEffect, useMemo, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { incidentStatuses, type IncidentView, type MassEventView } from "../../../server/contracts/index.ts";
import { useConsole } from "../realtime.ts";
import { formatElapsed, formatTime, slaLevel, useNow } from "../time.ts";
import { activeOffers, byUrgency, etaMinutes, groupByMassEvent, matchesFilter, noFilter, type QueueFilter } from "./urgency.ts";
import { useDistrictName } from "../i18n/places.ts";

const openStatuses = incidentStatuses.filter((s) => s !== "closed" && s !== "cancelled" && s !== "false_alarm");
const tiers = [1, 2, 3] as const;

interface Props {
  incidents: ReadonlyMap<number, IncidentView>;
  selectedId: number | null;
  onSelect: (id: number) => void;
}

export function IncidentQueue({ incidents, selectedId, onSelect }: Props) {
  const { t } = useTranslation();
  const massEvents = useConsole((s) => s.massEvents);
  const [filter, setFilter] = useState<QueueFilter>(noFilter);
  const [collapsed, setCollapsed] = useState<ReadonlySet<number>>(new Set());
  const sorted = useMemo(() => [...incidents.values()].sort(byUrgency), [incidents]);
  const visible = useMemo(() => sorted.filter((i) => matchesFilter(i, filter)), [sorted, filter]);
  const entries = useMemo(() => groupByMassEvent(visible, new Set(massEvents.keys())), [visible, massEvents]);
  const listRef = useRef<HTMLOListElement>(null);
  const toggle = (id: number) =>
    setCollapsed((prev) => {
      const next = new Set(prev);
      if (!next.delete(id)) next.add(id);
      return next;
    });

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
          {visible.length}
        </span>
      </header>
      <QueueFilters filter={filter} onChange={setFilter} hidden={sorted.length - visible.length} />
      {visible.length === 0 ? (
        <p className="queue__empty" data-testid="queue-empty">
          {t("queue.empty")}
        </p>
      ) : (
        <ol className="queue__list" ref={listRef}>
          {entries.map((entry) =>
            entry.type === "incident" ? (
              <IncidentCard key={entry.incident.id} incident={entry.incident} selected={entry.incident.id === selectedId} onSelect={onSelect} />
            ) : (
              <MassGroup
                key={`mass-${entry.massEventId}`}
                massEvent={massEvents.get(entry.massEventId)!}
                incidents={entry.incidents}
                collapsed={collapsed.has(entry.massEventId)}
                onToggle={() => toggle(entry.massEventId)}
                selectedId={selectedId}
                onSelect={onSelect}
              />
            ),
          )}
        </ol>
      )}
    </section>
  );
}

function QueueFilters({ filter, onChange, hidden }: { filter: QueueFilter; onChange: (f: QueueFilter) => void; hidden: number }) {
  const { t, i18n } = useTranslation();
  const districts = useConsole((s) => s.districts);
  const active = filter.districtId !== null || filter.status !== null || filter.tier !== null;
  return (
    <div className="filters" role="group" aria-label={t("filters.label")} data-testid="queue-filters">
      <select
        className="select select--small"
        aria-label={t("filters.district")}
        value={filter.districtId ?? ""}
        onChange={(e) => onChange({ ...filter, districtId: e.target.value === "" ? null : Number(e.target.value) })}
        data-testid="filter-district"
        data-shortcut="f"
      >
        <option value="">{t("filters.allDistricts")}</option>
        {districts.map((d) => (
          <option key={d.id} value={d.id}>
            {i18n.language === "en" ? d.nameEn || d.name : d.name}
          </option>
        ))}
      </select>
      <select
        className="select select--small"
        aria-label={t("filters.status")}
        value={filter.status ?? ""}
        onChange={(e) => onChange({ ...filter, status: e.target.value === "" ? null : (e.target.value as IncidentView["status"]) })}
        data-testid="filter-status"
      >
        <option value="">{t("filters.allStatuses")}</option>
        {openStatuses.map((s) => (
          <option key={s} value={s}>
            {t(`status.${s}`)}
          </option>
        ))}
      </select>
      <select
        className="select select--small"
        aria-label={t("filters.tier")}
        value={filter.tier ?? ""}
        onChange={(e) => onChange({ ...filter, tier: e.target.value === "" ? null : e.target.value === "none" ? "none" : Number(e.target.value) })}
        data-testid="filter-tier"
      >
        <option value="">{t("filters.allTiers")}</option>
        <option value="none">{t("filters.unassigned")}</option>
        {tiers.map((tier) => (
          <option key={tier} value={tier}>
            {t("filters.tierN", { tier })}
          </option>
        ))}
      </select>
      {active && (
        <button type="button" className="filters__clear" onClick={() => onChange(noFilter)} data-testid="filter-clear" title={t("filters.hidden", { count: hidden })}>
          {t("filters.clear")} ({hidden})
        </button>
      )}
    </div>
  );
}

interface MassGroupProps {
  massEvent: MassEventView;
  incidents: IncidentView[];
  collapsed: boolean;
  onToggle: () => void;
  selectedId: number | null;
  onSelect: (id: number) => void;
}

function MassGroup({ massEvent, incidents, collapsed, onToggle, selectedId, onSelect }: MassGroupProps) {
  const { t } = useTranslation();
  return (
    <li className="mass" data-testid="mass-group" data-mass-event-id={massEvent.id}>
      <button type="button" className="mass__head" onClick={onToggle} aria-expanded={!collapsed}>
        <span className="mass__caret" aria-hidden="true">
          {collapsed ? "▸" : "▾"}
        </span>
        <span className="badge badge--kind-entrapment">{t("massEvent.title")}</span>
        <span className="mass__title">{massEvent.title}</span>
        <span className="mass__count">{t("massEvent.open", { count: incidents.length })}</span>
      </button>
      {!collapsed && (
        <ol className="mass__list">
          {incidents.map((incident) => (
            <IncidentCard key={incident.id} incident={incident} selected={incident.id === selectedId} onSelect={onSelect} />
          ))}
        </ol>
      )}
    </li>
  );
}

interface CardProps {
  incident: IncidentView;
  selected: boolean;
  onSelect: (id: number) => void;
}

const IncidentCard = memo(function IncidentCard({ incident, selected, onSelect }: CardProps) {
  const { t, i18n } = useTranslation();
  const districtName = useDistrictName();
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
          <span>{districtName(incident.district)}</span>
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
