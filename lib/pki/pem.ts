// PEM armour with Unix line endings (node-forge's own encoder writes CRLF).

export function derToPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Every PEM block in a text, with its label. */
export function pemBlocks(text: string): Array<{ label: string; der: Buffer; pem: string }> {
  const out: Array<{ label: string; der: Buffer; pem: string }> = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----\r?\n?/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push({ label: m[1]!, der: Buffer.from(m[2]!.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64'), pem: m[0] });
  }
  return out;
}

/** A certificate as one PEM block ending in a newline (what bundles and chain files are made of). */
export function certificatePem(cert: { toString(): string }): string {
  return cert.toString().trim() + '\n';
}
