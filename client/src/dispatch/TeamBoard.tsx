import { useTranslation } from "react-i18next";

/** Placeholder: the team board (teams by state) is being built. */
export function TeamBoard() {
  const { t } = useTranslation();
  return (
    <div className="panel__empty" data-testid="team-board">
      {t("panel.teams")}
    </div>
  );
}
