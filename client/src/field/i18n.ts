import i18next from "i18next";
import { initReactI18next } from "react-i18next";
import { initialLanguage, rememberLanguage } from "../i18n/language.ts";

const zhCN = {
  title: "96333 救援",
  login: { title: "救援人员登录", username: "用户名", password: "密码", submit: "登录", notRescuer: "此应用仅供救援人员使用，请用调度台。", failed: "登录失败：{{message}}" },
  team: { none: "此账号未分配救援队伍", onDuty: "值班中", offDuty: "未值班", toggleOn: "开始值班", toggleOff: "结束值班", busyNote: "有任务时不能切换值班状态" },
  status: { available: "待命", offered: "派单中", busy: "任务中", off_duty: "未值班", offline: "离线" },
  position: { none: "尚未取得定位", sharing: "定位共享中 · 精度 {{accuracy}} 米", denied: "无法取得定位：{{message}}" },
  offer: {
    title: "新的救援任务",
    rescueCode: "救援识别码",
    trapped: "被困人数",
    unknown: "未知",
    distance: "距离",
    countdown: "剩余应答时间",
    accept: "接单",
    decline: "拒单",
    declineReason: "拒单原因",
    declineSubmit: "确认拒单",
    reasons: { busy: "正在处理其他救援", far: "距离太远", vehicle: "车辆故障", staff: "人员不足", other: "其他" },
    notification: "新的救援任务：{{address}}",
  },
  job: {
    title: "当前任务",
    status: "状态",
    navigate: "导航",
    amap: "高德地图",
    baidu: "百度地图",
    apple: "苹果地图",
    depart: "出发",
    arrive: "到场",
    freed: "已解困",
    freedCount: "解救人数",
    injuredCount: "受伤人数",
    freedSubmit: "确认解困",
    note: "备注",
    noteSubmit: "保存备注",
    photo: "拍照上传",
    arrived: "已到场",
    tooFar: "距电梯 {{distance}} 米，需在 {{radius}} 米以内才能确认到场（无定位时请联系调度员确认）",
    noFix: "需要定位才能确认到场（或联系调度员确认）",
    photoTooLarge: "照片太大（{{size}} MB），最多 3 MB",
    photoType: "只能上传 JPEG、PNG 或 WebP 照片",
    done: "任务已结束",
    queued: "已记录，待发送",
  },
  incidentStatus: { reported: "已接报", dispatched: "已派单", accepted: "已接单", en_route: "途中", on_scene: "已到场", released: "已解困", closed: "已结案", cancelled: "已取消", false_alarm: "误报" },
  queue: { offline: "网络已断开", pending: "{{count}} 项待发送：{{kinds}}", refused: "未被接受：{{kind}} — {{message}}", dismiss: "知道了" },
  kinds: { accept: "接单", decline: "拒单", depart: "出发", arrive: "到场", freed: "解困", note: "备注", photo: "照片" },
  idle: "暂无任务。值班时新任务会全屏提醒。",
  logout: "退出",
  language: "English",
};

const en: typeof zhCN = {
  title: "96333 Rescue",
  login: { title: "Rescuer sign-in", username: "Username", password: "Password", submit: "Sign in", notRescuer: "This app is for rescuers; please use the dispatch console.", failed: "Sign-in failed: {{message}}" },
  team: { none: "This account belongs to no team", onDuty: "On duty", offDuty: "Off duty", toggleOn: "Go on duty", toggleOff: "Go off duty", busyNote: "Duty cannot change while the team has a job" },
  status: { available: "Available", offered: "Offered", busy: "On a job", off_duty: "Off duty", offline: "Offline" },
  position: { none: "No position yet", sharing: "Sharing position · accuracy {{accuracy}} m", denied: "No position: {{message}}" },
  offer: {
    title: "New rescue job",
    rescueCode: "Rescue code",
    trapped: "Trapped",
    unknown: "unknown",
    distance: "Distance",
    countdown: "Time left to answer",
    accept: "Accept",
    decline: "Decline",
    declineReason: "Reason",
    declineSubmit: "Decline job",
    reasons: { busy: "On another rescue", far: "Too far away", vehicle: "Vehicle breakdown", staff: "Not enough staff", other: "Other" },
    notification: "New rescue job: {{address}}",
  },
  job: {
    title: "Current job",
    status: "Status",
    navigate: "Navigate",
    amap: "AMap",
    baidu: "Baidu Maps",
    apple: "Apple Maps",
    depart: "Depart",
    arrive: "On scene",
    freed: "Passengers freed",
    freedCount: "Freed",
    injuredCount: "Injured",
    freedSubmit: "Confirm freed",
    note: "Note",
    noteSubmit: "Save note",
    photo: "Take photo",
    arrived: "On scene",
    tooFar: "You are {{distance}} m from the elevator; on scene needs {{radius}} m or less (without a position, ask the dispatcher to confirm)",
    noFix: "On scene needs your position (or the dispatcher's confirmation)",
    photoTooLarge: "Photo too large ({{size}} MB); at most 3 MB",
    photoType: "Only JPEG, PNG or WebP photos",
    done: "The job has ended",
    queued: "Recorded, waiting to be sent",
  },
  incidentStatus: { reported: "Reported", dispatched: "Dispatched", accepted: "Accepted", en_route: "En route", on_scene: "On scene", released: "Freed", closed: "Closed", cancelled: "Cancelled", false_alarm: "False alarm" },
  queue: { offline: "Offline", pending: "{{count}} waiting to be sent: {{kinds}}", refused: "Not accepted: {{kind}} — {{message}}", dismiss: "Dismiss" },
  kinds: { accept: "accept", decline: "decline", depart: "depart", arrive: "on scene", freed: "freed", note: "note", photo: "photo" },
  idle: "No job. While on duty a new job fills the screen.",
  logout: "Sign out",
  language: "中文",
};

void i18next.use(initReactI18next).init({
  resources: { "zh-CN": { translation: zhCN }, en: { translation: en } },
  lng: initialLanguage(),
  fallbackLng: "zh-CN",
  interpolation: { escapeValue: false },
  returnNull: false,
});
document.documentElement.lang = i18next.language;

export function toggleLanguage(): void {
  const next = i18next.language === "en" ? "zh-CN" : "en";
  void i18next.changeLanguage(next);
  document.documentElement.lang = next;
  rememberLanguage(next);
}
