import { useTranslation } from "react-i18next";
import { consoleActions, useConsole } from "../realtime.ts";
import { playEntrapmentAlert } from "./sound.ts";

/** Mute switch; the count of announced entrapments is exposed for the browser tests. */
export function SoundToggle() {
  const { t } = useTranslation();
  const muted = useConsole((s) => s.muted);
  const announced = useConsole((s) => s.entrapmentAlerts);
  return (
    <button
      type="button"
      className={`header__sound${muted ? " header__sound--muted" : ""}`}
      aria-pressed={!muted}
      title={t(muted ? "sound.unmute" : "sound.mute")}
      data-testid="sound-toggle"
      data-muted={muted}
      data-announced={announced}
      onClick={() => {
        consoleActions.setMuted(!muted);
        // Unmuting plays the alert once: the dispatcher hears that it works (and the browser allows audio).
        if (muted) playEntrapmentAlert();
      }}
    >
      <span className="header__sound-icon" aria-hidden="true" />
      {t(muted ? "sound.off" : "sound.on")}
    </button>
  );
}
