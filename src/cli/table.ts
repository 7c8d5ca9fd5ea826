/** Rows as kubectl prints them: columns padded to their widest cell (counted in graphemes, not UTF-16 units). */
export function tableLines(rows: readonly (readonly string[])[], gap = '   '): string[] {
  const width = (cell: string) => Array.from(new Intl.Segmenter().segment(cell)).length;
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => width(row[column] ?? '')))) ?? [];
  return rows.map((row) =>
    row
      .map((cell, column) => cell + ' '.repeat(Math.max(0, (widths[column] ?? 0) - width(cell))))
      .join(gap)
      .trimEnd(),
  );
}

export const table = (rows: readonly (readonly string[])[]): string => `${tableLines(rows).join('\n')}\n`;
