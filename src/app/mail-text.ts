/** One line, for a mail header (a subject): control characters become spaces, and long text is cut with an ellipsis. */
export const oneLine = (s: string, max: number): string => {
  const line = s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};
