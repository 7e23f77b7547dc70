import gcoord, { type GeoJSON as GcoordGeoJSON } from "gcoord";
import type { TileProvider } from "../api.ts";

/** Maps a stored WGS-84 position to the datum of the chosen base map. */
export type Projector = (lat: number, lng: number) => [number, number];

const identity: Projector = (lat, lng) => [lat, lng];

const toGcj02: Projector = (lat, lng) => {
  const [x, y] = gcoord.transform([lng, lat], gcoord.WGS84, gcoord.GCJ02);
  return [y, x];
};

/** Only AMap (Gaode) tiles are GCJ-02; OSM and Tianditu (CGCS2000) are WGS-84 for display purposes. */
export function projectorFor(tiles: TileProvider): Projector {
  return tiles === "amap" ? toGcj02 : identity;
}

export function projectGeometry(geometry: unknown, tiles: TileProvider): unknown {
  if (tiles !== "amap" || !geometry || typeof geometry !== "object") return geometry;
  // gcoord rewrites GeoJSON coordinates in place; keep the stored geometry untouched.
  return gcoord.transform(structuredClone(geometry) as GcoordGeoJSON, gcoord.WGS84, gcoord.GCJ02);
}
