// Text the task did not write (PAT names, server messages, group names, UPNs) must never become a logging command.
// The agent reads stdout line by line (a line ends at \n, \r\n or a bare \r) and treats the first `##vso[` ANYWHERE in
// a line as a command; `##[` at a line's start formats the log. It compares culture-sensitively, so characters that
// collation ignores (zero-width and other format characters) between the `#`s do not break the marker. Every log line
// and every summary cell passes through here.

/** Characters a culture-sensitive comparison may skip, and other controls: removed before the marker check. */
const IGNORABLE = /[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\p{Co}\p{Cs}]/gu;
const LINE_BREAK = /\r\n|[\r\n\u0085\u2028\u2029]/g;

/**
 * One line of inert text: line breaks become '⏎', tabs a space, ignorable and control characters are dropped, and
 * no two '#' stay adjacent (the first becomes the full-width '＃'), so neither `##vso[` nor `##[` can remain.
 */
export function inert(text: string): string {
  return String(text)
    .replace(LINE_BREAK, ' ⏎ ')
    .replace(/\t/g, ' ')
    .replace(IGNORABLE, '')
    .replace(/#(?=#)/g, '＃');
}

/** A markdown table cell: inert, with markdown and HTML syntax escaped so a name cannot add links, HTML or columns. */
export function markdownCell(text: string): string {
  return inert(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_{}[\]()#+!|~]/g, (c) => `\\${c}`);
}
