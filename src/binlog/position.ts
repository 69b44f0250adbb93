// The order of binlog positions on one server: files by the number after the last dot
// (mysql-bin.000009 < mysql-bin.000010, and past 999999 the number grows a digit), then
// the byte offset in the file.

export interface BinlogPosition {
  file: string;
  pos: number;
}

function fileNumber(file: string): number {
  const dot = file.lastIndexOf(".");
  const n = Number(file.slice(dot + 1));
  return Number.isFinite(n) ? n : Number.NaN;
}

/** Negative when `a` is before `b`, 0 when equal, positive after. */
export function comparePositions(a: BinlogPosition, b: BinlogPosition): number {
  if (a.file !== b.file) {
    const na = fileNumber(a.file);
    const nb = fileNumber(b.file);
    if (Number.isNaN(na) || Number.isNaN(nb)) return a.file < b.file ? -1 : 1;
    if (na !== nb) return na - nb;
  }
  return a.pos - b.pos;
}
