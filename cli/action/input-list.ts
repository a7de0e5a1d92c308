import { parse } from 'csv-parse/sync';

/** How one list input is read, as docker/actions-toolkit's `Util.getList` takes its options. */
export interface ListOptions {
  /** Commas inside a line belong to the item (`build-args`, `labels`, `outputs`...). */
  ignoreComma?: boolean;
  /** A comment character; nothing by default, so `#` is part of a value. */
  comment?: string;
  /** With `comment`: only lines that start with it are comments. */
  commentNoInfix?: boolean;
  /** The quote character, or false to keep quotes as text (`outputs`). Default `"`. */
  quote?: string | false;
  /** Trim each item (default true; `secrets` keeps its whitespace). */
  trimWhitespace?: boolean;
}

/**
 * A list input as docker/build-push-action reads it: newline-separated, or comma-separated, with CSV
 * quoting (a quoted item may hold newlines and commas, `""` is a quote), empty items dropped.
 */
export function parseInputList(input: string, opts: ListOptions = {}): string[] {
  if (input === '') return [];
  const records = parse(input, {
    columns: false,
    relax_quotes: true,
    relax_column_count: true,
    skip_empty_lines: true,
    ...(opts.comment !== undefined ? { comment: opts.comment } : {}),
    ...(opts.commentNoInfix !== undefined ? { comment_no_infix: opts.commentNoInfix } : {}),
    ...(opts.quote !== undefined ? { quote: opts.quote } : {}),
  }) as string[][];
  const items: string[] = [];
  for (const record of records) {
    // One field: the CSV parser saw no unquoted comma; a quoted one still splits unless commas are kept.
    if (record.length === 1) items.push(...(opts.ignoreComma ? record : record[0]!.split(',')));
    else if (opts.ignoreComma) items.push(record.join(','));
    else items.push(...record);
  }
  return items.filter((item) => item !== '').map((item) => (opts.trimWhitespace === false ? item : item.trim()));
}
