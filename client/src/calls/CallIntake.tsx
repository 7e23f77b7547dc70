import { useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import type { CallView, ElevatorCandidate, ElevatorCard, LookupResult } from "../../../server/contracts/index.ts";
import { api, shortError } from "../api.ts";
import { consoleActions, useConsole } from "../realtime.ts";
import { formatDateTime, formatElapsed, formatTime, useNow } from "../time.ts";
import { ElevatorCardView } from "../elevators/ElevatorCardView.tsx";
import { useSubmit } from "../incidents/useSubmit.ts";
import { useDistrictName } from "../i18n/places.ts";
import { callClock, callState, intakeOrder } from "./callState.ts";

export { callState };

const RESCUE_CODE = /^\d{6}$/;

/**
 * Call intake: calls pop up here from the telephony events (or are entered by hand); the dispatcher
 * identifies the elevator by rescue code (or address) and opens the incident in one action.
 */
export function CallIntake() {
  const { t } = useTranslation();
  const calls = useConsole((s) => s.calls);
  const selectedCallId = useConsole((s) => s.selectedCallId);
  const [manual, setManual] = useState(false);
  const [showHandled, setShowHandled] = useState(false);
  const sorted = useMemo(() => [...calls.values()].sort(intakeOrder), [calls]);
  const unhandled = sorted.filter((c) => c.incidentId === null);
  const handled = sorted.filter((c) => c.incidentId !== null);
  const selected = selectedCallId !== null ? calls.get(selectedCallId) : undefined;

  const row = (call: CallView) => (
    <CallRow
      key={call.id}
      call={call}
      selected={call.id === selectedCallId}
      onSelect={() => {
        setManual(false);
        consoleActions.selectCall(call.id);
      }}
    />
  );

  // The list scrolls inside its own band; the intake below keeps its place however many calls come in.
  return (
    <div className="intake" data-testid="call-intake">
      <div className="intake__bar">
        {sorted.length > 0 && (
          <span className="intake__count muted" data-testid="call-count">
            {t("intake.callCount", { open: unhandled.length, handled: handled.length })}
          </span>
        )}
        <button
          type="button"
          className="btn btn--small"
          onClick={() => {
            consoleActions.selectCall(null);
            setManual(true);
          }}
          data-testid="manual-call"
          // With a call open, N goes to its code field instead (declared there).
          data-shortcut={selected || manual ? undefined : "n"}
        >
          {t("intake.newCall")} <kbd>N</kbd>
        </button>
      </div>

      {sorted.length > 0 && (
        <div className="call-list" data-testid="call-list">
          <ul className="call-list__open">{unhandled.map(row)}</ul>
          {handled.length > 0 && (
            <div className="call-list__handled">
              <button type="button" className="link call-list__toggle" onClick={() => setShowHandled((v) => !v)} aria-expanded={showHandled} data-testid="handled-toggle">
                {showHandled ? "▾" : "▸"} {t("intake.handledCalls", { count: handled.length })}
              </button>
              {showHandled && <ul>{handled.map(row)}</ul>}
            </div>
          )}
        </div>
      )}

      <div className="intake__work">
        {selected && selected.incidentId !== null ? (
          <LinkedCall call={selected} />
        ) : selected ? (
          <IntakeWorkspace key={`call-${selected.id}`} call={selected} />
        ) : manual ? (
          <IntakeWorkspace key="manual" call={null} onDone={() => setManual(false)} />
        ) : (
          <p className="panel__empty">{sorted.length === 0 ? t("intake.noCalls") : t("intake.pickCall")}</p>
        )}
      </div>
    </div>
  );
}

function CallRow({ call, selected, onSelect }: { call: CallView; selected: boolean; onSelect: () => void }) {
  const { t } = useTranslation();
  const now = useNow();
  const clock = callClock(call, now);
  const incidentCode = useConsole((s) => (call.incidentId !== null ? (s.incidents.get(call.incidentId)?.code ?? null) : null));
  const handled = call.incidentId !== null;
  return (
    <li>
      <button
        type="button"
        className={`call-row call-row--${clock.state}${handled ? " call-row--handled" : ""}${selected ? " call-row--selected" : ""}`}
        onClick={onSelect}
        data-testid="call-row"
        data-call-id={call.id}
        data-state={clock.state}
        data-handled={handled ? "true" : "false"}
      >
        <span className={`call-row__state call-row__state--${clock.state}`}>{t(`intake.state.${clock.state}`)}</span>
        <span className="call-row__number mono">{call.callerNumber}</span>
        {handled ? (
          <span className="chip" data-testid="call-row-incident">
            {t("intake.inIncident", { code: incidentCode ?? `#${call.incidentId}` })}
          </span>
        ) : (
          call.line && <span className="muted">{call.line}</span>
        )}
        <span className="call-row__time mono" data-testid="call-clock">
          {formatElapsed(clock.ms)}
        </span>
      </button>
    </li>
  );
}

interface WorkspaceProps {
  /** null: a call entered by hand, created together with its incident. */
  call: CallView | null;
  onDone?: () => void;
}

function IntakeWorkspace({ call, onDone }: WorkspaceProps) {
  const { t } = useTranslation();
  const [callerNumber, setCallerNumber] = useState(call?.callerNumber ?? "");
  const [query, setQuery] = useState(call?.rescueCode ?? "");
  const [trapped, setTrapped] = useState("");
  const [card, setCard] = useState<ElevatorCard | null>(null);
  const [lookup, setLookup] = useState<LookupResult | null>(null);
  const [searching, setSearching] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = useSubmit();
  const codeRef = useRef<HTMLInputElement>(null);
  const numberRef = useRef<HTMLInputElement>(null);

  // The dispatcher types the code while the caller reads it out: focus it as soon as the call pops.
  useEffect(() => {
    (call ? codeRef : numberRef).current?.focus();
  }, [call]);

  // A full rescue code shows its card at once; anything else is a (debounced) fuzzy lookup.
  useEffect(() => {
    const text = query.replace(/[\s-]/g, "");
    setError(null);
    if (text.length === 0) {
      setCard(null);
      setLookup(null);
      return;
    }
    const abort = new AbortController();
    const isCode = RESCUE_CODE.test(text);
    if (!isCode && query.trim().length < 2) return;
    if (!isCode && /^\d{1,5}$/.test(text)) return; // still typing a code
    if (!isCode) setCard(null);
    const timer = setTimeout(
      () => {
        setSearching(true);
        const lookupDone = api.lookup(isCode ? text : query.trim(), abort.signal, call?.callerNumber).then((result) => {
          if (!abort.signal.aborted) setLookup(result);
        });
        const cardDone = isCode
          ? api.elevatorCard(text, abort.signal).then(
              (value) => !abort.signal.aborted && setCard(value),
              () => !abort.signal.aborted && setCard(null),
            )
          : Promise.resolve();
        Promise.all([lookupDone, cardDone])
          .catch((err: unknown) => {
            if (!abort.signal.aborted) setError(shortError(err));
          })
          .finally(() => {
            if (!abort.signal.aborted) setSearching(false);
          });
      },
      isCode ? 0 : 250,
    );
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [query]);

  const chosen: ElevatorCandidate | undefined = card ? lookup?.candidates.find((c) => c.id === card.id) : undefined;
  const openIncidentId = chosen?.openIncidentId ?? null;
  const openIncidentCode = useConsole((s) => (openIncidentId !== null ? (s.incidents.get(openIncidentId)?.code ?? null) : null));
  const canOpen = !!card && !submit.busy && (call !== null || /^\+?[0-9][0-9 -]{2,24}$/.test(callerNumber.trim()));

  const openIncident = async (event?: FormEvent) => {
    event?.preventDefault();
    if (!card || !canOpen) return;
    const trappedCount = trapped === "" ? undefined : Number(trapped);
    await submit.run(async () => {
      const outcome = call
        ? await api.openIncidentFromCall(call.id, { elevatorId: card.id, trappedCount })
        : await api.createCall({
            callerNumber: callerNumber.trim(),
            rescueCode: card.rescueCode,
            openIncident: true,
            trappedCount,
            // Entered by hand once the caller has been heard: the call itself is over.
            endedAt: new Date().toISOString(),
          });
      if (outcome.incident) consoleActions.upsertIncident(outcome.incident);
      consoleActions.upsertCall(outcome.call);
      // The call now lives under its incident: the intake is free for the next one.
      consoleActions.selectCall(null);
      onDone?.();
      if (outcome.incident) consoleActions.locateIncident(outcome.incident.id);
    });
  };

  const pick = (candidate: ElevatorCandidate) => setQuery(candidate.rescueCode);

  return (
    <form className="workspace" onSubmit={openIncident} data-testid="intake-workspace" data-call-id={call?.id ?? ""}>
      {call ? (
        <CallHeader call={call} />
      ) : (
        <label className="field">
          <span className="field__label">{t("intake.callerNumber")}</span>
          <input
            ref={numberRef}
            className="input input--large mono"
            value={callerNumber}
            onChange={(e) => setCallerNumber(e.target.value)}
            inputMode="tel"
            autoComplete="off"
            data-testid="manual-caller-number"
          />
        </label>
      )}

      <CallerHistory callerNumber={call?.callerNumber ?? (callerNumber.trim().length >= 7 ? callerNumber.trim() : null)} currentCallId={call?.id ?? null} onPick={pick} />

      <label className="field">
        <span className="field__label">{t("intake.codeLabel")}</span>
        <input
          ref={codeRef}
          className="input input--large mono"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          placeholder={t("intake.codePlaceholder")}
          autoComplete="off"
          data-testid="intake-code"
          data-shortcut="n"
        />
      </label>
      {searching && <div className="muted">{t("intake.searching")}</div>}
      {(error ?? submit.error) && <div className="form-error">{error ?? submit.error}</div>}

      {lookup && !lookup.found && !card && !searching && (
        <div className="form-error intake__hint" data-testid="intake-not-found" data-hint={lookup.hint ?? ""}>
          {t(`intake.noHit.${lookup.hint ?? "generic"}`, { query: query.trim() })}
        </div>
      )}
      {lookup && !card && <LookupMatches lookup={lookup} onPick={pick} />}

      {card && <ElevatorCardView card={card} />}

      {card && lookup && lookup.nearbyAlarms.length > 0 && (
        <div className="nearby">
          <div className="section-title">{t("intake.nearbyAlarms")}</div>
          <ul>
            {lookup.nearbyAlarms.slice(0, 5).map((a) => (
              <li key={a.alarmId}>
                <span className="chip chip--danger">{t(`alarm.${a.code}`, { defaultValue: a.code })}</span> {a.siteName}{" "}
                <span className="mono">{a.rescueCode}</span> <span className="muted">{a.distanceM} m</span>
              </li>
            ))}
          </ul>
        </div>
      )}

      {card && (
        <div className="workspace__open">
          <label className="field field--inline">
            <span className="field__label">{t("intake.trappedCount")}</span>
            <input
              className="input input--narrow"
              type="number"
              min={0}
              max={100}
              value={trapped}
              onChange={(e) => setTrapped(e.target.value)}
              data-testid="intake-trapped"
            />
          </label>
          {openIncidentId !== null && (
            <div className="workspace__existing">
              {t("intake.openIncidentExists")}{" "}
              <button type="button" className="btn btn--small" onClick={() => consoleActions.locateIncident(openIncidentId)}>
                {t("intake.viewIncident")}
              </button>
            </div>
          )}
          <button type="submit" className="btn btn--danger btn--wide" disabled={!canOpen} data-testid="open-incident">
            {openIncidentId !== null ? t("intake.joinIncident", { code: openIncidentCode ?? `#${openIncidentId}` }) : t("intake.openIncident")}
            <kbd>Enter</kbd>
          </button>
        </div>
      )}

      {call && callState(call) === "ended" && (
        <button type="button" className="btn btn--small workspace__dismiss" onClick={() => consoleActions.dismissCall(call.id)} data-testid="dismiss-call">
          {t("intake.dismiss")}
        </button>
      )}
      {!call && (
        <button type="button" className="btn btn--small workspace__dismiss" onClick={onDone}>
          {t("intake.cancel")}
        </button>
      )}
    </form>
  );
}

function CallHeader({ call }: { call: CallView }) {
  const { t, i18n } = useTranslation();
  const now = useNow();
  const clock = callClock(call, now);
  const state = clock.state;
  const linked = useConsole((s) => (call.incidentId !== null ? s.incidents.get(call.incidentId) : undefined));
  return (
    <header className={`call-head call-head--${state}`} data-testid="call-head" data-state={state}>
      <div className="call-head__row">
        <span className={`call-row__state call-row__state--${state}`}>{t(`intake.state.${state}`)}</span>
        <span className="call-head__number mono" data-testid="caller-number">
          {call.callerNumber}
        </span>
        <span className="call-head__elapsed mono" data-testid="call-head-clock">
          {formatElapsed(clock.ms)}
        </span>
      </div>
      <div className="call-head__meta muted">
        {t("intake.ringingAt", { time: formatTime(call.ringingAt, i18n.language) })}
        {call.line && (
          <>
            {" · "}
            {t("intake.line")} {call.line}
          </>
        )}
      </div>
      {call.incidentId !== null && (
        <button type="button" className="btn btn--small" onClick={() => consoleActions.locateIncident(call.incidentId!)} data-testid="call-incident">
          {t("intake.viewIncident")} {linked?.code ?? `#${call.incidentId}`}
        </button>
      )}
    </header>
  );
}

/** The caller's earlier calls and the elevators they were about: a repeat caller is often still trapped. */
function CallerHistory({ callerNumber, currentCallId, onPick }: { callerNumber: string | null; currentCallId: number | null; onPick: (c: ElevatorCandidate) => void }) {
  const { t, i18n } = useTranslation();
  const [history, setHistory] = useState<LookupResult | null>(null);
  useEffect(() => {
    if (!callerNumber) {
      setHistory(null);
      return;
    }
    const abort = new AbortController();
    const timer = setTimeout(() => {
      api.callerHistory(callerNumber, abort.signal).then(
        (result) => setHistory(result),
        () => !abort.signal.aborted && setHistory(null),
      );
    }, 150);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [callerNumber]);
  if (!history) return null;
  const earlier = history.previousCalls.filter((c) => c.callId !== currentCallId);
  // The ringing call's own IVR code is not history: only elevators of earlier calls.
  const elevators = history.candidates.filter(
    (c) => c.match === "caller_history" && earlier.some((p) => p.elevatorId === c.id || p.rescueCode === c.rescueCode),
  );
  return (
    <section className="history" data-testid="caller-history" data-count={earlier.length}>
      <div className="section-title">{t("intake.history")}</div>
      {earlier.length === 0 ? (
        <div className="muted">{t("intake.noHistory")}</div>
      ) : (
        <ul className="history__calls">
          {earlier.slice(0, 5).map((c) => (
            <li key={c.callId}>
              {t("intake.historyCall", { time: formatDateTime(c.ringingAt, i18n.language), code: c.rescueCode ?? "—" })}
              {c.incidentId !== null && (
                <button type="button" className="link" onClick={() => consoleActions.locateIncident(c.incidentId!)}>
                  {t("intake.historyIncident")} #{c.incidentId}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {elevators.length > 0 && (
        <div className="history__elevators">
          {elevators.map((c) => (
            <button key={c.id} type="button" className="chip chip--button" onClick={() => onPick(c)} data-testid="history-elevator">
              <span className="mono">{c.rescueCode}</span> {c.site.name} {c.unitNo}
            </button>
          ))}
        </div>
      )}
    </section>
  );
}

/** A call already in an incident: what it joined, nothing more to do here. */
function LinkedCall({ call }: { call: CallView }) {
  const { t } = useTranslation();
  const code = useConsole((s) => s.incidents.get(call.incidentId!)?.code ?? `#${call.incidentId}`);
  return (
    <div className="workspace" data-testid="linked-call" data-call-id={call.id}>
      <CallHeader call={call} />
      <p className="workspace__linked">{t("intake.linkedExplained", { code })}</p>
      <button type="button" className="btn btn--small workspace__dismiss" onClick={() => consoleActions.selectCall(null)}>
        {t("intake.close")}
      </button>
    </div>
  );
}

function LookupMatches({ lookup, onPick }: { lookup: LookupResult; onPick: (c: ElevatorCandidate) => void }) {
  const { t } = useTranslation();
  const districtName = useDistrictName();
  const incidentCodes = useConsole((s) => s.incidents);
  const groups: [string, ElevatorCandidate[]][] = [
    ["intake.candidates", lookup.candidates],
    ["intake.closeMatches", lookup.closeMatches],
  ];
  if (lookup.candidates.length === 0 && lookup.closeMatches.length === 0) return null;
  return (
    <div className="matches" data-testid="lookup-matches">
      {groups.map(
        ([title, list]) =>
          list.length > 0 && (
            <div key={title}>
              <div className="section-title">{t(title)}</div>
              <ul className="matches__list">
                {list.map((c) => (
                  <li key={`${title}-${c.id}`}>
                    <button
                      type="button"
                      className={`match${c.openIncidentId !== null ? " match--open-incident" : ""}`}
                      onClick={() => onPick(c)}
                      data-testid="lookup-match"
                      data-rescue-code={c.rescueCode}
                      data-district={c.district.name}
                    >
                      <span className="mono match__code">{c.rescueCode}</span>
                      <span className="match__district" data-testid="match-district">
                        {districtName(c.district)}
                      </span>
                      <span className="match__site">
                        {c.site.name} · {c.unitNo}
                      </span>
                      {c.openIncidentId !== null && (
                        <span className="chip chip--danger match__incident" data-testid="match-open-incident">
                          {t("intake.matchOpenIncident", { code: incidentCodes.get(c.openIncidentId)?.code ?? `#${c.openIncidentId}` })}
                        </span>
                      )}
                      <span className="match__address muted">{c.site.address}</span>
                      <span className="match__why">{t(`intake.match.${c.match}`)}</span>
                    </button>
                  </li>
                ))}
              </ul>
            </div>
          ),
      )}
    </div>
  );
}
