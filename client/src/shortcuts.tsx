import { useEffect, useRef } from "react";
import { useTranslation } from "react-i18next";
import { consoleActions, getConsoleState, type SidePanel } from "./realtime.ts";

/**
 * Keyboard shortcuts for the frequent actions. Buttons declare theirs with `data-shortcut="d"`; a key
 * presses the first visible, enabled button that declares it, so a shortcut always does exactly what
 * the button on screen does. Navigation keys are handled here.
 */
export const shortcutList = [
  { keys: ["N"], action: "newCall" },
  { keys: ["J", "↓"], action: "next" },
  { keys: ["K", "↑"], action: "previous" },
  { keys: ["1", "2", "3"], action: "panels" },
  { keys: ["D"], action: "dispatch" },
  { keys: ["B"], action: "backup" },
  { keys: ["A"], action: "accept" },
  { keys: ["C"], action: "callback" },
  { keys: ["M"], action: "note" },
  { keys: ["E"], action: "close" },
  { keys: ["F"], action: "filter" },
  { keys: ["?"], action: "help" },
  { keys: ["Esc"], action: "escape" },
] as const;

const panelKeys: Record<string, SidePanel> = { "1": "intake", "2": "incident", "3": "teams" };

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

function visible(el: Element): el is HTMLElement {
  return el instanceof HTMLElement && el.offsetParent !== null && !(el as HTMLButtonElement).disabled;
}

/** Press the button on screen bound to `key`; false when there is none. */
export function pressDeclared(key: string): boolean {
  const target = [...document.querySelectorAll(`[data-shortcut~="${key}"]`)].find(visible);
  if (!target) return false;
  if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) target.focus();
  else target.click();
  return true;
}

function moveSelection(step: 1 | -1): void {
  const ids = [...document.querySelectorAll<HTMLElement>('[data-testid="incident-item"]')].map((el) => Number(el.dataset.incidentId));
  if (ids.length === 0) return;
  const current = ids.indexOf(getConsoleState().selectedIncidentId ?? -1);
  const next = current === -1 ? (step === 1 ? 0 : ids.length - 1) : Math.min(ids.length - 1, Math.max(0, current + step));
  consoleActions.locateIncident(ids[next]!);
}

export function useShortcuts(current: { toggleHelp: () => void; closeHelp: () => void }): void {
  const ref = useRef(current);
  ref.current = current;
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const handlers = ref.current;
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "Escape") {
        handlers.closeHelp();
        if (isTyping(event.target)) (event.target as HTMLElement).blur();
        return;
      }
      if (isTyping(event.target)) return;
      const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
      let handled = true;
      if (key === "?") handlers.toggleHelp();
      else if (key === "j" || key === "ArrowDown") moveSelection(1);
      else if (key === "k" || key === "ArrowUp") moveSelection(-1);
      else if (panelKeys[key]) consoleActions.showPanel(panelKeys[key]);
      else if (key === "n") {
        consoleActions.showPanel("intake");
        // The intake renders on the next frame when it was not the open panel.
        requestAnimationFrame(() => pressDeclared("n"));
      } else handled = key.length === 1 && /[a-z]/.test(key) && pressDeclared(key);
      if (handled) event.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
}

export function ShortcutHelp({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation();
  return (
    <div className="dialog-backdrop" onClick={onClose} data-testid="shortcut-help">
      <div className="dialog" role="dialog" aria-modal="true" aria-label={t("shortcuts.title")} onClick={(e) => e.stopPropagation()}>
        <header className="dialog__header">
          <h2>{t("shortcuts.title")}</h2>
          <button type="button" className="dialog__close" onClick={onClose} aria-label={t("errors.dismiss")}>
            ×
          </button>
        </header>
        <dl className="shortcuts">
          {shortcutList.map(({ keys, action }) => (
            <div key={action} className="shortcuts__row">
              <dt>
                {keys.map((k) => (
                  <kbd key={k}>{k}</kbd>
                ))}
              </dt>
              <dd>{t(`shortcuts.${action}`)}</dd>
            </div>
          ))}
        </dl>
      </div>
    </div>
  );
}
