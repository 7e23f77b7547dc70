import { useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import type { IncidentView, OfferView, RankedTeamView } from "../../../server/contracts/index.ts";
import { api } from "../api.ts";
import { useRequest } from "../useRequest.ts";
import { useConsole } from "../realtime.ts";
import { formatTime } from "../time.ts";
import { etaMinutes } from "../incidents/urgency.ts";
import { isActiveOffer } from "../incidents/nextActions.ts";
import { useSubmit, type ApplyIncident } from "../incidents/useSubmit.ts";
import "../incidents/detail.css";

const CANDIDATE_LIMIT = 8;

const km = (metres: number) => (metres / 1000).toFixed(1);
const minutes = (seconds: number) => Math.max(1, Math.ceil(seconds / 60));

/**
 * Offers of the incident and the teams that could be sent, ranked by the engine. Every row acts in
 * one click; the reasons the API asks for are the dispatcher's standard wording.
 */
export function DispatchBoard({ incident, apply }: { incident: IncidentView; apply: ApplyIncident }) {
  const { t } = useTranslation();
  const submit = useSubmit();
  const active = useMemo(() => incident.offers.filter(isActiveOffer), [incident.offers]);
  // Withdrawing this one is what "改派" means: the primary team, else whichever is still active.
  const primary = active.find((o) => !o.backup) ?? active[0] ?? null;
  const candidates = useCandidates(incident);

  const send = (body: { teamId?: number; backup?: boolean; reason: string }) =>
    submit.run(async () => apply(await api.offer(incident.id, body)));
  const reassign = (offer: OfferView, teamId: number) =>
    submit.run(async () => apply(await api.withdrawOffer(offer.id, { reason: t("dispatch.overrideReason"), reassignTeamId: teamId })));
  const withdraw = (offer: OfferView) => submit.run(async () => apply(await api.withdrawOffer(offer.id, { reason: t("dispatch.withdrawReason") })));

  return (
    <section className="dispatch" data-testid="dispatch-board">
      <header className="dispatch__header">
        <h3 className="section-title">{t("dispatch.offersTitle")}</h3>
        <div className="dispatch__buttons">
          {active.length === 0 ? (
            <button
              type="button"
              className="btn btn--primary btn--small"
              data-testid="dispatch-recommended"
              data-shortcut="d"
              title={t("dispatch.recommendedTitle")}
              disabled={submit.busy}
              onClick={() => void send({ reason: t("dispatch.dispatchReason") })}
            >
              {t("dispatch.recommended")} <kbd>D</kbd>
            </button>
          ) : (
            <button
              type="button"
              className="btn btn--small"
              data-testid="dispatch-next-backup"
              data-shortcut="b"
              disabled={submit.busy}
              onClick={() => void send({ backup: true, reason: t("dispatch.backupReason") })}
            >
              {t("dispatch.nextBackup")} <kbd>B</kbd>
            </button>
          )}
        </div>
      </header>

      <OfferList offers={incident.offers} busy={submit.busy} onWithdraw={(o) => void withdraw(o)} />
      {submit.error && (
        <p className="form-error" role="alert" data-testid="dispatch-error">
          {submit.error}
        </p>
      )}

      <h3 className="section-title">
        {t("dispatch.candidatesTitle")}
        <button type="button" className="link-button" onClick={candidates.reload} data-testid="candidates-refresh">
          {t("dispatch.refresh")}
        </button>
      </h3>
      {candidates.error && <p className="form-error">{t("dispatch.candidatesFailed", { error: candidates.error })}</p>}
      {candidates.list && candidates.list.length === 0 && <p className="panel__empty">{t("dispatch.candidatesEmpty")}</p>}
      {candidates.list && candidates.list.length > 0 && (
        <ol className="candidates" data-testid="candidates">
          {candidates.list.map((c) => (
            <CandidateRow
              key={c.teamId}
              candidate={c}
              busy={submit.busy}
              hasActive={active.length > 0}
              onDispatch={() => void send({ teamId: c.teamId, reason: t("dispatch.dispatchReason") })}
              onBackup={() => void send({ teamId: c.teamId, backup: true, reason: t("dispatch.backupReason") })}
              onOverride={primary ? () => void reassign(primary, c.teamId) : null}
            />
          ))}
        </ol>
      )}
    </section>
  );
}

/** Re-ranked whenever the incident's offers or status change, on resync, and on request. */
function useCandidates(incident: IncidentView) {
  const generation = useConsole((s) => s.syncGeneration);
  const [nonce, setNonce] = useState(0);
  const offersKey = incident.offers.map((o) => `${o.id}:${o.status}`).join(",");
  const { data: list, error } = useRequest((signal) => api.candidates(incident.id, CANDIDATE_LIMIT, signal), [
    incident.id,
    incident.status,
    offersKey,
    generation,
    nonce,
  ]);
  return { list, error, reload: () => setNonce((n) => n + 1) };
}

function OfferList({ offers, busy, onWithdraw }: { offers: readonly OfferView[]; busy: boolean; onWithdraw: (offer: OfferView) => void }) {
  const { t, i18n } = useTranslation();
  const teams = useConsole((s) => s.teams);
  const sorted = useMemo(
    () => [...offers].sort((a, b) => Number(isActiveOffer(b)) - Number(isActiveOffer(a)) || Date.parse(b.offeredAt) - Date.parse(a.offeredAt)),
    [offers],
  );
  if (sorted.length === 0) return <p className="dispatch__none">{t("dispatch.noOffers")}</p>;
  return (
    <ul className="offers" data-testid="offers">
      {sorted.map((offer) => {
        const team = teams.get(offer.teamId);
        return (
          <li
            key={offer.id}
            className={`offer-row offer-row--${offer.status}`}
            data-testid="offer"
            data-offer-id={offer.id}
            data-team-id={offer.teamId}
            data-status={offer.status}
          >
            <span className="offer-row__tier">{t("dispatch.tier", { tier: offer.tier })}</span>
            <span className="offer-row__team" title={team ? `${team.organisation} · ${team.phone}` : offer.teamName}>
              {offer.teamName}
              {offer.backup && <span className="offer-row__backup">{t("dispatch.backup")}</span>}
            </span>
            <span className="offer-row__status">{t(`offerStatus.${offer.status}`)}</span>
            <span className="offer-row__meta mono">
              {t("dispatch.etaMinutes", { minutes: etaMinutes(offer) })} · {t("dispatch.distanceKm", { km: km(offer.distanceM) })}
            </span>
            <span className="offer-row__time">{t("dispatch.offeredAt", { time: formatTime(offer.offeredAt, i18n.language) })}</span>
            {isActiveOffer(offer) && (
              <button
                type="button"
                className="btn btn--small offer-row__withdraw"
                data-testid="offer-withdraw"
                disabled={busy}
                onClick={() => onWithdraw(offer)}
              >
                {t("dispatch.withdraw")}
              </button>
            )}
          </li>
        );
      })}
    </ul>
  );
}

function CandidateRow({
  candidate,
  busy,
  hasActive,
  onDispatch,
  onBackup,
  onOverride,
}: {
  candidate: RankedTeamView;
  busy: boolean;
  hasActive: boolean;
  onDispatch: () => void;
  onBackup: () => void;
  onOverride: (() => void) | null;
}) {
  const { t } = useTranslation();
  return (
    <li className="candidate" data-testid="candidate" data-team-id={candidate.teamId} data-status={candidate.status}>
      <span className="candidate__name" title={`${candidate.teamName} · ${t(`teamKind.${candidate.kind}`)}`}>
        <span className={`team-dot team-dot--${candidate.status}`} title={t(`teamStatus.${candidate.status}`)} />
        {candidate.teamName}
      </span>
      <span className="candidate__meta">
        <span className="candidate__tier">{t("dispatch.tier", { tier: candidate.tier })}</span>
        <span>{t(`teamKind.${candidate.kind}`)}</span>
        <strong className="candidate__eta mono">{t("dispatch.etaMinutes", { minutes: minutes(candidate.estimatedArrivalS) })}</strong>
        <span className="mono">{t("dispatch.distanceKm", { km: km(candidate.distanceM) })}</span>
        {candidate.usedLivePosition && (
          <span className="candidate__live" title={t("dispatch.livePosition")} data-testid="candidate-live">
            {t("dispatch.livePosition")}
          </span>
        )}
      </span>
      <span className="candidate__actions">
        {!hasActive && (
          <button type="button" className="btn btn--primary btn--small" data-testid="candidate-dispatch" disabled={busy} onClick={onDispatch}>
            {t("dispatch.dispatch")}
          </button>
        )}
        {hasActive && (
          <button type="button" className="btn btn--small" data-testid="candidate-backup" disabled={busy} onClick={onBackup}>
            {t("dispatch.backupAction")}
          </button>
        )}
        {onOverride && (
          <button type="button" className="btn btn--small" data-testid="candidate-override" disabled={busy} onClick={onOverride}>
            {t("dispatch.override")}
          </button>
        )}
      </span>
    </li>
  );
}
