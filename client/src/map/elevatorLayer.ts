import L from "leaflet";
import type { ElevatorPoints } from "../../../server/contracts/index.ts";
import type { Projector } from "./coords.ts";

/** Below this many elevators everything is drawn at every zoom. */
const DRAW_ALL_LIMIT = 5000;
export const ELEVATOR_MIN_ZOOM = 12;
/** Most circle markers kept on the canvas at once; denser views are sampled evenly. */
const MAX_DRAWN = 5000;
const CELL_DEG = 0.02;

export interface ElevatorStats {
  total: number;
  shown: number;
  hiddenByZoom: boolean;
  sampled: boolean;
}

const cellKey = (cx: number, cy: number) => cx * 100_000 + cy;

/** Knuth multiplicative hash of the index, mapped to [0, 1). */
const sampleRank = (i: number) => (Math.imul(i + 1, 2654435761) >>> 0) / 4294967296;

/**
 * Keeps at most MAX_DRAWN canvas circle markers for the elevators in view and diffs them on
 * every move, so 200,000 elevators cost a grid lookup per pan instead of 200,000 layers.
 */
export class ElevatorLayer {
  readonly group: L.FeatureGroup;
  private readonly lat: Float64Array;
  private readonly lng: Float64Array;
  private readonly grid = new Map<number, number[]>();
  private readonly drawn = new Map<number, L.CircleMarker>();
  private readonly indexOf = new WeakMap<L.Layer, number>();

  constructor(
    private readonly map: L.Map,
    private readonly renderer: L.Renderer,
    private readonly points: ElevatorPoints,
    project: Projector,
    private readonly onStats: (stats: ElevatorStats) => void,
    private readonly afterDraw: () => void,
    popupHtml: (index: number) => string,
  ) {
    const n = points.count;
    this.lat = new Float64Array(n);
    this.lng = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const [la, ln] = project(points.lat[i] ?? 0, points.lng[i] ?? 0);
      this.lat[i] = la;
      this.lng[i] = ln;
      const key = cellKey(Math.floor(ln / CELL_DEG), Math.floor(la / CELL_DEG));
      const cell = this.grid.get(key);
      if (cell) cell.push(i);
      else this.grid.set(key, [i]);
    }
    this.group = L.featureGroup().addTo(map);
    this.group.on("click", (e: L.LeafletEvent & { layer?: L.Layer }) => {
      const index = e.layer ? this.indexOf.get(e.layer) : undefined;
      if (index === undefined) return;
      L.popup({ className: "elevator-popup" })
        .setLatLng([this.lat[index] ?? 0, this.lng[index] ?? 0])
        .setContent(popupHtml(index))
        .openOn(map);
    });
    map.on("moveend", this.update);
    this.update();
  }

  readonly update = (): void => {
    const total = this.points.count;
    let wanted: number[];
    let hiddenByZoom = false;
    let sampled = false;
    if (total <= DRAW_ALL_LIMIT) {
      wanted = Array.from({ length: total }, (_, i) => i);
    } else if (this.map.getZoom() < ELEVATOR_MIN_ZOOM) {
      wanted = [];
      hiddenByZoom = true;
    } else {
      wanted = this.inBounds(this.map.getBounds().pad(0.25));
      if (wanted.length > MAX_DRAWN) {
        // A fixed pseudo-random rank per elevator keeps samples nested across pans and zooms,
        // so each move only adds/removes the difference instead of redrawing a new sample.
        const threshold = MAX_DRAWN / wanted.length;
        wanted = wanted.filter((i) => sampleRank(i) < threshold);
        sampled = true;
      }
    }

    const keep = new Set(wanted);
    for (const [i, marker] of this.drawn) {
      if (!keep.has(i)) {
        this.group.removeLayer(marker);
        this.drawn.delete(i);
      }
    }
    let added = 0;
    for (const i of wanted) {
      if (this.drawn.has(i)) continue;
      const marker = L.circleMarker([this.lat[i] ?? 0, this.lng[i] ?? 0], {
        renderer: this.renderer,
        radius: 3,
        weight: 1,
        color: this.points.hasDevice[i] ? "#5b6470" : "#8a929c",
        fillColor: this.points.hasDevice[i] ? "#7d8793" : "#b3b9c0",
        fillOpacity: 0.85,
        opacity: 0.9,
      });
      this.indexOf.set(marker, i);
      this.drawn.set(i, marker);
      this.group.addLayer(marker);
      added++;
    }
    if (added > 0) this.afterDraw();
    this.onStats({ total, shown: this.drawn.size, hiddenByZoom, sampled });
  };

  private inBounds(b: L.LatLngBounds): number[] {
    const south = b.getSouth();
    const north = b.getNorth();
    const west = b.getWest();
    const east = b.getEast();
    const out: number[] = [];
    for (let cx = Math.floor(west / CELL_DEG); cx <= Math.floor(east / CELL_DEG); cx++) {
      for (let cy = Math.floor(south / CELL_DEG); cy <= Math.floor(north / CELL_DEG); cy++) {
        const cell = this.grid.get(cellKey(cx, cy));
        if (!cell) continue;
        for (const i of cell) {
          const la = this.lat[i] ?? 0;
          const ln = this.lng[i] ?? 0;
          if (la >= south && la <= north && ln >= west && ln <= east) out.push(i);
        }
      }
    }
    return out;
  }

  remove(): void {
    this.map.off("moveend", this.update);
    this.group.clearLayers();
    this.group.remove();
    this.drawn.clear();
  }
}
