import i18next from "i18next";
import { initReactI18next } from "react-i18next";
import en from "./en.ts";
import zhCN from "./zh-CN.ts";
import { initialLanguage, rememberLanguage } from "./language.ts";

export { languages, type Language } from "./language.ts";

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
  rememberLanguage(lng);
});

export default i18next;
