import ExcelJS from "exceljs";
import type { Response } from "express";

/** A table as the exports write it: ordered columns with Chinese headers, rows of plain values. */
export interface ExportTable {
  /** File name without extension (ASCII: it also goes into Content-Disposition). */
  name: string;
  columns: { key: string; header: string }[];
  rows: Record<string, string | number | null>[];
}

const BOM = "\uFEFF";

function csvCell(value: string | number | null): string {
  if (value === null) return "";
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** RFC 4180 CSV, UTF-8 with a byte-order mark so that Excel opens Chinese text correctly. */
export function toCsv(table: ExportTable): string {
  const lines = [table.columns.map((c) => csvCell(c.header)).join(",")];
  for (const row of table.rows) lines.push(table.columns.map((c) => csvCell(row[c.key] ?? null)).join(","));
  return BOM + lines.join("\r\n") + "\r\n";
}

export async function toXlsx(table: ExportTable): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = "96333";
  const sheet = workbook.addWorksheet(table.name.slice(0, 31));
  sheet.columns = table.columns.map((c) => ({ header: c.header, key: c.key, width: Math.max(10, c.header.length * 2 + 2) }));
  sheet.getRow(1).font = { bold: true };
  for (const row of table.rows) sheet.addRow(row);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

export const exportFormats = ["json", "csv", "xlsx"] as const;
export type ExportFormat = (typeof exportFormats)[number];

/** Writes the table as a download; the caller returns nothing more. */
export async function sendTable(res: Response, table: ExportTable, format: "csv" | "xlsx"): Promise<void> {
  if (format === "csv") {
    res.setHeader("content-type", "text/csv; charset=utf-8");
    res.setHeader("content-disposition", `attachment; filename="${table.name}.csv"`);
    res.status(200).send(toCsv(table));
    return;
  }
  const body = await toXlsx(table);
  res.setHeader("content-type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
  res.setHeader("content-disposition", `attachment; filename="${table.name}.xlsx"`);
  res.status(200).send(body);
}
