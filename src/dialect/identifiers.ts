// Target identifiers: every name is quoted, always, so no table or column name (`select`,
// `drop_table__x`, a mapped schema) can change the statement around it.

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** MySQL database → target schema, through [target] schema_mapping (unmapped names stay). */
export function targetSchema(database: string, mapping: Record<string, string>): string {
  return mapping[database] ?? database;
}

export function qualifiedTable(database: string, table: string, mapping: Record<string, string>): string {
  return `${quoteIdent(targetSchema(database, mapping))}.${quoteIdent(table)}`;
}
