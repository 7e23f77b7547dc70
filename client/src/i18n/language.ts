/** The interface languages and the remembered choice, shared by the console and the field app. */
export const languages = ["zh-CN", "en"] as const;
export type Language = (typeof languages)[number];

const storageKey = "lift96333.lang";

export function initialLanguage(): Language {
  try {
    const saved = localStorage.getItem(storageKey);
    if (saved && (languages as readonly string[]).includes(saved)) return saved as Language;
  } catch {
    // storage may be disabled; fall back to the default
  }
  return "zh-CN";
}

export function rememberLanguage(lng: string): void {
  try {
    localStorage.setItem(storageKey, lng);
  } catch {
    // not remembered: the default next time
  }
}
