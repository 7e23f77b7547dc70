import { memo, useDeferredValue, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import type { TeamView } from "../../../server/contracts/index.ts";
import { teamKinds, teamStatuses } from "../../../server/contracts/index.ts";
import { consoleActions, useConsole } from "../realtime.ts";
import { assignmentsByTeam, type TeamAssignment } from "../incidents/nextActions.ts";
import "../incidents/detail.css";

type StatusFilter = TeamView["status"] | "all";
type KindFilter = TeamView["kind"] | "all";

const statusRank: Record<TeamView["status"], number> = { offered: 0, busy: 1, available: 2, off_duty: 3, offline: 4 };

/**
 * Every team with its live state. Rows are plain memoised elements fed from two maps computed once per
 * change (teams, assignments), so several hundred teams re-render in one pass without per-row effects.
 */
export function TeamBoard() {
  const { t } = useTranslation();
  const teams = useConsole((s) => s.teams);
  const incidents = useConsole((s) => s.incidents);
  const [status, setStatus] = useState<StatusFilter>("all");
  const [kind, setKind] = useState<KindFilter>("all");
  const [query, setQuery] = useState("");
  const deferredQuery = useDeferredValue(query);

  const assignments = useMemo(() => assignmentsByTeam(incidents.values()), [incidents]);
  const counts = useMemo(() => {
    const byStatus: Record<TeamView["status"], number> = { available: 0, offered: 0, busy: 0, off_duty: 0, offline: 0 };
    for (const team of teams.values()) byStatus[team.status] += 1;
    return byStatus;
  }, [teams]);
  const shown = useMemo(() => {
    const needle = deferredQuery.trim().toLowerCase();
    return [...teams.values()]
      .filter(
        (team) =>
          (status === "all" || team.status === status) &&
          (kind === "all" || team.kind === kind) &&
          (needle === "" || team.name.toLowerCase().includes(needle) || team.organisation.toLowerCase().includes(needle)),
      )
      .sort((a, b) => statusRank[a.status] - statusRank[b.status] || a.name.localeCompare(b.name, "zh-CN"));
  }, [teams, status, kind, deferredQuery]);

  return (
    <div className="team-board" data-testid="team-board">
      <div className="team-board__chips" role="group" aria-label={t("teamBoard.title")}>
        <button
          type="button"
          className={`status-chip${status === "all" ? " status-chip--active" : ""}`}
          aria-pressed={status === "all"}
          data-testid="team-filter-all"
          onClick={() => setStatus("all")}
        >
          {t("teamBoard.all")} <strong>{teams.size}</strong>
        </button>
        {teamStatuses.map((s) => (
          <button
            key={s}
            type="button"
            className={`status-chip status-chip--${s}${status === s ? " status-chip--active" : ""}`}
            aria-pressed={status === s}
            data-testid="team-filter"
            data-status={s}
            data-count={counts[s]}
            onClick={() => setStatus(status === s ? "all" : s)}
          >
            <span className={`team-dot team-dot--${s}`} />
            {t(`teamStatus.${s}`)} <strong>{counts[s]}</strong>
          </button>
        ))}
      </div>
      <div className="team-board__filters">
        <input
          className="input team-board__search"
          type="search"
          data-testid="team-search"
          placeholder={t("teamBoard.search")}
          aria-label={t("teamBoard.search")}
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
        <select className="select" data-testid="team-kind" aria-label={t("teamBoard.kindAll")} value={kind} onChange={(e) => setKind(e.target.value as KindFilter)}>
          <option value="all">{t("teamBoard.kindAll")}</option>
          {teamKinds.map((k) => (
            <option key={k} value={k}>
              {t(`teamKind.${k}`)}
            </option>
          ))}
        </select>
        <span className="team-board__count" data-testid="team-count">
          {t("teamBoard.count", { shown: shown.length, total: teams.size })}
        </span>
      </div>
      {shown.length === 0 ? (
        <p className="panel__empty">{t("teamBoard.empty")}</p>
      ) : (
        <ul className="team-list">
          {shown.map((team) => (
            <TeamRow key={team.id} team={team} assignment={assignments.get(team.id)} />
          ))}
        </ul>
      )}
    </div>
  );
}

const TeamRow = memo(function TeamRow({ team, assignment }: { team: TeamView; assignment: TeamAssignment | undefined }) {
  const { t } = useTranslation();
  return (
    <li className={`team-row team-row--${team.status}`} data-testid="team-row" data-team-id={team.id} data-status={team.status}>
      <span className={`team-dot team-dot--${team.status}`} title={t(`teamStatus.${team.status}`)} />
      <div className="team-row__main">
        <div className="team-row__name">
          {team.name}
          <span className="team-row__kind">{t(`teamKind.${team.kind}`)}</span>
        </div>
        <div className="team-row__org" title={team.organisation}>
          {team.organisation}
        </div>
      </div>
      <div className="team-row__side">
        <span className={`team-row__status team-row__status--${team.status}`}>{t(`teamStatus.${team.status}`)}</span>
        <a className="team-row__phone mono" href={`tel:${team.phone}`}>
          {team.phone}
        </a>
        {assignment && (
          <button
            type="button"
            className="link-button team-row__incident"
            data-testid="team-incident"
            data-incident-id={assignment.incidentId}
            title={t(assignment.offerStatus === "accepted" ? "teamBoard.assigned" : "teamBoard.offered")}
            onClick={() => consoleActions.locateIncident(assignment.incidentId)}
          >
            {assignment.incidentCode}
          </button>
        )}
      </div>
    </li>
  );
});
