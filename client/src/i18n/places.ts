import { useCallback } from "react";
import { useTranslation } from "react-i18next";
import { useConsole } from "../realtime.ts";

/**
 * A district's name in the console's language: pinyin in English, as the filter and the map show it,
 * so a card, a match and the map never name one district two ways.
 */
export function useDistrictName(): (district: { id: number; name: string }) => string {
  const { i18n } = useTranslation();
  const districts = useConsole((s) => s.districts);
  const english = i18n.language === "en";
  return useCallback(
    (district) => (english ? districts.find((d) => d.id === district.id)?.nameEn || district.name : district.name),
    [districts, english],
  );
}
