import L from "leaflet";
import type { ClientConfig } from "../api.ts";

export interface BaseLayers {
  layers: L.TileLayer[];
  /** i18n key of a warning to show when the configured provider cannot be used. */
  warning: string | null;
}

function tianditu(layer: "vec" | "cva", key: string): L.TileLayer {
  return L.tileLayer(
    `https://t{s}.tianditu.gov.cn/${layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0` +
      `&LAYER=${layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}` +
      `&tk=${encodeURIComponent(key)}`,
    {
      subdomains: ["0", "1", "2", "3", "4", "5", "6", "7"],
      maxZoom: 18,
      attribution: layer === "vec" ? "&copy; 天地图 Tianditu" : "",
    },
  );
}

export function baseLayers(config: ClientConfig): BaseLayers {
  switch (config.tiles) {
    case "osm":
      return {
        layers: [
          L.tileLayer("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", {
            subdomains: ["a", "b", "c"],
            maxZoom: 19,
            attribution: '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
          }),
        ],
        warning: null,
      };
    case "tianditu":
      if (!config.tiandituKey) return { layers: [], warning: "errors.tiandituKey" };
      return { layers: [tianditu("vec", config.tiandituKey), tianditu("cva", config.tiandituKey)], warning: null };
    case "amap":
      return {
        layers: [
          L.tileLayer("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}", {
            subdomains: ["1", "2", "3", "4"],
            maxZoom: 18,
            attribution: "&copy; 高德地图 AutoNavi",
          }),
        ],
        warning: null,
      };
    case "none":
    default:
      return { layers: [], warning: null };
  }
}
