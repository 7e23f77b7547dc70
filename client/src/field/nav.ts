import gcoord from "gcoord";

export interface NavTarget {
  /** WGS-84, as the platform stores positions. */
  lat: number;
  lng: number;
  name: string;
  address: string;
}

export interface NavLink {
  app: "amap" | "baidu" | "apple";
  href: string;
}

const fixed = (n: number) => n.toFixed(6);

/**
 * Links that open the elevator in each map app, in the coordinate system that app reads: AMap (Gaode)
 * GCJ-02, Baidu BD-09, Apple Maps WGS-84 (it converts for display itself). The web URLs open the native
 * app when it is installed and a web map otherwise.
 */
export function navigationLinks(target: NavTarget): NavLink[] {
  const [gcjLng, gcjLat] = gcoord.transform([target.lng, target.lat], gcoord.WGS84, gcoord.GCJ02);
  const [bdLng, bdLat] = gcoord.transform([target.lng, target.lat], gcoord.WGS84, gcoord.BD09);
  const name = encodeURIComponent(target.name);
  const address = encodeURIComponent(target.address);
  return [
    { app: "amap", href: `https://uri.amap.com/marker?position=${fixed(gcjLng!)},${fixed(gcjLat!)}&name=${name}&coordinate=gaode&callnative=1` },
    {
      app: "baidu",
      href: `https://api.map.baidu.com/marker?location=${fixed(bdLat!)},${fixed(bdLng!)}&title=${name}&content=${address}&coord_type=bd09ll&output=html&src=lift96333.field`,
    },
    { app: "apple", href: `https://maps.apple.com/?ll=${fixed(target.lat)},${fixed(target.lng)}&q=${name}` },
  ];
}
