// Text the task did not write (PAT names, server messages, group names, UPNs) must never become a logging command.
// The agent reads stdout line by line (a line ends at \n, \r\n or a bare \r) and treats the first `##vso[` ANYWHERE in
// a line as a command; `##[` at a line's start formats the log. It compares culture-sensitively (ICU), which skips
// hundreds of characters (zero-width, format, some letters' marks) between the `#`s, so no list of characters to
// drop is complete: every `#` of outside text becomes the full-width '＃', which collation does not equate with '#'.
// Every log line and every summary cell passes through here.

/** Characters a culture-sensitive comparison may skip, and other controls: removed before the marker check. */
const IGNORABLE = /[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\p{Co}\p{Cs}]/gu;
const LINE_BREAK = /\r\n|[\r\n\u0085\u2028\u2029]/g;

/**
 * One line of inert text: line breaks become '⏎', tabs a space, ignorable and control characters are dropped, and
 * every '#' becomes '＃', so neither `##vso[` nor `##[` can remain in any form.
 */
export function inert(text: string): string {
  return String(text).replace(LINE_BREAK, ' ⏎ ').replace(/\t/g, ' ').replace(IGNORABLE, '').replace(/#/g, '＃');
}

/**
 * A markdown table cell: inert, with markdown and HTML syntax escaped so a name cannot add links, HTML or columns.
 * '/' becomes an entity, so no URL in a name is turned into a link by autolinking.
 */
export function markdownCell(text: string): string {
  return inert(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\//g, '&#47;')
    .replace(/[\\`*_{}[\]()+!|~]/g, (c) => `\\${c}`);
}
