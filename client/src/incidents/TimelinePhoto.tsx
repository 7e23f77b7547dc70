import { useState } from "react";
import type { TFunction } from "i18next";

/** A scene photo from a rescuer's phone, loaded when the dispatcher asks for it (they can be megabytes). */
export function TimelinePhoto({ photoId, t }: { photoId: number; t: TFunction }) {
  const [src, setSrc] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  const load = async () => {
    const res = await fetch(`/api/photos/${photoId}`, { headers: { Accept: "application/json" } }).catch(() => null);
    if (!res?.ok) return setFailed(true);
    const photo = (await res.json()) as { contentType: string; data: string };
    setSrc(`data:${photo.contentType};base64,${photo.data}`);
  };
  if (src) return <img className="timeline__photo" src={src} alt={t("detail.event.photo")} data-testid="timeline-photo" />;
  return (
    <button type="button" className="linkish" onClick={() => void load()} data-testid="timeline-photo-open">
      {failed ? t("detail.photoFailed") : t("detail.showPhoto")}
    </button>
  );
}
