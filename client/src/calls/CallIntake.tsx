import { useTranslation } from "react-i18next";

export function CallIntake() {
  const { t } = useTranslation();
  return (
    <div className="panel__empty" data-testid="call-intake">
      {t("panel.intake")}
    </div>
  );
}
