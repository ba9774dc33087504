// "1 file", "2 files": the one plural rule dbtls's messages and lines use.
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
