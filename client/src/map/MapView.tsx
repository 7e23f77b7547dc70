import L from "leaflet";
import "leaflet/dist/leaflet.css";
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import type { TFunction } from "i18next";
import type { DistrictView, ElevatorPoints, IncidentView, TeamView } from "../../../server/contracts/index.ts";
import type { ClientConfig } from "../api.ts";
import { formatElapsed, formatTime } from "../time.ts";
import { projectGeometry, projectorFor, type Projector } from "./coords.ts";
import { ElevatorLayer, ELEVATOR_MIN_ZOOM, type ElevatorStats } from "./elevatorLayer.ts";
import { esc } from "./html.ts";
import { baseLayers } from "./tiles.ts";
import { activeOffers } from "../incidents/urgency.ts";

export interface FlyRequest {
  id: number;
  nonce: number;
}

interface Props {
  config: ClientConfig;
  districts: readonly DistrictView[];
  elevators: ElevatorPoints | null;
  teams: ReadonlyMap<number, TeamView>;
  incidents: ReadonlyMap<number, IncidentView>;
  selectedId: number | null;
  flyTo: FlyRequest | null;
  onSelectIncident: (id: number) => void;
}

export const teamColours: Record<TeamView["status"], string> = {
  available: "#1f9d55",
  offered: "#f0a020",
  busy: "#2f6fd6",
  off_duty: "#8d959e",
  offline: "#8d959e",
};

interface MapHandles {
  map: L.Map;
  project: Projector;
  /** Shared by elevators and teams: one canvas so neither blocks clicks on the other. */
  points: L.Canvas;
}

function teamTooltip(team: TeamView, t: TFunction): string {
  return (
    `<div class="tip"><strong>${esc(team.name)}</strong>` +
    `<div>${esc(team.organisation)}</div>` +
    `<div>${esc(t(`teamKind.${team.kind}`))} · <span class="tip__status" style="color:${teamColours[team.status]}">` +
    `${esc(t(`teamStatus.${team.status}`))}</span></div>` +
    (team.phone ? `<div class="mono">${esc(team.phone)}</div>` : "") +
    `</div>`
  );
}

function incidentPopup(incident: IncidentView, t: TFunction, locale: string, now: number): string {
  const e = incident.elevator;
  return (
    `<div class="incident-popup" data-incident-code="${esc(incident.code)}">` +
    `<div class="incident-popup__head"><span class="badge badge--kind-${incident.kind}">${esc(t(`kind.${incident.kind}`))}</span>` +
    `<strong>${esc(incident.code)}</strong></div>` +
    `<dl>` +
    `<dt>${esc(t("map.address"))}</dt><dd>${esc(e.address)}<br/><span class="muted">${esc(e.siteName)} · ${esc(e.unitNo)}</span></dd>` +
    `<dt>${esc(t("queue.rescueCode"))}</dt><dd class="mono">${esc(e.rescueCode)}</dd>` +
    `<dt>${esc(t("map.status"))}</dt><dd>${esc(t(`status.${incident.status}`))}</dd>` +
    `<dt>${esc(t("map.elapsed"))}</dt><dd class="mono">${formatElapsed(now - Date.parse(incident.reportedAt))}` +
    ` <span class="muted">(${esc(t("queue.reportedAt", { time: formatTime(incident.reportedAt, locale) }))})</span></dd>` +
    `</dl></div>`
  );
}

export function MapView({ config, districts, elevators, teams, incidents, selectedId, flyTo, onSelectIncident }: Props) {
  const { t, i18n } = useTranslation();
  const containerRef = useRef<HTMLDivElement>(null);
  const [handles, setHandles] = useState<MapHandles | null>(null);
  const [tileWarning, setTileWarning] = useState<string | null>(null);
  const [stats, setStats] = useState<ElevatorStats | null>(null);
  const teamMarkers = useRef(new Map<number, { marker: L.CircleMarker; team: TeamView }>());
  const incidentMarkers = useRef(new Map<number, { marker: L.Marker; incident: IncidentView }>());
  const onSelectRef = useRef(onSelectIncident);
  onSelectRef.current = onSelectIncident;
  // Elevator popups are built on click: read the current language's t, not the one at creation.
  const tRef = useRef(t);
  tRef.current = t;

  // Map and base tiles; recreated only if the client config changes.
  useEffect(() => {
    const el = containerRef.current;
    if (!el) return;
    const project = projectorFor(config.tiles);
    const map = L.map(el, {
      preferCanvas: true,
      center: project(config.center.lat, config.center.lng),
      zoom: config.zoom,
      minZoom: 7,
      maxZoom: 19,
      zoomControl: true,
      attributionControl: true,
    });
    map.attributionControl.setPrefix(false);
    map.createPane("districts").style.zIndex = "350";
    // Names sit above the canvas (overlay pane, 400) so team dots cannot hide them; they take no clicks.
    map.createPane("districtLabels").style.zIndex = "450";
    const { layers, warning } = baseLayers(config);
    for (const layer of layers) layer.addTo(map);
    setTileWarning(warning);
    const points = L.canvas({ padding: 0.3 });
    setHandles({ map, project, points });
    return () => {
      setHandles(null);
      teamMarkers.current.clear();
      incidentMarkers.current.clear();
      map.remove();
    };
  }, [config]);

  // District outlines and names: drawn even without tiles so the map stays readable offline.
  useEffect(() => {
    if (!handles || districts.length === 0) return;
    const { map, project } = handles;
    const renderer = L.canvas({ pane: "districts" });
    const outlines = L.geoJSON(
      {
        type: "FeatureCollection",
        features: districts.map((d) => ({
          type: "Feature",
          properties: { central: d.central },
          geometry: projectGeometry(d.outline, config.tiles),
        })),
      } as GeoJSON.FeatureCollection,
      {
        pane: "districts",
        interactive: false,
        style: (f) => ({
          renderer,
          color: "#3d6aa3",
          weight: f?.properties?.central ? 1.8 : 1.4,
          opacity: 0.85,
          fillColor: f?.properties?.central ? "#6f93c2" : "#9fb7d4",
          fillOpacity: 0.07,
          dashArray: f?.properties?.central ? undefined : "4 3",
        }),
      } as L.GeoJSONOptions,
    ).addTo(map);
    const labels = L.layerGroup(
      districts.map((d) =>
        L.marker(project(d.center.lat, d.center.lng), {
          pane: "districtLabels",
          interactive: false,
          keyboard: false,
          icon: L.divIcon({
            className: `district-label${d.central ? " district-label--central" : ""}`,
            html: `<span>${esc(i18n.language === "en" ? d.nameEn || d.name : d.name)}</span>`,
            iconSize: [0, 0],
          }),
        }),
      ),
    ).addTo(map);
    return () => {
      outlines.remove();
      labels.remove();
    };
  }, [handles, districts, config.tiles, i18n.language]);

  const bringTeamsToFront = () => {
    for (const { marker } of teamMarkers.current.values()) marker.bringToFront();
  };

  // Elevators (canvas dots, windowed by zoom and viewport).
  useEffect(() => {
    if (!handles || !elevators) return;
    const layer = new ElevatorLayer(
      handles.map,
      handles.points,
      elevators,
      handles.project,
      setStats,
      bringTeamsToFront,
      (i) =>
        `<div class="tip"><strong>${esc(tRef.current("queue.rescueCode"))} <span class="mono">${esc(elevators.rescueCode[i] ?? "")}</span></strong>` +
        `<div class="muted">${esc(tRef.current(elevators.hasDevice[i] ? "map.hasDevice" : "map.noDevice"))}</div></div>`,
    );
    return () => {
      layer.remove();
      setStats(null);
    };
  }, [handles, elevators]);

  // Teams: markers are updated in place so live positions move without flicker.
  useEffect(() => {
    if (!handles) return;
    const { map, project, points } = handles;
    const current = teamMarkers.current;
    for (const [id, entry] of current) {
      if (!teams.has(id)) {
        entry.marker.remove();
        current.delete(id);
      }
    }
    for (const team of teams.values()) {
      const entry = current.get(team.id);
      const idle = team.status === "off_duty" || team.status === "offline";
      const style = {
        fillColor: teamColours[team.status],
        color: "#ffffff",
        radius: idle ? 4 : 6,
        fillOpacity: idle ? 0.6 : 0.95,
        opacity: idle ? 0.6 : 1,
      };
      if (!entry) {
        const marker = L.circleMarker(project(team.lat, team.lng), {
          renderer: points,
          weight: 1.5,
          ...style,
        })
          .bindTooltip(teamTooltip(team, t), { direction: "top", offset: [0, -6], className: "team-tooltip" })
          .addTo(map);
        current.set(team.id, { marker, team });
      } else if (entry.team !== team) {
        entry.marker.setLatLng(project(team.lat, team.lng));
        entry.marker.setStyle(style);
        entry.marker.setTooltipContent(teamTooltip(team, t));
        entry.marker.bringToFront();
        entry.team = team;
      }
    }
  }, [handles, teams, t]);

  useEffect(() => {
    for (const entry of teamMarkers.current.values()) entry.marker.setTooltipContent(teamTooltip(entry.team, t));
  }, [t, i18n.language]);

  // Open incidents: pulsing DOM markers (few, and they must stand out above the canvas).
  useEffect(() => {
    if (!handles) return;
    const { map, project } = handles;
    const current = incidentMarkers.current;
    for (const [id, entry] of current) {
      if (!incidents.has(id)) {
        entry.marker.remove();
        current.delete(id);
      }
    }
    const now = Date.now();
    for (const incident of incidents.values()) {
      const entry = current.get(incident.id);
      const icon = L.divIcon({
        className: `incident-marker incident-marker--${incident.kind} incident-marker--${incident.status}`,
        html: '<span class="incident-marker__pulse"></span><span class="incident-marker__dot"></span>',
        iconSize: [26, 26],
        iconAnchor: [13, 13],
        popupAnchor: [0, -12],
      });
      if (!entry) {
        const marker = L.marker(project(incident.elevator.lat, incident.elevator.lng), {
          icon,
          zIndexOffset: incident.kind === "entrapment" ? 1000 : 500,
          title: incident.code,
          riseOnHover: true,
        })
          .bindPopup(incidentPopup(incident, t, i18n.language, now), { minWidth: 240, maxWidth: 320 })
          .on("click", () => onSelectRef.current(incident.id))
          .addTo(map);
        current.set(incident.id, { marker, incident });
      } else if (entry.incident !== incident) {
        entry.marker.setLatLng(project(incident.elevator.lat, incident.elevator.lng));
        if (entry.incident.status !== incident.status || entry.incident.kind !== incident.kind) entry.marker.setIcon(icon);
        entry.marker.setPopupContent(incidentPopup(incident, t, i18n.language, now));
        entry.incident = incident;
      }
    }
  }, [handles, incidents, t, i18n.language]);

  // Keep the elapsed time in an open popup live; rebuilding the rest on language change too.
  useEffect(() => {
    const refresh = () => {
      const now = Date.now();
      for (const { marker, incident } of incidentMarkers.current.values()) {
        if (marker.isPopupOpen()) marker.setPopupContent(incidentPopup(incident, t, i18n.language, now));
      }
    };
    refresh();
    const timer = setInterval(refresh, 1000);
    return () => clearInterval(timer);
  }, [t, i18n.language, handles]);

  useEffect(() => {
    for (const [id, { marker }] of incidentMarkers.current) {
      marker.getElement()?.classList.toggle("incident-marker--selected", id === selectedId);
    }
  }, [selectedId, incidents, handles]);

  // The selected incident's teams: a dashed line from each team on it (live position) to the elevator.
  useEffect(() => {
    if (!handles || selectedId === null) return;
    const incident = incidents.get(selectedId);
    if (!incident) return;
    const { map, project } = handles;
    const lines = activeOffers(incident).flatMap((offer) => {
      const team = teams.get(offer.teamId);
      if (!team) return [];
      return [
        L.polyline([project(team.lat, team.lng), project(incident.elevator.lat, incident.elevator.lng)], {
          color: offer.status === "offered" ? teamColours.offered : teamColours.busy,
          weight: 3,
          opacity: 0.85,
          dashArray: offer.backup ? "2 6" : "8 6",
          interactive: false,
          className: "offer-line",
        }).addTo(map),
      ];
    });
    return () => {
      for (const line of lines) line.remove();
    };
  }, [handles, selectedId, incidents, teams]);

  useEffect(() => {
    if (!handles || !flyTo) return;
    const entry = incidentMarkers.current.get(flyTo.id);
    if (!entry) return;
    const { map } = handles;
    const target = entry.marker.getLatLng();
    map.flyTo(target, Math.max(map.getZoom(), 16), { duration: 0.8 });
    map.once("moveend", () => entry.marker.openPopup());
    // Only a new request (nonce) moves the map, not later incident updates.
  }, [handles, flyTo]);

  return (
    <div className="map">
      <div ref={containerRef} className="map__canvas" data-testid="map" />
      <div className="map__overlay map__overlay--top">
        {tileWarning && <div className="map__notice map__notice--warn">{t(tileWarning)}</div>}
        {stats && stats.hiddenByZoom && (
          <div className="map__notice" data-testid="elevator-hint">
            {t("map.zoomForElevators", { zoom: ELEVATOR_MIN_ZOOM, count: stats.total.toLocaleString(i18n.language) })}
          </div>
        )}
        {stats && !stats.hiddenByZoom && (
          <div className="map__notice" data-testid="elevator-hint">
            {t("map.elevatorsShown", {
              shown: stats.shown.toLocaleString(i18n.language),
              count: stats.total.toLocaleString(i18n.language),
            })}
            {stats.sampled && <> · {t("map.elevatorsSampled")}</>}
          </div>
        )}
      </div>
      <div className="map__legend" aria-label={t("map.legend")}>
        <div className="legend__row">
          <span className="legend__incident" />
          {t("map.incident")}
        </div>
        {(["available", "offered", "busy", "offline"] as const).map((s) => (
          <div key={s} className="legend__row">
            <span className="legend__dot legend__dot--team" style={{ background: teamColours[s] }} />
            {t(`teamStatus.${s}`)}
            {s === "offline" && ` / ${t("teamStatus.off_duty")}`}
          </div>
        ))}
        <div className="legend__row">
          <span className="legend__dot legend__dot--elevator" />
          {t("map.elevator")}
        </div>
      </div>
    </div>
  );
}
