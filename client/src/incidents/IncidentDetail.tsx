import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { ElevatorSection } from "../elevators/ElevatorCardView.tsx";
import { useTranslation } from "react-i18next";
import type { TFunction } from "i18next";
import type { CallView, IncidentView, TimelineEventView, TeamView } from "../../../server/contracts/index.ts";
import { causeClasses, computeIntervals, entryDelayS, isOpen, type ResponseIntervals } from "../../../server/contracts/index.ts";
import { TimelinePhoto } from "./TimelinePhoto.tsx";
import { api, shortError, type CauseClass, type StepOutcome } from "../api.ts";
import { useRequest } from "../useRequest.ts";
import { can, consoleActions, timelineEntries, useConsole } from "../realtime.ts";
import { formatDateTime, formatElapsed, formatTime, slaLevel, useNow } from "../time.ts";
import { DispatchBoard } from "../dispatch/DispatchBoard.tsx";
import { factsOf, formatInterval, mergeTimeline, outcomeOf, planActions, teamIdOf, type ActionPlan } from "./nextActions.ts";
import { actorLabel, reasonText, timelineLabel } from "./timelineText.ts";
import { useSubmit, type ApplyIncident } from "./useSubmit.ts";
import "./detail.css";
import { useDistrictName } from "../i18n/places.ts";

/**
 * The selected incident: facts, response intervals, the dispatcher's actions, the dispatch board and
 * the timeline. Open incidents render from the live store; one that has just ended drops out of it and
 * is fetched once to be shown read-only with its final status.
 */
export function IncidentDetail({ incidentId }: { incidentId: number }) {
  const { t } = useTranslation();
  const live = useConsole((s) => s.incidents.get(incidentId));
  // Closed here: the REST answer is the final state. Closed elsewhere (or opened after it ended): fetched once.
  const [closedHere, setClosedHere] = useState<IncidentView | null>(null);
  const missing = live === undefined;
  const fetched = useRequest(missing && !closedHere ? (signal) => api.incident(incidentId, signal) : null, [incidentId, missing, closedHere]);
  const loadError = fetched.error;

  const apply = useCallback<ApplyIncident>((view) => {
    consoleActions.upsertIncident(view);
    if (!isOpen(view.status)) setClosedHere(view);
  }, []);

  const incident = live ?? closedHere ?? fetched.data;
  if (!incident) {
    return (
      <div className="detail detail--loading" data-testid="incident-detail" data-incident-id={incidentId}>
        {loadError ? <p className="form-error">{t("detail.loadFailed", { error: loadError })}</p> : <p className="panel__empty">{t("detail.loading")}</p>}
      </div>
    );
  }
  return <DetailBody incident={incident} apply={apply} />;
}

function DetailBody({ incident, apply }: { incident: IncidentView; apply: ApplyIncident }) {
  const { t } = useTranslation();
  const open = isOpen(incident.status);
  const timeline = useTimeline(incident.id);
  const intervals = useMemo(
    () =>
      computeIntervals(
        new Date(incident.reportedAt),
        timeline.events.map((e) => ({ at: new Date(e.at), toStatus: e.toStatus as IncidentView["status"] | null, type: e.type })),
      ),
    [incident.reportedAt, timeline.events],
  );
  const plan = useMemo(() => planActions(incident), [incident]);
  // Supervisors and company admins read; the centre's operators act (the server refuses the rest anyway).
  const operator = useConsole((s) => can(s.role, "operate"));

  return (
    <div
      className={`detail${open ? "" : " detail--ended"}`}
      data-testid="incident-detail"
      data-incident-id={incident.id}
      data-status={incident.status}
    >
      <DetailHeader incident={incident} />
      <Intervals intervals={intervals} />
      <Supervision incident={incident} events={timeline.events} />
      {open && !operator && (
        <>
          <p className="detail__readonly" data-testid="detail-readonly-role">
            {t("detail.readOnlyRole")}
          </p>
          <ElevatorSection rescueCode={incident.elevator.rescueCode} />
        </>
      )}
      {open && operator ? (
        <>
          <h3 className="section-title">{t("detail.actionsTitle")}</h3>
          <IncidentActions incident={incident} plan={plan} apply={apply} />
          {plan.actions.has("dispatch") && <DispatchBoard incident={incident} apply={apply} />}
          <h3 className="section-title">{t("detail.contactTitle")}</h3>
          <ContactActions incident={incident} apply={apply} />
          <ElevatorSection rescueCode={incident.elevator.rescueCode} />
        </>
      ) : (
        !open && (
          <p className="detail__readonly" data-testid="detail-readonly">
            {t("detail.readOnly")}
          </p>
        )
      )}
      <Timeline events={timeline.events} calls={timeline.calls} error={timeline.error} />
    </div>
  );
}

// ---------------------------------------------------------------- header

function DetailHeader({ incident }: { incident: IncidentView }) {
  const { t, i18n } = useTranslation();
  const districtName = useDistrictName();
  const { elevator } = incident;
  const limitMinutes = Math.round((Date.parse(incident.arrivalDeadlineAt) - Date.parse(incident.reportedAt)) / 60000);
  const count = (n: number | null) => (n === null ? t("detail.unknownCount") : t("detail.persons", { count: n }));
  return (
    <header className="detail__header">
      <div className="detail__title">
        <span className={`badge badge--kind-${incident.kind}`}>{t(`kind.${incident.kind}`)}</span>
        <span className="detail__code mono">{incident.code}</span>
        <span className={`badge badge--status badge--${incident.status}`} data-testid="detail-status" data-status={incident.status}>
          {t(`status.${incident.status}`)}
        </span>
        <DetailClock incident={incident} limitMinutes={limitMinutes} />
      </div>
      <div className="detail__address" title={t("detail.address")}>
        {elevator.address}
      </div>
      <div className="detail__site" title={t("detail.site")}>
        {elevator.siteName} · {elevator.unitNo}
      </div>
      <dl className="detail__facts" data-testid="incident-facts">
        <Fact label={t("detail.rescueCode")}>
          <strong className="mono">{elevator.rescueCode}</strong>
        </Fact>
        <Fact label={t("detail.district")}>{districtName(incident.district)}</Fact>
        <Fact label={t("detail.trapped")}>
          <span className={incident.trappedCount ? "detail__count--danger" : undefined}>{count(incident.trappedCount)}</span>
        </Fact>
        <Fact label={t("detail.injured")}>
          <span className={incident.injuredCount ? "detail__count--danger" : undefined}>{count(incident.injuredCount)}</span>
        </Fact>
        <Fact label={t("detail.source")}>{t(`source.${incident.source}`)}</Fact>
        {incident.closedAt && (
          <Fact label={t(`status.${incident.status}`)}>{formatTime(incident.closedAt, i18n.language)}</Fact>
        )}
        {incident.causeClass && (
          <Fact label={t("detail.cause")} wide>
            <span data-testid="detail-cause">
              {t(`cause.${incident.causeClass}`, { defaultValue: incident.causeClass })}
              {incident.causeText ? ` · ${incident.causeText}` : ""}
            </span>
          </Fact>
        )}
      </dl>
      {(incident.alarmCodes.length > 0 || incident.deviceOffline) && (
        <div className="detail__alarms" aria-label={t("detail.alarms")}>
          {incident.alarmCodes.map((code) => (
            <span key={code} className={`chip${code === "trapped" ? " chip--danger" : ""}`}>
              {t(`alarm.${code}`, { defaultValue: code })}
            </span>
          ))}
          {incident.deviceOffline && (
            <span className="chip chip--muted" data-testid="detail-device-offline">
              {t("detail.deviceOffline")}
            </span>
          )}
        </div>
      )}
    </header>
  );
}

function Fact({ label, wide = false, children }: { label: string; wide?: boolean; children: ReactNode }) {
  return (
    <div className={`detail__fact${wide ? " detail__fact--wide" : ""}`}>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function DetailClock({ incident, limitMinutes }: { incident: IncidentView; limitMinutes: number }) {
  const { t } = useTranslation();
  const now = useNow();
  const end = incident.closedAt ? Date.parse(incident.closedAt) : now;
  const level = slaLevel(incident.reportedAt, incident.arrivalDeadlineAt, incident.onSceneAt, end);
  return (
    <span
      className={`clock clock--${level} detail__clock`}
      data-testid="detail-clock"
      data-sla={level}
      title={`${t("detail.elapsed")} · ${t("detail.limit", { minutes: limitMinutes })}`}
    >
      {formatElapsed(end - Date.parse(incident.reportedAt))}
    </span>
  );
}

const intervalKeys: readonly (keyof ResponseIntervals)[] = [
  "callProcessingS",
  "acceptanceS",
  "travelS",
  "arrivalS",
  "extricationS",
  "entrapmentS",
];

function Intervals({ intervals }: { intervals: ResponseIntervals }) {
  const { t } = useTranslation();
  return (
    <section className="detail__intervals" aria-label={t("detail.intervalsTitle")} data-testid="intervals">
      {intervalKeys.map((key) => (
        <div key={key} className={`interval${intervals[key] === null ? " interval--pending" : ""}`} data-interval={key}>
          <span className="interval__label">{t(`detail.intervals.${key}`)}</span>
          <span className="interval__value mono">{formatInterval(intervals[key])}</span>
        </div>
      ))}
    </section>
  );
}

// ---------------------------------------------------------------- actions

const callbackOutcomes: readonly StepOutcome[] = ["reached", "no_answer", "reassured"];
type EndForm = "close" | "cancelled" | "false_alarm" | null;

function IncidentActions({ incident, plan, apply }: { incident: IncidentView; plan: ActionPlan; apply: ApplyIncident }) {
  const { t } = useTranslation();
  const submit = useSubmit();
  const [arriveReason, setArriveReason] = useState(() => t("detail.arriveDefaultReason"));
  const [endForm, setEndForm] = useState<EndForm>(null);
  const { actions, offerToAccept, assignedOffer } = plan;
  const id = incident.id;

  const transition = (to: IncidentView["status"]) =>
    submit.run(async () => apply((await api.transition(id, { to })).incident));

  return (
    <div className="detail__actions" data-testid="detail-actions">
      <div className="action-row">
        {actions.has("accept") && offerToAccept && (
          <button
            type="button"
            className="btn btn--primary btn--small"
            data-testid="action-accept"
            data-shortcut="a"
            disabled={submit.busy}
            title={t("detail.acceptTitle", { team: offerToAccept.teamName })}
            onClick={() => void submit.run(async () => apply(await api.acceptOffer(offerToAccept.id)))}
          >
            {t("detail.accept")} · {offerToAccept.teamName} <kbd>A</kbd>
          </button>
        )}
        {actions.has("depart") && assignedOffer && (
          <button
            type="button"
            className="btn btn--primary btn--small"
            data-testid="action-depart"
            disabled={submit.busy}
            title={t("detail.departTitle", { team: assignedOffer.teamName })}
            onClick={() => void submit.run(async () => apply(await api.departOffer(assignedOffer.id)))}
          >
            {t("detail.depart")} · {assignedOffer.teamName}
          </button>
        )}
        {actions.has("release") && (
          <button
            type="button"
            className={`btn btn--small${incident.status === "on_scene" ? " btn--primary" : ""}`}
            data-testid="action-release"
            disabled={submit.busy}
            onClick={() => void transition("released")}
          >
            {t("detail.release")}
          </button>
        )}
        {actions.has("close") && (
          <button
            type="button"
            className={`btn btn--small${endForm === "close" ? " btn--active" : ""}`}
            data-testid="action-close"
            data-shortcut="e"
            disabled={submit.busy}
            onClick={() => setEndForm(endForm === "close" ? null : "close")}
          >
            {t("detail.close")} <kbd>E</kbd>
          </button>
        )}
        {actions.has("cancel") && (
          <button
            type="button"
            className={`btn btn--small${endForm === "cancelled" ? " btn--active" : ""}`}
            data-testid="action-cancel"
            disabled={submit.busy}
            onClick={() => setEndForm(endForm === "cancelled" ? null : "cancelled")}
          >
            {t("detail.cancel")}
          </button>
        )}
        {actions.has("false_alarm") && (
          <button
            type="button"
            className={`btn btn--small${endForm === "false_alarm" ? " btn--active" : ""}`}
            data-testid="action-false-alarm"
            disabled={submit.busy}
            onClick={() => setEndForm(endForm === "false_alarm" ? null : "false_alarm")}
          >
            {t("detail.falseAlarm")}
          </button>
        )}
      </div>

      {actions.has("arrive") && assignedOffer && (
        <div className="action-row">
          <input
            className="input action-row__grow"
            data-testid="arrive-reason"
            aria-label={t("detail.arriveReason")}
            value={arriveReason}
            onChange={(e) => setArriveReason(e.target.value)}
          />
          <button
            type="button"
            className="btn btn--primary btn--small"
            data-testid="action-arrive"
            disabled={submit.busy || arriveReason.trim().length < 2}
            onClick={() => void submit.run(async () => apply(await api.confirmArrival(assignedOffer.id, arriveReason.trim())))}
          >
            {t("detail.arrive")} · {assignedOffer.teamName}
          </button>
        </div>
      )}

      {endForm && (
        <EndIncidentForm key={endForm} incident={incident} form={endForm} apply={apply} onDone={() => setEndForm(null)} />
      )}

      {submit.error && (
        <p className="form-error" role="alert" data-testid="action-error">
          {submit.error}
        </p>
      )}
    </div>
  );
}

/** Talking to the people: the passenger callback and free notes, allowed at every open step. */
function ContactActions({ incident, apply }: { incident: IncidentView; apply: ApplyIncident }) {
  const { t } = useTranslation();
  const submit = useSubmit();
  const [outcome, setOutcome] = useState<StepOutcome>("reached");
  const id = incident.id;
  return (
    <div className="detail__actions" data-testid="contact-actions">
      <div className="action-row">
        <select
          className="select"
          data-testid="callback-outcome"
          aria-label={t("detail.callbackOutcome")}
          value={outcome}
          onChange={(e) => setOutcome(e.target.value as StepOutcome)}
        >
          {callbackOutcomes.map((o) => (
            <option key={o} value={o}>
              {t(`stepOutcome.${o}`)}
            </option>
          ))}
        </select>
        <button
          type="button"
          className="btn btn--small"
          data-testid="action-callback"
          data-shortcut="c"
          disabled={submit.busy}
          onClick={() => void submit.run(async () => apply((await api.step(id, { type: "passenger_callback", outcome })).incident))}
        >
          {t("detail.callback")} <kbd>C</kbd>
        </button>
      </div>
      {submit.error && (
        <p className="form-error" role="alert" data-testid="callback-error">
          {submit.error}
        </p>
      )}
      <CountsForm incident={incident} apply={apply} />
      <NoteForm incidentId={id} apply={apply} />
    </div>
  );
}

const parseCount = (text: string): number | undefined => (/^\d{1,3}$/.test(text.trim()) ? Number(text.trim()) : undefined);

/** Trapped and injured counts as the caller or the team reports them; blank fields stay unchanged. */
function CountsForm({ incident, apply }: { incident: IncidentView; apply: ApplyIncident }) {
  const { t } = useTranslation();
  const submit = useSubmit();
  const [trapped, setTrapped] = useState(incident.trappedCount?.toString() ?? "");
  const [injured, setInjured] = useState(incident.injuredCount?.toString() ?? "");
  const trappedCount = parseCount(trapped);
  const injuredCount = parseCount(injured);
  const changed =
    (trappedCount !== undefined && trappedCount !== incident.trappedCount) || (injuredCount !== undefined && injuredCount !== incident.injuredCount);
  return (
    <>
      <div className="action-row counts-form">
        <label className="counts-form__field">
          {t("detail.trapped")}
          <input className="input" inputMode="numeric" data-testid="counts-trapped" value={trapped} onChange={(e) => setTrapped(e.target.value)} />
        </label>
        <label className="counts-form__field">
          {t("detail.injured")}
          <input className="input" inputMode="numeric" data-testid="counts-injured" value={injured} onChange={(e) => setInjured(e.target.value)} />
        </label>
        <button
          type="button"
          className="btn btn--small"
          data-testid="counts-save"
          disabled={submit.busy || !changed}
          onClick={() =>
            void submit.run(async () =>
              apply(
                (
                  await api.step(incident.id, {
                    type: "counts",
                    ...(trappedCount !== undefined ? { trappedCount } : {}),
                    ...(injuredCount !== undefined ? { injuredCount } : {}),
                  })
                ).incident,
              ),
            )
          }
        >
          {t("detail.countsSave")}
        </button>
      </div>
      {submit.error && (
        <p className="form-error" role="alert" data-testid="counts-error">
          {submit.error}
        </p>
      )}
    </>
  );
}

function NoteForm({ incidentId, apply }: { incidentId: number; apply: ApplyIncident }) {
  const { t } = useTranslation();
  const submit = useSubmit();
  const [note, setNote] = useState("");
  const save = async () => {
    const text = note.trim();
    if (!text) return;
    const ok = await submit.run(async () => apply((await api.step(incidentId, { type: "note", note: text })).incident));
    // Only what was saved is cleared: a failed save keeps the dispatcher's words.
    if (ok) setNote((current) => (current.trim() === text ? "" : current));
  };
  return (
    <div className="note-form">
      <textarea
        className="textarea"
        rows={2}
        data-testid="note-input"
        data-shortcut="m"
        aria-label={t("detail.note")}
        placeholder={t("detail.notePlaceholder")}
        value={note}
        onChange={(e) => setNote(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            void save();
          }
        }}
      />
      <button
        type="button"
        className="btn btn--small"
        data-testid="note-save"
        disabled={submit.busy || note.trim() === ""}
        onClick={() => void save()}
      >
        {t("detail.noteSave")} <kbd>M</kbd>
      </button>
      {submit.error && (
        <p className="form-error" role="alert" data-testid="note-error">
          {submit.error}
        </p>
      )}
    </div>
  );
}

function EndIncidentForm({
  incident,
  form,
  apply,
  onDone,
}: {
  incident: IncidentView;
  form: Exclude<EndForm, null>;
  apply: ApplyIncident;
  onDone: () => void;
}) {
  const { t } = useTranslation();
  const submit = useSubmit();
  const [cause, setCause] = useState<CauseClass | "">((incident.causeClass as CauseClass | null) ?? "");
  const [causeText, setCauseText] = useState(incident.causeText ?? "");
  const [reason, setReason] = useState("");
  const firstField = useRef<HTMLSelectElement & HTMLInputElement>(null);
  useEffect(() => firstField.current?.focus(), []);

  const ready = form === "close" ? cause !== "" : reason.trim() !== "";
  const send = async () => {
    if (!ready) return;
    const ok = await submit.run(async () => {
      const body =
        form === "close"
          ? { to: "closed" as const, causeClass: cause as CauseClass, ...(causeText.trim() ? { causeText: causeText.trim() } : {}) }
          : { to: form, reason: reason.trim() };
      apply((await api.transition(incident.id, body)).incident);
    });
    if (ok) onDone();
  };

  return (
    <form
      className="end-form"
      data-testid={`end-form-${form}`}
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
      onKeyDown={(e) => {
        if (e.key === "Escape") onDone();
      }}
    >
      {form === "close" ? (
        <>
          <label className="field">
            <span className="field__label">{t("detail.closeCause")}</span>
            <select
              ref={firstField}
              className="select"
              data-testid="close-cause"
              value={cause}
              onChange={(e) => setCause(e.target.value as CauseClass | "")}
            >
              <option value="" disabled>
                {t("detail.selectCause")}
              </option>
              {causeClasses.map((c) => (
                <option key={c} value={c}>
                  {t(`cause.${c}`)}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span className="field__label">{t("detail.closeCauseText")}</span>
            <input className="input" data-testid="close-cause-text" value={causeText} onChange={(e) => setCauseText(e.target.value)} />
          </label>
        </>
      ) : (
        <label className="field">
          <span className="field__label">{t("detail.endReason")}</span>
          <input
            ref={firstField}
            className="input"
            data-testid="end-reason"
            placeholder={t("detail.endReasonPlaceholder")}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
          />
        </label>
      )}
      <div className="action-row">
        <button
          type="submit"
          className={`btn btn--small ${form === "close" ? "btn--primary" : "btn--danger"}`}
          data-testid={form === "close" ? "close-submit" : "end-submit"}
          disabled={submit.busy || !ready}
        >
          {form === "close" ? t("detail.closeSubmit") : `${t(form === "cancelled" ? "detail.cancel" : "detail.falseAlarm")} · ${t("detail.endSubmit")}`}
        </button>
        <button type="button" className="btn btn--small" onClick={onDone}>
          {t("detail.back")}
        </button>
      </div>
      {submit.error && (
        <p className="form-error" role="alert" data-testid="end-error">
          {submit.error}
        </p>
      )}
    </form>
  );
}

// ---------------------------------------------------------------- supervision

/**
 * What a supervisor checks first: the arrival deadline and whether it holds, the escalations the SLA
 * scheduler made, and which team was offered the incident when (and how each offer ended).
 */
function Supervision({ incident, events }: { incident: IncidentView; events: readonly TimelineEventView[] }) {
  const { t } = useTranslation();
  const now = useNow();
  const level = slaLevel(incident.reportedAt, incident.arrivalDeadlineAt, incident.onSceneAt, now);
  const deadline = Date.parse(incident.arrivalDeadlineAt);
  const met = incident.onSceneAt !== null ? Date.parse(incident.onSceneAt) <= deadline : null;
  const state = met === true ? "met" : met === false ? "missed" : now > deadline ? "missed" : level;
  const escalations = events.filter((e) => e.type === "sla_escalated" || e.type === "sla_warning" || e.type === "sla_breached");
  const offers = [...incident.offers].sort((a, b) => Date.parse(a.offeredAt) - Date.parse(b.offeredAt));
  return (
    <section className="detail__supervision" data-testid="supervision" data-sla-state={state}>
      <h3 className="section-title">{t("detail.supervision.title")}</h3>
      <dl className="detail__facts">
        <Fact label={t("detail.supervision.deadline")}>
          <span data-testid="supervision-deadline">{formatDateTime(incident.arrivalDeadlineAt)}</span>
        </Fact>
        <Fact label={t("detail.supervision.state")}>
          <span className={`chip chip--sla-${state}`} data-testid="supervision-state">
            {t(`detail.supervision.states.${state}`)}
          </span>
        </Fact>
      </dl>
      {escalations.length > 0 && (
        <ul className="detail__escalations" data-testid="supervision-escalations">
          {escalations.map((e) => (
            <li key={e.id}>
              <span className="mono">{formatTime(e.at)}</span> {timelineLabel(e, t)}
              {e.reason && <span className="detail__muted"> · {reasonText(e.reason, t)}</span>}
            </li>
          ))}
        </ul>
      )}
      {offers.length > 0 && (
        <ul className="detail__offer-history" data-testid="supervision-offers">
          {offers.map((o) => (
            <li key={o.id}>
              <span className="mono">{formatTime(o.offeredAt)}</span> {o.teamName}{" "}
              <span className="detail__muted">
                {t("queue.tier", { tier: o.tier })}
                {o.backup ? ` · ${t("queue.backup")}` : ""} · {t(`offerStatus.${o.status}`, { defaultValue: o.status })}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

// ---------------------------------------------------------------- timeline

interface TimelineState {
  events: TimelineEventView[];
  calls: CallView[];
  error: string | null;
}

/** Fetched on mount and after every resync; live entries are merged in as the socket delivers them. */
function useTimeline(incidentId: number): TimelineState {
  const generation = useConsole((s) => s.syncGeneration);
  const [events, setEvents] = useState<TimelineEventView[]>([]);
  const [calls, setCalls] = useState<CallView[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [callsStale, setCallsStale] = useState(0);

  useEffect(
    () =>
      timelineEntries.subscribe(({ incidentId: entryIncident, ...entry }) => {
        if (entryIncident !== incidentId) return;
        setEvents((current) => mergeTimeline(current, [entry]));
        // The call list lives only in the full timeline: fetch it again when a call is attached.
        if (entry.type === "call_attached") setCallsStale((n) => n + 1);
      }),
    [incidentId],
  );

  useEffect(() => {
    const abort = new AbortController();
    api
      .timeline(incidentId, abort.signal)
      .then((view) => {
        setEvents((current) => mergeTimeline(view.events, current));
        setCalls(view.calls);
        setError(null);
      })
      .catch((err: unknown) => {
        if (!abort.signal.aborted) setError(shortError(err));
      });
    return () => abort.abort();
  }, [incidentId, generation, callsStale]);

  return { events, calls, error };
}

function Timeline({ events, calls, error }: TimelineState) {
  const { t, i18n } = useTranslation();
  const teams = useConsole((s) => s.teams);
  // Newest first: the latest step is what a dispatcher looks for.
  const newestFirst = useMemo(() => [...events].reverse(), [events]);
  return (
    <section className="detail__timeline">
      <h3 className="section-title">{t("detail.timelineTitle")}</h3>
      {error && <p className="form-error">{t("detail.timelineFailed", { error })}</p>}
      {calls.length > 0 && (
        <ul className="detail__calls" data-testid="timeline-calls" aria-label={t("detail.callsTitle")}>
          {calls.map((call) => (
            <li key={call.id} className="detail__call">
              <span className="detail__muted">{t("detail.callsTitle")}</span>
              <span className="mono">{call.callerNumber}</span>
              <span className="detail__muted">{t("detail.callRang", { time: formatTime(call.ringingAt, i18n.language) })}</span>
              {call.line && <span className="detail__muted">{call.line}</span>}
            </li>
          ))}
        </ul>
      )}
      {newestFirst.length === 0 ? (
        <p className="panel__empty">{t("detail.timelineEmpty")}</p>
      ) : (
        <ol className="timeline" data-testid="timeline">
          {newestFirst.map((entry) => (
            <TimelineItem key={entry.id} entry={entry} teams={teams} t={t} language={i18n.language} />
          ))}
        </ol>
      )}
    </section>
  );
}

function TimelineItem({
  entry,
  teams,
  t,
  language,
}: {
  entry: TimelineEventView;
  teams: ReadonlyMap<number, TeamView>;
  t: TFunction;
  language: string;
}) {
  const teamId = teamIdOf(entry);
  const teamName = teamId !== null ? (teams.get(teamId)?.name ?? `#${teamId}`) : null;
  const outcome = outcomeOf(entry);
  const facts = factsOf(entry);
  const actor = actorLabel(entry, t, teams);
  // Sent late from a phone that was offline: the entry stands at the time it happened.
  const delayS = entryDelayS(entry);
  const photoId = entry.type === "photo" ? Number((entry.data as { photoId?: unknown } | null)?.photoId) || null : null;
  return (
    <li
      className={`timeline__entry timeline__entry--${entry.toStatus ? "status" : entry.type}`}
      data-testid="timeline-entry"
      data-type={entry.type}
      data-to-status={entry.toStatus ?? undefined}
    >
      <time className="timeline__time mono" dateTime={entry.at}>
        {formatTime(entry.at, language)}
      </time>
      <div className="timeline__body">
        <span className="timeline__label">{timelineLabel(entry, t)}</span>
        {teamName && <span className="timeline__team">{teamName}</span>}
        {outcome && <span className="chip">{t(`stepOutcome.${outcome}`, { defaultValue: outcome })}</span>}
        {facts.trappedCount !== undefined && (
          <span className="chip">
            {t("detail.trapped")} {t("detail.persons", { count: facts.trappedCount })}
          </span>
        )}
        {facts.injuredCount !== undefined && (
          <span className="chip">
            {t("detail.injured")} {t("detail.persons", { count: facts.injuredCount })}
          </span>
        )}
        {facts.causeClass && (
          <span className="chip">
            {t(`cause.${facts.causeClass}`, { defaultValue: facts.causeClass })}
            {facts.causeText ? ` · ${facts.causeText}` : ""}
          </span>
        )}
        <span className="timeline__actor detail__muted">{actor}</span>
        {delayS !== null && (
          <span className="chip chip--late" data-testid="timeline-delayed" title={t("detail.delayedTitle")}>
            {t("detail.delayed", { delay: formatInterval(delayS) })}
          </span>
        )}
        {photoId !== null && <TimelinePhoto photoId={photoId} t={t} />}
        {entry.reason && <div className="timeline__reason">{reasonText(entry.reason, t)}</div>}
      </div>
    </li>
  );
}
