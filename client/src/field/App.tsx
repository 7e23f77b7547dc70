import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { io } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents, TeamOfferView, TeamView } from "../../../server/contracts/index.ts";
import { distanceM, MAX_PHOTO_BYTES, PHOTO_TYPES, shouldSendPosition } from "../../../server/contracts/field.ts";
import { playEntrapmentAlert } from "../alerts/sound.ts";
import { call, errorOf } from "./http.ts";
import { toggleLanguage } from "./i18n.ts";
import { navigationLinks } from "./nav.ts";
import { ActionQueue, classify, MemoryQueueStore, type QueuedAction, type Refusal } from "./queue.ts";
import { openQueueStore } from "./idb-store.ts";

interface Me {
  id: number;
  username: string;
  displayName: string;
  role: string;
  teamId: number | null;
}

interface FieldInfo {
  team: TeamView | null;
  arrivalRadiusM: number;
  offerTimeoutS: number;
}

interface Fix {
  lat: number;
  lng: number;
  accuracyM: number;
  at: number;
}

const CACHE_KEY = "lift96333.field.cache";
const ACTIONS_PATH = "/api/field/actions";
const PHOTOS_PATH = "/api/field/photos";

export function App() {
  const { t } = useTranslation();
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  useEffect(() => {
    void call<Me>("GET", "/api/auth/me").then(({ status, body }) => setMe(status === 200 ? body : null));
  }, []);
  if (me === undefined) return <main className="field field--loading">{t("title")}</main>;
  if (me === null) return <Login onSignedIn={setMe} />;
  if (me.role !== "rescuer") return <main className="field"><p data-testid="not-rescuer">{t("login.notRescuer")}</p></main>;
  return <Field me={me} />;
}

function Login({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const { t } = useTranslation();
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const res = await call<{ user: Me } & Me>("POST", "/api/auth/login", { username: form.get("username"), password: form.get("password") });
    if (res.status !== 200) return setError(t("login.failed", { message: errorOf(res.body).message }));
    const me = await call<Me>("GET", "/api/auth/me");
    if (me.status === 200) onSignedIn(me.body);
  };
  return (
    <main className="field">
      <form className="login" data-testid="login-form" onSubmit={(e) => void submit(e)}>
        <h1>{t("title")}</h1>
        <h2>{t("login.title")}</h2>
        <label>
          {t("login.username")}
          <input name="username" autoComplete="username" data-testid="login-username" required />
        </label>
        <label>
          {t("login.password")}
          <input name="password" type="password" autoComplete="current-password" data-testid="login-password" required />
        </label>
        <button type="submit" className="big" data-testid="login-submit">
          {t("login.submit")}
        </button>
        {error && <p className="error" role="alert">{error}</p>}
        <button type="button" className="link" onClick={toggleLanguage}>
          {t("language")}
        </button>
      </form>
    </main>
  );
}

function loadCache(): { info: FieldInfo | null; offers: TeamOfferView[] } {
  try {
    const raw = localStorage.getItem(CACHE_KEY);
    if (raw) return JSON.parse(raw) as { info: FieldInfo | null; offers: TeamOfferView[] };
  } catch {
    // no cache: start empty
  }
  return { info: null, offers: [] };
}

function Field({ me }: { me: Me }) {
  const { t } = useTranslation();
  const cached = useMemo(loadCache, []);
  const [info, setInfo] = useState<FieldInfo | null>(cached.info);
  const [offers, setOffers] = useState<TeamOfferView[]>(cached.offers);
  const [online, setOnline] = useState(navigator.onLine);
  const [pending, setPending] = useState<QueuedAction[]>([]);
  const [refusals, setRefusals] = useState<Refusal[]>([]);
  const [fix, setFix] = useState<Fix | null>(null);
  const [fixError, setFixError] = useState<string | null>(null);
  const [dutyError, setDutyError] = useState<string | null>(null);
  const teamId = me.teamId;

  const refresh = useCallback(async () => {
    const mine = await call<FieldInfo>("GET", "/api/field/me");
    if (mine.status === 401) return window.location.reload();
    if (mine.status !== 200) return;
    setInfo(mine.body);
    let list: TeamOfferView[] = [];
    if (teamId !== null) {
      const res = await call<TeamOfferView[]>("GET", `/api/teams/${teamId}/offers`);
      if (res.status !== 200) return;
      list = res.body;
    }
    setOffers(list);
    try {
      localStorage.setItem(CACHE_KEY, JSON.stringify({ info: mine.body, offers: list }));
    } catch {
      // the cache is a convenience for offline starts
    }
  }, [teamId]);

  const queue = useMemo(
    () =>
      new ActionQueue(
        openQueueStore(() => new MemoryQueueStore()),
        async (action) => {
          const res = await call("POST", action.path, action.body);
          return classify(res.status, res.body);
        },
        {
          onChange: setPending,
          onSent: () => void refresh(),
          onRefused: (refusal) => {
            setRefusals((list) => [...list, refusal]);
            void refresh();
          },
        },
      ),
    [refresh],
  );

  // Pushes, polling as the safety net, and replay whenever the connection comes back.
  useEffect(() => {
    void queue.pending().then(setPending);
    void refresh().then(() => queue.flush());
    const socket = io({ transports: ["websocket", "polling"] }) as import("socket.io-client").Socket<ServerToClientEvents, ClientToServerEvents>;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const soon = () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        void refresh();
      }, 150);
    };
    socket.on("connect", () => {
      soon();
      void queue.flush();
    });
    socket.on("team:updated", (team) => {
      if (team.id === teamId) soon();
    });
    socket.on("incident:updated", soon);
    const poll = setInterval(() => {
      void refresh();
      void queue.flush();
    }, 15_000);
    const up = () => {
      setOnline(true);
      void queue.flush().then(refresh);
    };
    const down = () => setOnline(false);
    window.addEventListener("online", up);
    window.addEventListener("offline", down);
    return () => {
      socket.close();
      clearInterval(poll);
      if (timer) clearTimeout(timer);
      window.removeEventListener("online", up);
      window.removeEventListener("offline", down);
    };
  }, [queue, refresh, teamId]);

  const team = info?.team ?? null;
  const working = offers.length > 0 || (team !== null && team.status !== "off_duty" && team.status !== "offline");

  // Position sharing while on duty or on a job: watchPosition, sent every 10 s or 50 m at most.
  const lastSent = useRef<Fix | null>(null);
  useEffect(() => {
    if (!working || !("geolocation" in navigator)) return;
    const id = navigator.geolocation.watchPosition(
      (p) => {
        const next: Fix = { lat: p.coords.latitude, lng: p.coords.longitude, accuracyM: p.coords.accuracy, at: p.timestamp || Date.now() };
        setFix(next);
        setFixError(null);
        if (!navigator.onLine || !shouldSendPosition(lastSent.current, next)) return;
        lastSent.current = next;
        void call("POST", "/api/field/position", { lat: next.lat, lng: next.lng, accuracyM: next.accuracyM, at: new Date(next.at).toISOString() });
      },
      (error) => setFixError(error.message),
      { enableHighAccuracy: true, maximumAge: 5000, timeout: 30_000 },
    );
    return () => navigator.geolocation.clearWatch(id);
  }, [working]);

  const queuedKinds = (offerId: number) => new Set(pending.filter((a) => a.offerId === offerId).map((a) => a.kind));
  const act = async (kind: string, offerId: number, extra: Record<string, unknown> = {}, path = ACTIONS_PATH) => {
    await queue.add({ path, kind, offerId, body: path === ACTIONS_PATH ? { kind, offerId, ...extra } : { offerId, ...extra } });
    void queue.flush();
  };

  const toggleDuty = async () => {
    if (!team) return;
    setDutyError(null);
    if (typeof Notification !== "undefined" && Notification.permission === "default") void Notification.requestPermission();
    const res = await call<TeamView>("POST", `/api/teams/${team.id}/status`, { status: team.status === "off_duty" || team.status === "offline" ? "available" : "off_duty" });
    if (res.status === 200) setInfo((i) => (i ? { ...i, team: res.body } : i));
    else setDutyError(errorOf(res.body).message);
  };

  const offered = offers.find((o) => o.status === "offered" && !queuedKinds(o.id).has("accept") && !queuedKinds(o.id).has("decline"));
  const jobs = offers.filter((o) => o.status === "accepted" || (o.status === "offered" && queuedKinds(o.id).has("accept")));
  const onDuty = team !== null && team.status !== "off_duty" && team.status !== "offline";

  return (
    <main className="field" data-testid="field-app">
      <header className="bar">
        <strong>{t("title")}</strong>
        <span className="team" data-testid="team-name">
          {team?.name ?? t("team.none")}
        </span>
        <button type="button" className="link" onClick={toggleLanguage} data-testid="language">
          {t("language")}
        </button>
        <button
          type="button"
          className="link"
          onClick={() => void call("POST", "/api/auth/logout", {}).then(() => window.location.reload())}
        >
          {t("logout")}
        </button>
      </header>
      <QueueBanner online={online} pending={pending} refusals={refusals} onDismiss={() => setRefusals([])} />
      {team && (
        <section className="duty" data-testid="duty" data-status={team.status}>
          <span className={`pill pill--${team.status}`}>{t(`status.${team.status}`)}</span>
          <button
            type="button"
            className={`big ${onDuty ? "secondary" : "primary"}`}
            data-testid="duty-toggle"
            disabled={team.status === "offered" || team.status === "busy" || !online}
            onClick={() => void toggleDuty()}
          >
            {onDuty ? t("team.toggleOff") : t("team.toggleOn")}
          </button>
          {(team.status === "offered" || team.status === "busy") && <small>{t("team.busyNote")}</small>}
          {dutyError && <p className="error">{dutyError}</p>}
        </section>
      )}
      <p className="fix" data-testid="fix" data-has-fix={fix ? "true" : "false"}>
        {fixError ? t("position.denied", { message: fixError }) : fix ? t("position.sharing", { accuracy: Math.round(fix.accuracyM) }) : t("position.none")}
      </p>
      {jobs.map((offer) => (
        <Job
          key={offer.id}
          offer={offer}
          fix={fix}
          radiusM={info?.arrivalRadiusM ?? 300}
          queued={queuedKinds(offer.id)}
          act={act}
        />
      ))}
      {jobs.length === 0 && !offered && <p className="idle">{t("idle")}</p>}
      {offered && <OfferCard key={offered.id} offer={offered} fix={fix} act={act} />}
    </main>
  );
}

function QueueBanner({ online, pending, refusals, onDismiss }: { online: boolean; pending: QueuedAction[]; refusals: Refusal[]; onDismiss: () => void }) {
  const { t } = useTranslation();
  if (online && pending.length === 0 && refusals.length === 0) return null;
  const kinds = pending.map((a) => t(`kinds.${a.kind}`)).join("、");
  return (
    <section className={`banner ${online ? "" : "banner--offline"}`} data-testid="queue-banner" data-pending={pending.length} data-online={online}>
      {!online && <strong>{t("queue.offline")}</strong>}
      {pending.length > 0 && <span data-testid="queue-pending"> {t("queue.pending", { count: pending.length, kinds })}</span>}
      {refusals.map((r) => (
        <p key={r.action.key} className="error" data-testid="refusal" data-error-id={r.id ?? ""}>
          {t("queue.refused", { kind: t(`kinds.${r.action.kind}`), message: r.message })}
        </p>
      ))}
      {refusals.length > 0 && (
        <button type="button" className="link" onClick={onDismiss}>
          {t("queue.dismiss")}
        </button>
      )}
    </section>
  );
}

type Act = (kind: string, offerId: number, extra?: Record<string, unknown>, path?: string) => Promise<void>;

function useNow(everyMs: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(id);
  }, [everyMs]);
  return now;
}

/** The full-screen alert of a new offer: sound, vibration, a notification when the page is hidden. */
function OfferCard({ offer, fix, act }: { offer: TeamOfferView; fix: Fix | null; act: Act }) {
  const { t } = useTranslation();
  const now = useNow(1000);
  const [declining, setDeclining] = useState(false);
  const [reason, setReason] = useState("busy");
  const [other, setOther] = useState("");
  const { elevator } = offer.incident;
  useEffect(() => {
    playEntrapmentAlert();
    navigator.vibrate?.([400, 200, 400, 200, 400]);
    if (document.hidden && typeof Notification !== "undefined" && Notification.permission === "granted") {
      new Notification(t("offer.title"), { body: t("offer.notification", { address: elevator.address }), tag: `offer-${offer.id}` });
    }
  }, [offer.id, elevator.address, t]);
  const leftS = Math.max(0, Math.round((Date.parse(offer.expiresAt) - now) / 1000));
  const metres = fix ? distanceM(fix, elevator) : offer.distanceM;
  const declineText = reason === "other" ? other.trim() : t(`offer.reasons.${reason}`);
  return (
    <section className="offer" role="alertdialog" aria-modal="true" data-testid="offer-card" data-offer-id={offer.id}>
      <h1>{t("offer.title")}</h1>
      <p className="offer__address">{elevator.address}</p>
      <p>
        {elevator.siteName} · {elevator.unitNo}
      </p>
      <dl>
        <dt>{t("offer.rescueCode")}</dt>
        <dd data-testid="offer-rescue-code">{elevator.rescueCode}</dd>
        <dt>{t("offer.trapped")}</dt>
        <dd>{offer.incident.trappedCount ?? t("offer.unknown")}</dd>
        <dt>{t("offer.distance")}</dt>
        <dd data-testid="offer-distance">{metres >= 1000 ? `${(metres / 1000).toFixed(1)} km` : `${Math.round(metres)} m`}</dd>
        <dt>{t("offer.countdown")}</dt>
        <dd className="offer__countdown" data-testid="offer-countdown">
          {String(Math.floor(leftS / 60)).padStart(2, "0")}:{String(leftS % 60).padStart(2, "0")}
        </dd>
      </dl>
      {!declining ? (
        <div className="offer__actions">
          <button type="button" className="big primary" data-testid="offer-accept" onClick={() => void act("accept", offer.id)}>
            {t("offer.accept")}
          </button>
          <button type="button" className="big secondary" data-testid="offer-decline" onClick={() => setDeclining(true)}>
            {t("offer.decline")}
          </button>
        </div>
      ) : (
        <div className="offer__decline">
          <label>
            {t("offer.declineReason")}
            <select value={reason} onChange={(e) => setReason(e.target.value)} data-testid="decline-reason">
              {(["busy", "far", "vehicle", "staff", "other"] as const).map((r) => (
                <option key={r} value={r}>
                  {t(`offer.reasons.${r}`)}
                </option>
              ))}
            </select>
          </label>
          {reason === "other" && <input value={other} onChange={(e) => setOther(e.target.value)} maxLength={500} data-testid="decline-other" />}
          <button
            type="button"
            className="big secondary"
            data-testid="decline-submit"
            disabled={declineText.length < 2}
            onClick={() => void act("decline", offer.id, { reason: declineText })}
          >
            {t("offer.declineSubmit")}
          </button>
        </div>
      )}
    </section>
  );
}

function readAsBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

/** The accepted job: navigation, then the steps in order, each recorded on the phone first. */
function Job({ offer, fix, radiusM, queued, act }: { offer: TeamOfferView; fix: Fix | null; radiusM: number; queued: Set<string>; act: Act }) {
  const { t } = useTranslation();
  const { incident } = offer;
  const { elevator } = incident;
  const [problem, setProblem] = useState<string | null>(null);
  const [freed, setFreed] = useState({ freedCount: incident.trappedCount ?? 1, injuredCount: 0 });
  const [note, setNote] = useState("");
  const position = fix ? { lat: fix.lat, lng: fix.lng, accuracyM: fix.accuracyM } : undefined;
  const arrived = offer.arrivedAt !== null || queued.has("arrive") || incident.status === "on_scene" || incident.status === "released";
  const departed = incident.status !== "accepted" || queued.has("depart");
  const ended = incident.status === "released" || incident.status === "closed" || queued.has("freed");
  const links = navigationLinks({ lat: elevator.lat, lng: elevator.lng, name: `${elevator.siteName} ${elevator.unitNo}`, address: elevator.address });

  const arrive = () => {
    setProblem(null);
    if (!fix) return setProblem(t("job.noFix"));
    const metres = Math.round(distanceM(fix, elevator));
    if (metres > radiusM) return setProblem(t("job.tooFar", { distance: metres, radius: radiusM }));
    void act("arrive", offer.id, { position });
  };
  const photo = async (file: File | undefined) => {
    setProblem(null);
    if (!file) return;
    if (!(PHOTO_TYPES as readonly string[]).includes(file.type)) return setProblem(t("job.photoType"));
    if (file.size > MAX_PHOTO_BYTES) return setProblem(t("job.photoTooLarge", { size: (file.size / 1048576).toFixed(1) }));
    void act("photo", offer.id, { contentType: file.type, data: await readAsBase64(file), ...(position ? { position } : {}) }, PHOTOS_PATH);
  };

  return (
    <section className="job" data-testid="job" data-offer-id={offer.id} data-status={incident.status} data-arrived={arrived}>
      <h2>
        {t("job.title")} · <span data-testid="job-status">{t(`incidentStatus.${incident.status}`)}</span>
      </h2>
      <p className="job__address">{elevator.address}</p>
      <p>
        {elevator.siteName} · {elevator.unitNo} · {t("offer.rescueCode")} {elevator.rescueCode}
      </p>
      <nav className="job__nav" aria-label={t("job.navigate")}>
        {links.map((link) => (
          <a key={link.app} href={link.href} target="_blank" rel="noreferrer" className="button" data-testid={`nav-${link.app}`}>
            {t(`job.${link.app}`)}
          </a>
        ))}
      </nav>
      {!ended && (
        <div className="job__steps">
          <button type="button" className="big" data-testid="action-depart" disabled={departed} onClick={() => void act("depart", offer.id, position ? { position } : {})}>
            {t("job.depart")}
          </button>
          <button type="button" className="big primary" data-testid="action-arrive" disabled={arrived} onClick={arrive}>
            {arrived ? t("job.arrived") : t("job.arrive")}
          </button>
          {problem && (
            <p className="error" role="alert" data-testid="job-problem">
              {problem}
            </p>
          )}
          {arrived && (
            <form
              className="job__freed"
              onSubmit={(e) => {
                e.preventDefault();
                void act("freed", offer.id, { ...freed, ...(position ? { position } : {}) });
              }}
            >
              <label>
                {t("job.freedCount")}
                <input type="number" min={0} max={100} value={freed.freedCount} data-testid="freed-count" onChange={(e) => setFreed({ ...freed, freedCount: Number(e.target.value) })} />
              </label>
              <label>
                {t("job.injuredCount")}
                <input type="number" min={0} max={100} value={freed.injuredCount} data-testid="injured-count" onChange={(e) => setFreed({ ...freed, injuredCount: Number(e.target.value) })} />
              </label>
              <button type="submit" className="big primary" data-testid="action-freed">
                {t("job.freedSubmit")}
              </button>
            </form>
          )}
        </div>
      )}
      {ended && <p data-testid="job-ended">{t("job.done")}</p>}
      <form
        className="job__note"
        onSubmit={(e) => {
          e.preventDefault();
          if (!note.trim()) return;
          void act("note", offer.id, { text: note.trim(), ...(position ? { position } : {}) });
          setNote("");
        }}
      >
        <textarea value={note} onChange={(e) => setNote(e.target.value)} maxLength={1000} placeholder={t("job.note")} data-testid="note-input" />
        <button type="submit" data-testid="note-submit">
          {t("job.noteSubmit")}
        </button>
      </form>
      <label className="button job__photo">
        {t("job.photo")}
        <input type="file" accept="image/jpeg,image/png,image/webp" capture="environment" data-testid="photo-input" onChange={(e) => void photo(e.target.files?.[0])} hidden />
      </label>
    </section>
  );
}
