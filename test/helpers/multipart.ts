/** A multipart/form-data body for app.inject, built by the platform's own FormData. */
export async function multipart(fields: Record<string, string | { name: string; data: Buffer | string; type?: string }>): Promise<{ payload: Buffer; headers: Record<string, string> }> {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) {
    if (typeof value === 'string') form.append(key, value);
    else form.append(key, new Blob([value.data], { type: value.type ?? 'application/octet-stream' }), value.name);
  }
  const req = new Request('http://localhost/', { method: 'POST', body: form });
  return { payload: Buffer.from(await req.arrayBuffer()), headers: { 'content-type': req.headers.get('content-type')! } };
}
