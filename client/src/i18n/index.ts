import i18next from "i18next";
import { initReactI18next } from "react-i18next";
import en from "./en.ts";
import zhCN from "./zh-CN.ts";

export const languages = ["zh-CN", "en"] as const;
export type Language = (typeof languages)[number];

const storageKey = "lift96333.lang";

function initialLanguage(): Language {
  try {
    const saved = localStorage.getItem(storageKey);
    if (saved && (languages as readonly string[]).includes(saved)) return saved as Language;
  } catch {
    // storage may be disabled; fall back to the default
  }
  return "zh-CN";
}

void i18next.use(initReactI18next).init({
  resources: { "zh-CN": { translation: zhCN }, en: { translation: en } },
  lng: initialLanguage(),
  fallbackLng: "zh-CN",
  interpolation: { escapeValue: false },
  returnNull: false,
});

function applyLang(lng: string): void {
  document.documentElement.lang = lng;
  document.title = i18next.t("app.title");
}
applyLang(i18next.language);
i18next.on("languageChanged", (lng) => {
  applyLang(lng);
  try {
    localStorage.setItem(storageKey, lng);
  } catch {
    // ignore
  }
});

export default i18next;
